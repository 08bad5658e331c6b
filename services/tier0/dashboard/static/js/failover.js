// Failover: the Tier0Region's active region, phase, conditions and lag, the last failover's
// step timings and RTO, recent Events, and "switch to region N" (POST /api/failover with an
// operate-scoped key the user types; it is kept in this page only, never stored).

import { api } from './api.js';
import { barChart } from './chart.js';
import { h, fmt, when, ago, card, state, fillTable } from './dom.js';

const STEP_ORDER = ['precheck', 'fence', 'catchUp', 'promote', 'sentinel', 'routing', 'validate', 'rejoin'];
const form = document.getElementById('failover-form');
const progress = document.getElementById('failover-progress');
let following = null;  // { epoch, to, since } while a switchover we asked for is under way
let requestRefresh = () => {};
let showErrorFn = () => {};

function renderStatus(s) {
  const inProgress = s.failover;
  const cards = [
    card('Active region', s.active_region || '–', 'ok'),
    card('Requested region', s.desired_region, s.desired_region !== s.active_region ? 'warn' : ''),
    card('Phase', s.phase || '–', s.phase === 'Ready' ? 'ok' : 'warn'),
    card('Epoch', fmt(s.epoch)),
    card('Replication lag', `${fmt(s.replication_lag_bytes)} B`, s.replication_lag_bytes > 1048576 ? 'bad' : ''),
  ];
  if (inProgress) cards.push(card('In progress', `${inProgress.from_region} → ${inProgress.to_region} · ${inProgress.step}`, 'warn'));
  document.getElementById('failover-cards').replaceChildren(...cards);
  fillTable(document.getElementById('failover-conditions'), [
    { title: 'Type', value: c => c.type },
    { title: 'Status', value: c => state(c.status) },
    { title: 'Reason', value: c => c.reason || '' },
    { title: 'Message', value: c => c.message || '' },
    { title: 'Since', value: c => ago(c.last_transition_time) },
  ], s.conditions, 'No conditions reported yet.');
  renderLast(s.last_failover);
  renderButtons(s);
}

function renderLast(last) {
  const box = document.getElementById('failover-last');
  const steps = document.getElementById('failover-steps');
  if (!last) {
    box.replaceChildren(h('p', { class: 'muted' }, 'No switchover or failover yet.'));
    steps.replaceChildren();
    return;
  }
  box.replaceChildren(h('p', { 'data-last-failover': '' },
    `${last.from_region} → ${last.to_region} (${last.reason}) at ${when(last.started_at)} · RTO `,
    h('strong', { 'data-rto': '' }, `${fmt(last.total_seconds, 2)} s`)));
  const ordered = Object.entries(last.steps).sort(([a], [b]) => STEP_ORDER.indexOf(a) - STEP_ORDER.indexOf(b));
  steps.replaceChildren(h('figcaption', {}, 'Seconds per step'),
    barChart(ordered.map(([name, value]) => ({ name, value })), { unit: ' s' }));
}

function renderButtons(s) {
  // Settle the switchover we follow first, so the buttons are enabled as soon as it is done.
  if (following) {
    const done = s.epoch >= following.epoch && s.phase === 'Ready' && s.active_region === following.to;
    if (done) {
      const rto = s.last_failover ? ` (RTO ${fmt(s.last_failover.total_seconds, 2)} s)` : '';
      progress.textContent = `Switchover to ${following.to} done: epoch ${s.epoch}${rto}.`;
      following = null;
    } else {
      const step = s.failover ? `, step ${s.failover.step}` : '';
      progress.textContent = `Switching to ${following.to} (epoch ${following.epoch})${step}…`;
    }
  }
  const buttons = s.regions.filter(r => r !== s.desired_region).map(region => h('button', {
    type: 'button', class: 'primary', 'data-region': region, disabled: Boolean(s.failover || following),
    onclick: () => switchTo(region),
  }, `Switch to ${region}`));
  document.getElementById('failover-buttons').replaceChildren(...buttons);
}

async function switchTo(region) {
  const key = form.elements.key.value;
  if (!key) {
    progress.textContent = 'Enter an API key of the operate scope first.';
    form.elements.key.focus();
    return;
  }
  try {
    const accepted = await api('api/failover', { method: 'POST', body: { region }, key });
    following = { epoch: accepted.epoch, to: accepted.to_region };
    progress.textContent = `Accepted: switching ${accepted.from_region} → ${accepted.to_region}, following epoch ${accepted.epoch}…`;
  } catch (error) {
    progress.textContent = `Refused: ${error.message}`;
    if (error.status !== 401 && error.status !== 403 && error.status !== 409 && error.status !== 422) showErrorFn(error);
    return;
  }
  requestRefresh();
}

export function init({ refresh, showError }) {
  requestRefresh = refresh;
  showErrorFn = showError;
  form.addEventListener('submit', event => event.preventDefault());
}

export async function refresh() {
  const [status, events] = await Promise.all([
    api('api/failover'),
    api('api/failover/events', { params: { limit: 15 } }),
  ]);
  renderStatus(status);
  fillTable(document.getElementById('failover-events'), [
    { title: 'Last seen', value: e => when(e.last_seen) },
    { title: 'Type', value: e => e.type || '' },
    { title: 'Reason', value: e => e.reason || '' },
    { title: 'Message', value: e => e.message || '' },
    { title: 'Count', num: true, value: e => fmt(e.count) },
  ], events, 'No events for this resource.');
}
