// Small DOM helpers: build elements with text (never innerHTML of API data) and format numbers.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function fmt(value, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function when(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return date.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function ago(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

export function card(label, value, tone = '') {
  return h('div', { class: `card ${tone}`, 'data-card': label },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

export function state(text) {
  return h('span', { class: `state ${text}` }, text ?? '–');
}

// A table from column specs: [{ title, value: row => node|text, num: bool }].
export function fillTable(table, columns, rows, empty = 'Nothing to show yet.') {
  const head = h('thead', {}, h('tr', {}, columns.map(c => h('th', { class: c.num ? 'num' : '' }, c.title))));
  const body = h('tbody', {}, rows.length
    ? rows.map(row => h('tr', {}, columns.map(c => h('td', { class: c.num ? 'num' : '' }, c.value(row)))))
    : h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, empty)));
  table.replaceChildren(head, body);
}
