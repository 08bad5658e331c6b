// Device telemetry: filters, state counts, per-type charts with a line per site (or per type
// for one site), and a paged device table.

import { api } from './api.js';
import { lineChart, legend } from './chart.js';
import { h, fmt, ago, card, state, fillTable } from './dom.js';

const TYPES = ['turbine', 'thermal_engine', 'electrical_rotor', 'oil_gas'];
// What each measure means for each device type (their metrics differ; see the simulators).
const FAMILIES = {
  rpm: { turbine: 'rpm', thermal_engine: 'rpm', electrical_rotor: 'rpm', oil_gas: 'pump_speed_rpm' },
  temperature: { turbine: 'inlet_temp_c', thermal_engine: 'coolant_temp_c', electrical_rotor: 'winding_temp_c', oil_gas: 'temperature_c' },
  power: { turbine: 'power_kw', thermal_engine: 'load_pct', electrical_rotor: 'current_a', oil_gas: 'flow_rate_bpd' },
};
const PAGE = 20;
const form = document.getElementById('telemetry-filters');
let offset = 0;
let sitesLoaded = false;

let requestRefresh = () => {};

export function init({ refresh }) {
  requestRefresh = refresh;
  form.addEventListener('change', () => { offset = 0; refresh(); });
}

function filters() {
  const data = new FormData(form);
  return { site: data.get('site'), type: data.get('type'), family: data.get('family'), minutes: Number(data.get('minutes')) };
}

async function loadSites() {
  if (sitesLoaded) return;
  const sites = await api('api/sites');
  const select = form.elements.site;
  for (const site of sites) select.append(h('option', { value: site.site_id }, `${site.site_id} (${site.region})`));
  sitesLoaded = true;
}

function renderCards(status) {
  const states = status.by_state;
  document.getElementById('telemetry-cards').replaceChildren(
    card('Devices', fmt(status.devices)),
    card('Reporting', fmt(status.devices - status.offline), 'ok'),
    card('Fault', fmt((states.FAULT || 0) + (states.alarm || 0)), (states.FAULT || states.alarm) ? 'bad' : ''),
    card('Warning', fmt(states.WARNING || 0), states.WARNING ? 'warn' : ''),
    card(`Offline (> ${status.offline_after_seconds / 60} min silent)`, fmt(status.offline), status.offline ? 'bad' : ''),
  );
}

function renderCharts(series, f) {
  const types = f.type ? [f.type] : TYPES;
  const figures = types.map(type => {
    const metric = FAMILIES[f.family][type];
    const lines = series
      .filter(s => s.device_type === type && s.metric === metric)
      .map(s => ({ name: s.site_id, points: s.points.map(p => ({ t: new Date(p.t), v: p.avg })) }));
    return h('figure', { class: 'chart', 'data-chart': type },
      h('figcaption', {}, `${type} · ${metric} (average per ${bucketSeconds(f.minutes)} s)`),
      lineChart(lines), legend(lines.map(l => l.name)));
  });
  document.getElementById('telemetry-charts').replaceChildren(...figures);
}

function bucketSeconds(minutes) {
  // About 60 points per chart; buckets under 30 s hold too few readings to draw a smooth line.
  return Math.max(30, Math.round(minutes * 60 / 60 / 10) * 10);
}

function renderDevices(page) {
  const metricsOf = row => {
    const metrics = row.latest ? row.latest.metrics : {};
    return Object.entries(metrics).slice(0, 3).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(' · ');
  };
  fillTable(document.getElementById('device-table'), [
    { title: 'Device', value: r => r.device_id },
    { title: 'Type', value: r => r.device_type },
    { title: 'Site', value: r => r.site_id },
    { title: 'State', value: r => state(r.latest ? r.latest.state : 'no data') },
    { title: 'Code', value: r => (r.latest ? r.latest.status_code : '–') },
    { title: 'Last reading', value: r => (r.latest ? ago(r.latest.timestamp_utc) : 'never') },
    { title: 'Metrics', value: metricsOf },
  ], page.items, 'No devices match these filters.');
  const pager = document.getElementById('device-pager');
  const last = Math.min(page.offset + page.items.length, page.total);
  pager.replaceChildren(
    h('button', { type: 'button', disabled: page.offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); requestRefresh(); } }, '← Previous'),
    h('span', { class: 'muted', 'data-pager': '' }, `${fmt(page.total ? page.offset + 1 : 0)}–${fmt(last)} of ${fmt(page.total)}`),
    h('button', { type: 'button', disabled: last >= page.total, onclick: () => { offset += PAGE; requestRefresh(); } }, 'Next →'),
  );
}

export async function refresh() {
  await loadSites();
  const f = filters();
  const types = f.type ? [f.type] : TYPES;
  const metrics = [...new Set(types.map(t => FAMILIES[f.family][t]))];
  const [status, series, page] = await Promise.all([
    api('api/telemetry/status', { params: { site: f.site, type: f.type } }),
    api('api/telemetry/series', { params: { metric: metrics, site: f.site, type: f.type, minutes: f.minutes, bucket_seconds: bucketSeconds(f.minutes) } }),
    api('api/devices', { params: { site: f.site, type: f.type, limit: PAGE, offset } }),
  ]);
  renderCards(status);
  renderCharts(series, f);
  renderDevices(page);
}
