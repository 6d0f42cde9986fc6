// The dashboard's shell: the signed-in user (role and units), navigation by
// URL hash (#/overview, #/decision, ...), and page timing: each page marks
// its start and, when it has its data and charts, "page-ready"; the time
// between is recorded as the performance measure "page:<name>".
import { claims, currentSession, onSessionChange, signOut } from './api.js';
import { clear, errorBox, h } from './ui.js';
import * as signin from './signin.js';
import * as overview from './overview.js';
import * as decision from './decision.js';
import * as goliath from './goliath.js';
import * as flyfox from './flyfox.js';
import * as sigma from './sigma.js';
import * as assessment from './assessment.js';
import * as history from './history.js';

const PAGES = { overview, decision, goliath, flyfox, sigma, assessment, history };

// What each built-in role may do per unit (lib/service/rbac.c defaults);
// shown to the user, enforced by the server.
const ROLE_UNITS = {
  admin: 'manage, run and read: every unit',
  analyst: 'run: nqba, goliath, flyfox, sigma; read: every unit',
  operator: 'run and read: nqba, goliath, flyfox, sigma',
  viewer: 'read: nqba, goliath, flyfox, sigma',
  auditor: 'read: every unit (history, audit, metrics)',
};

const main = document.getElementById('main');
let current = null;

function showUser() {
  const c = claims();
  const signedIn = !!(currentSession() && c);
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  if (!signedIn) return;
  document.getElementById('who-name').textContent = c.sub || currentSession().username;
  document.getElementById('who-role').textContent = c.role || 'unknown role';
  document.getElementById('who-units').textContent = `Units: ${ROLE_UNITS[c.role] || 'as granted by an admin'}${c.mfa ? ' · TOTP' : ''}`;
}

function pageName() {
  const m = /^#\/([a-z]+)/.exec(location.hash);
  return m ? m[1] : null;
}

async function route() {
  const hash = location.hash;
  if (hash && !hash.startsWith('#/')) return; // in-page anchors (skip link)
  let name = pageName();
  if (!currentSession()) name = 'signin';
  else if (!name || (!PAGES[name] && name !== 'signin')) name = 'overview';
  else if (name === 'signin') name = 'overview';
  if (current && current.cleanup) current.cleanup();
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const page = name === 'signin' ? signin : PAGES[name];
  const root = h('section', { 'data-page': name, 'aria-labelledby': `h-${name}` });
  clear(main).append(root);
  document.body.dataset.page = name;
  delete document.body.dataset.ready;
  performance.clearMarks(`start:${name}`);
  performance.clearMeasures(`page:${name}`);
  performance.mark(`start:${name}`);
  root.addEventListener('page-ready', () => {
    performance.measure(`page:${name}`, `start:${name}`);
    document.body.dataset.ready = name;
  }, { once: true });
  current = { name, cleanup: null };
  try {
    current.cleanup = (await page.render(root)) || null;
  } catch (err) {
    root.append(errorBox(err, 'Loading the page'));
  }
  const heading = root.querySelector('h1');
  if (heading && document.activeElement === document.body) heading.setAttribute('tabindex', '-1');
}

document.getElementById('signout').addEventListener('click', async () => {
  await signOut();
  location.hash = '#/signin';
});

document.getElementById('skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

onSessionChange(() => {
  showUser();
  if (!currentSession() && pageName() !== 'signin') location.hash = '#/signin';
});

window.addEventListener('hashchange', route);
showUser();
route();
