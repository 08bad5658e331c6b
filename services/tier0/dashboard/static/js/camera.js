// Camera intelligence: safety-gear compliance by site and by device type, and the images with
// missing gear (hard hat, vest, inspection gear) with their details.

import { api } from './api.js';
import { h, fmt, when, card, fillTable } from './dom.js';

const TYPES = ['turbine', 'thermal_engine', 'electrical_rotor', 'oil_gas'];

function scoreCell(score) {
  if (score === null || score === undefined) return '–';
  return h('span', { class: 'score' }, h('span', { class: 'bar', style: `width:${Math.round(score * 0.8)}px` }), ` ${fmt(score, 1)}`);
}

const COMPLIANCE_COLUMNS = (key, title) => [
  { title, value: r => r[key] },
  { title: 'Score', value: r => scoreCell(r.average_score) },
  { title: 'Images', num: true, value: r => fmt(r.images) },
  { title: 'Workers', num: true, value: r => fmt(r.workers) },
  { title: 'Fully compliant', num: true, value: r => fmt(r.fully_compliant) },
  { title: 'Missing gear', value: r => Object.entries(r.missing).filter(([, n]) => n).map(([g, n]) => `${g} ${n}`).join(', ') || 'none' },
];

function violation(image) {
  const detail = [
    ['Device', `${image.device_id} (${image.device_type})`], ['Site', image.site_id],
    ['Camera', image.camera_id], ['Captured', when(image.captured_at)],
    ['Workers', image.workers], ['Score', fmt(image.compliance_score, 1)],
    ['Detections', `${image.detections} by ${image.detector}`],
    ['File', `${image.file_name} · ${image.width}×${image.height} ${image.format} · ${fmt(image.size_bytes / 1024, 0)} KiB`],
    ['Image id', image.image_id.slice(0, 16)],
  ];
  return h('article', { class: 'violation', 'data-image': image.image_id },
    h('div', {}, image.missing.map(g => h('span', { class: 'chip' }, `no ${g.replaceAll('_', ' ')}`))),
    image.description ? h('p', {}, image.description) : null,
    h('dl', {}, detail.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

export function init() {}

export async function refresh() {
  const [summary, violations, ...byType] = await Promise.all([
    api('api/images/summary'),
    api('api/images', { params: { max_score: 99.9, limit: 12 } }),
    ...TYPES.map(t => api('api/images/summary', { params: { device_type: t } })),
  ]);
  const all = summary.overall;
  document.getElementById('camera-cards').replaceChildren(
    card('Compliance score', fmt(all.average_score, 1), all.average_score < 80 ? 'warn' : 'ok'),
    card('Images', fmt(all.images)),
    card('Workers seen', fmt(all.workers)),
    card('Fully compliant', fmt(all.fully_compliant), 'ok'),
    card('Images with violations', fmt(violations.total), violations.total ? 'bad' : ''),
  );
  fillTable(document.getElementById('camera-sites'), COMPLIANCE_COLUMNS('site_id', 'Site'), summary.sites, 'No processed images yet.');
  const types = byType.map((s, i) => ({ ...s.overall, device_type: TYPES[i] })).filter(t => t.images);
  fillTable(document.getElementById('camera-types'), COMPLIANCE_COLUMNS('device_type', 'Device type'), types, 'No processed images yet.');
  const box = document.getElementById('camera-violations');
  box.replaceChildren(...(violations.items.length
    ? violations.items.map(violation)
    : [h('p', { class: 'muted' }, 'No violations: every worker seen wears the required gear.')]));
}
