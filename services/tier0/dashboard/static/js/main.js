// Tabs, the live refresh loop and the error banner. Each tab module exports init() (once) and
// refresh() (each tick while it is open); a failed refresh keeps the last data on screen and
// says why in the banner, so the page is never blank and never silently stale.

import { api, ApiError } from './api.js';
import * as telemetry from './telemetry.js';
import * as users from './users.js';
import * as camera from './camera.js';
import * as query from './query.js';
import * as failover from './failover.js';

const TABS = { telemetry, users, camera, query, failover };
const banner = document.getElementById('banner');
const refreshed = document.getElementById('refreshed');
let current = 'telemetry';
let refreshMs = 5000;
let timer = null;
let running = null;

export function showError(error) {
  const unreachable = error instanceof ApiError && error.unreachable;
  const title = unreachable ? 'API unreachable' : (error.title || 'Error');
  const status = error.status ? ` (HTTP ${error.status})` : '';
  banner.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = `${title}${status}`;
  banner.append(strong, `${error.detail || error.message}. Retrying every ${refreshMs / 1000} s.`);
  banner.dataset.kind = unreachable ? 'unreachable' : 'error';
  banner.hidden = false;
  refreshed.textContent = 'last refresh failed';
}

function clearError() {
  banner.hidden = true;
  banner.replaceChildren();
  refreshed.textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function tick() {
  if (running) return running;  // a slow API must not pile up requests
  const tab = TABS[current];
  running = (async () => {
    try {
      await tab.refresh();
      clearError();
    } catch (error) {
      showError(error);
    } finally {
      running = null;
    }
  })();
  return running;
}

function select(name) {
  if (!TABS[name]) name = 'telemetry';
  current = name;
  for (const button of document.querySelectorAll('[role=tab]')) {
    button.setAttribute('aria-selected', String(button.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll('[role=tabpanel]')) {
    panel.hidden = panel.dataset.panel !== name;
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  tick();
}

async function start() {
  try {
    const config = await api('config.json');
    refreshMs = Math.max(1000, config.refresh_seconds * 1000);
  } catch (error) {
    showError(error);
  }
  for (const [name, tab] of Object.entries(TABS)) tab.init({ refresh: () => (current === name ? tick() : null), showError });
  for (const button of document.querySelectorAll('[role=tab]')) {
    button.addEventListener('click', () => select(button.dataset.tab));
  }
  window.addEventListener('hashchange', () => select(location.hash.slice(1)));
  select(location.hash.slice(1) || 'telemetry');
  timer = setInterval(() => { if (!TABS[current].manual) tick(); }, refreshMs);
}

start();
export { timer };
