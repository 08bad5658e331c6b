// Users: user sessions by region and state (counted over all sessions), and the active ones.

import { api } from './api.js';
import { barChart } from './chart.js';
import { h, fmt, ago, card, state, fillTable } from './dom.js';

const STATES = ['active', 'idle', 'disconnected'];
const COLORS = { active: '#2b8a3e', idle: '#f59f00', disconnected: '#868e96' };

export function init() {}

export async function refresh() {
  const body = await api('api/users', { params: { state: 'active', limit: 15 } });
  const counts = body.counts;
  document.getElementById('users-cards').replaceChildren(
    card('Sessions', fmt(counts.total)),
    ...STATES.map(s => card(s[0].toUpperCase() + s.slice(1), fmt(counts.by_state[s] || 0), s === 'active' ? 'ok' : '')),
  );
  const regions = Object.keys(counts.by_region_state).sort();
  const bars = regions.flatMap(region => STATES.map(s => ({
    name: `${region} · ${s}`, value: counts.by_region_state[region][s] || 0, color: COLORS[s],
  })));
  document.getElementById('users-chart').replaceChildren(
    h('figcaption', {}, 'Sessions by region and state'), barChart(bars));
  fillTable(document.getElementById('users-grid'), [
    { title: 'Region', value: r => r },
    ...STATES.map(s => ({ title: s, num: true, value: r => fmt(counts.by_region_state[r][s] || 0) })),
    { title: 'Total', num: true, value: r => fmt(counts.by_region[r]) },
  ], regions, 'No sessions recorded yet.');
  fillTable(document.getElementById('users-sessions'), [
    { title: 'User', value: r => r.user_id },
    { title: 'Region', value: r => r.region },
    { title: 'State', value: r => state(r.state) },
    { title: 'Logged in', value: r => ago(r.login_at) },
    { title: 'Last event', value: r => ago(r.last_event_at) },
  ], body.sessions.items, 'No active sessions.');
}
