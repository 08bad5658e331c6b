// AI query: a question, the cited answer with [n] markers linked to their citations, which
// sources were consulted, and the figures each source computed (log aggregates, devices, images).

import { api } from './api.js';
import { h } from './dom.js';

const form = document.getElementById('query-form');
const box = document.getElementById('query-answer');
export const manual = true;  // answers are asked for, not polled

function citationText(c) {
  if (c.source === 'documents') {
    return [c.document, c.page ? `page ${c.page}` : null, c.chunk_id ? `chunk ${c.chunk_id}` : null].filter(Boolean).join(' · ');
  }
  const filters = c.filters ? Object.entries(c.filters).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : '';
  return [c.store, c.query, filters].filter(Boolean).join(' · ');
}

function focus(id) {
  for (const item of box.querySelectorAll('ol.citations li')) item.classList.toggle('focus', item.id === `cite-${id}`);
  const item = box.querySelector(`#cite-${id}`);
  if (!item) return;
  const figures = box.querySelector(`details[data-source="${item.dataset.source}"]`);
  if (figures) figures.open = true;
  item.scrollIntoView({ block: 'nearest' });
}

// "... as logged [2]." -> text nodes and links; a marker with no citation stays text.
function linkMarkers(text, ids) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const id = Number(match[1]);
    if (!ids.has(id)) continue;
    parts.push(text.slice(last, match.index));
    parts.push(h('a', { class: 'cite', href: `#cite-${id}`, 'data-cite': id,
      onclick: event => { event.preventDefault(); focus(id); } }, `[${id}]`));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function render(result) {
  const ids = new Set(result.citations.map(c => c.id));
  box.replaceChildren(
    h('p', { class: 'muted' }, `Sources used: ${result.sources.join(', ') || 'none'} · answer: ${result.answer_mode}${result.cached ? ' · cached' : ''}`),
    h('div', { class: 'text', 'data-answer': '' }, linkMarkers(result.answer, ids)),
    h('h2', {}, 'Citations'),
    h('ol', { class: 'citations' }, result.citations.map(c => h('li', { id: `cite-${c.id}`, value: c.id, 'data-source': c.source },
      h('strong', {}, c.source), ' — ', citationText(c)))),
    ...Object.entries(result.figures || {}).map(([source, figures]) => h('details', { 'data-source': source },
      h('summary', {}, `What ${source} returned`), h('pre', {}, JSON.stringify(figures, null, 2)))),
  );
}

export function init({ showError }) {
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const question = form.elements.question.value.trim();
    if (!question) return;
    const button = form.querySelector('button');
    button.disabled = true;
    box.replaceChildren(h('p', { class: 'muted' }, 'Thinking…'));
    try {
      render(await api('api/query', { method: 'POST', body: { question } }));
    } catch (error) {
      box.replaceChildren(h('p', { class: 'error-inline' }, `No answer: ${error.message}`));
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}

export async function refresh() {}
