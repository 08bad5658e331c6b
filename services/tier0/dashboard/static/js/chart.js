// Charts drawn as inline SVG: a time-series line chart and a horizontal bar chart. No library:
// the dashboard has no build step and downloads nothing.

const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#2457c5', '#d9480f', '#2b8a3e', '#ae3ec9', '#1098ad', '#e8590c',
  '#5c940d', '#c2255c', '#495057', '#f59f00'];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function ticks(min, max, count = 4) {
  if (min === max) { min -= 1; max += 1; }
  const raw = (max - min) / count;
  const step = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map(m => m * step).find(s => s >= raw) || raw;
  // From the tick at or below min to the one at or above max, so every point is in range.
  const start = Math.floor(min / nice) * nice;
  const end = Math.ceil(max / nice) * nice;
  const values = [];
  for (let v = start; v <= end + nice * 1e-6; v += nice) values.push(+v.toPrecision(12));
  return values;
}

function label(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(abs < 10 ? 2 : 0)}`;
}

// series: [{ name, points: [{ t: Date, v: number }] }]
export function lineChart(series, { width = 640, height = 220 } = {}) {
  const pad = { left: 48, right: 12, top: 10, bottom: 24 };
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const all = series.flatMap(s => s.points);
  if (!all.length) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', fill: '#667085' },
      'no readings in this window'));
    return root;
  }
  const times = all.map(p => p.t.getTime());
  const values = all.map(p => p.v);
  const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1000);
  const yTicks = ticks(Math.min(...values), Math.max(...values));
  const v0 = yTicks[0], v1 = yTicks[yTicks.length - 1];
  const x = t => pad.left + (t - t0) / (t1 - t0) * (width - pad.left - pad.right);
  const y = v => height - pad.bottom - (v - v0) / (v1 - v0 || 1) * (height - pad.top - pad.bottom);
  for (const v of yTicks) {
    root.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: '#e3e6eb' }));
    root.append(svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#667085' }, label(v)));
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (t1 - t0) * i / 4;
    const text = new Date(t).toISOString().slice(11, 16);
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    root.append(svg('text', { x: x(t), y: height - 6, 'text-anchor': anchor, 'font-size': 11, fill: '#667085' }, text));
  }
  series.forEach((s, i) => {
    const points = s.points.map(p => `${x(p.t.getTime()).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    const line = svg('polyline', { points, fill: 'none', stroke: PALETTE[i % PALETTE.length], 'stroke-width': 1.8 });
    line.append(svg('title', {}, s.name));
    root.append(line);
  });
  return root;
}

// bars: [{ name, value, color? }], drawn left to right with their values.
export function barChart(bars, { width = 560, unit = '' } = {}) {
  const row = 24, left = 110, right = 70;
  const height = Math.max(row, bars.length * row) + 8;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const max = Math.max(...bars.map(b => b.value), 1e-9);
  bars.forEach((b, i) => {
    const top = 4 + i * row;
    const length = (width - left - right) * b.value / max;
    root.append(svg('text', { x: left - 8, y: top + 15, 'text-anchor': 'end', 'font-size': 12, fill: '#1c2330' }, b.name));
    root.append(svg('rect', { x: left, y: top + 4, width: Math.max(length, 1), height: row - 9, rx: 3, fill: b.color || PALETTE[0] }));
    root.append(svg('text', { x: left + length + 6, y: top + 15, 'font-size': 12, fill: '#667085' }, `${label(b.value)}${unit}`));
  });
  return root;
}

export function legend(names) {
  const box = document.createElement('div');
  box.className = 'legend';
  names.forEach((name, i) => {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = PALETTE[i % PALETTE.length];
    item.append(swatch, name);
    box.append(item);
  });
  return box;
}
