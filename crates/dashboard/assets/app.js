// app.js — boots the dashboard (session, API version, live events, header) and
// routes the location hash to one view at a time inside <main id="view">.

import { boot, env, logout } from './api.js';
import { el, fill, refreshTimes } from './dom.js';
import { startLive } from './live.js';
import * as fleet from './fleet.js';
import * as node from './node.js';
import * as enroll from './enroll.js';
import * as conductors from './conductors.js';
import * as networks from './networks.js';
import * as about from './about.js';

const TICK_MS = 15000;

// [pattern of the hash path, view, nav link it highlights]
const ROUTES = [
  [/^\/$/, fleet, '#/'],
  [/^\/node\/([^/]+)$/, node, '#/'],
  [/^\/enroll$/, enroll, '#/enroll'],
  [/^\/networks$/, networks, '#/networks'],
  [/^\/conductors$/, conductors, '#/conductors'],
  [/^\/about$/, about, '#/about'],
];

let disposeView = null;

// "#/node/abc?x=1" → { path: "/node/abc", params: { x: "1" } }
function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = Object.fromEntries(new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)));
  return { path: path || '/', params };
}

function route() {
  const { path, params } = parseHash();
  const main = document.getElementById('view');
  if (disposeView) disposeView();
  disposeView = null;
  const root = el('div', { class: 'view' });
  fill(main, root);
  const match = ROUTES.find(([pattern]) => pattern.test(path));
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', Boolean(match) && link.getAttribute('href') === match[2]);
  }
  if (!match) {
    fill(root, el('h1', {}, 'Not found'), el('p', {}, 'No page here. ', el('a', { href: '#/' }, 'Back to the fleet.')));
    return;
  }
  const [pattern, view] = match;
  const ident = path.match(pattern)[1];
  const routeParams = ident ? { ...params, ident: decodeURIComponent(ident) } : params;
  disposeView = view.render(root, routeParams) || null;
}

function renderHeader() {
  const { session } = env;
  const who = session.user
    ? `${session.user}${session.project ? ` · ${session.project}` : ''}`
    : `not signed in (${session.auth})`;
  const whoami = document.getElementById('whoami');
  whoami.textContent = who;
  whoami.title = `roles: ${(session.roles || []).join(', ') || 'none'}`;
  document.querySelector('#nav a[href="#/enroll"]').hidden = !session.can_act;
  const button = document.getElementById('logout');
  button.addEventListener('click', () => {
    button.disabled = true;
    logout().catch((err) => {
      button.disabled = false;
      button.title = err.message;
      button.textContent = 'Log out failed — retry';
    });
  });
}

async function start() {
  try {
    await boot();
  } catch (err) {
    if (err.status !== 401) {
      fill(document.getElementById('view'), el('p', { class: 'action-error' }, `The dashboard cannot start: ${err.message}`));
    }
    return;
  }
  renderHeader();
  startLive(document.getElementById('live'));
  window.addEventListener('hashchange', route);
  setInterval(() => refreshTimes(), TICK_MS);
  route();
}

start();
