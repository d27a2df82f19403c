// Entry point: session check, hash routing (#/login, #/worklist, #/subject/{id}/{timepoint}[?role=&reader=],
// #/dose/{id}, #/registry/{id}, #/audit?filters, #/adjudicate/{id}, #/qa[/pair], #/endpoints, #/dose-cohort), the top bar, the login page and the
// worklist. The subject view (viewer + lesion table + response) is in subject.js, the audit-log viewer (QA and
// admin) in audit.js, the adjudication queue and side-by-side in adjudication.js, concordance and reader QC in
// qa.js, the dose view (90Y dose over the CT, DVH) in dose.js, the TARE cohort analyses (QA, admin) in dose_cohort.js.
import './styles.css';
import * as api from './api.js';
import { h, clear } from './dom.js';
import { showRegistry } from './registry.js';
import { showAudit } from './audit.js';
import { showQa } from './qa.js';
import { showEndpoints } from './endpoints.js';
import { showDoseCohort } from './dose_cohort.js';
import { showWorklist as renderWorklist } from './worklist.js';
import { queueSection, showAdjudication } from './adjudication.js';

// The image views (subject, dose) and Cornerstone3D with its codecs are most of the code (about 4 MB): they are
// loaded when a subject or dose view is first opened, so the login page, the worklist and the QA, audit and
// cohort pages do not parse and evaluate them (about 4 s of CPU per page load on the test machine's Chromium).
const subjectModule = () => import('./subject.js');
const doseModule = () => import('./dose.js');

const topbar = document.getElementById('topbar');
let app = document.getElementById('app');
let user = null;
let currentView = null;
// Bumped by every route(). A route resumes after each await only while it is still the latest navigation: a
// reader who clicks on while a page loads must see the page asked for last, never an older one drawn over it.
let navigation = 0;

// destroy() once per view, whichever of the older and the newer route gets there first.
function retire(view) {
  if (view && !view.retired) {
    view.retired = true;
    view.destroy();
  }
}

// Each route draws into a new #app (same element, same attributes, not ready, showing only "Loading…"). A route
// superseded while it awaited keeps drawing into its own detached element, which nobody sees.
function freshApp() {
  const fresh = app.cloneNode(false);
  delete fresh.dataset.ready;
  fresh.append(h('p', { class: 'loading' }, 'Loading…'));
  app.replaceWith(fresh);
  app = fresh;
  return fresh;
}

// Starts a navigation: whatever was loading stops drawing, the current view is retired, and a fresh #app
// waits for what comes next. Returns the navigation's number and its new #app.
function beginNavigation() {
  const nav = ++navigation;
  retire(currentView);
  currentView = null;
  return { nav, root: freshApp() };
}

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function renderTopbar() {
  clear(
    topbar,
    h('a', { class: 'brand', href: '#/worklist' }, 'recistry', h('span', {}, ' reader')),
    user && ['qa', 'admin'].includes(user.role)
      ? h('nav', { class: 'nav' },
          h('a', { href: '#/worklist', id: 'nav-worklist' }, 'Worklist'),
          h('a', { href: '#/qa', id: 'nav-qa' }, 'QA'),
          h('a', { href: '#/endpoints', id: 'nav-endpoints' }, 'Endpoints'),
          h('a', { href: '#/dose-cohort', id: 'nav-dose-cohort' }, 'TARE cohort'),
          h('a', { href: '#/audit', id: 'nav-audit' }, 'Audit log'))
      : null,
    user
      ? h('div', { class: 'who' },
          h('span', { class: 'user', dataset: { testid: 'user' } }, `${user.name} (${user.role}${user.site ? ', ' + user.site : ''})`),
          h('button', { type: 'button', onclick: async () => { await api.logout().catch(() => {}); user = null; go('#/login'); } }, 'Log out'))
      : null,
  );
}

function showLogin(message) {
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' }, message || '');
  const form = h('form', { class: 'login card', id: 'login-form' },
    h('h2', {}, 'Sign in'),
    h('label', {}, 'User name', name),
    h('label', {}, 'Password', password),
    h('button', { class: 'primary', type: 'submit', id: 'login-submit' }, 'Sign in'),
    error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      user = await api.login(name.value, password.value);
      renderTopbar();
      go('#/worklist');
    } catch (err) {
      error.textContent = err.message;
    }
  });
  clear(app, form);
  name.focus();
}

async function route() {
  const { nav, root } = beginNavigation();
  const stale = () => nav !== navigation;
  // A view made by an await that a newer route overtook is retired at once; else it becomes the current one.
  const adopt = (view) => {
    if (stale()) retire(view);
    else currentView = view;
  };
  const hash = window.location.hash || '#/worklist';
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').map(decodeURIComponent);
  const params = new URLSearchParams(query);
  try {
    if (parts[0] === 'login') {
      if (user) return go('#/worklist');
      return showLogin();
    }
    if (!user) {
      const me = await api.me();
      if (stale()) return;
      user = me;
      renderTopbar();
      if (!user) return go('#/login');
    }
    if (parts[0] === 'registry' && parts[1]) return await showRegistry(root, parts[1]);
    if (parts[0] === 'audit' && ['qa', 'admin'].includes(user.role))
      return await showAudit(root, { params, go });
    if (parts[0] === 'endpoints' && ['qa', 'admin'].includes(user.role))
      return adopt(await showEndpoints(root, { go }));
    if (parts[0] === 'dose-cohort' && ['qa', 'admin'].includes(user.role))
      return adopt(await showDoseCohort(root, { params, go }));
    if (parts[0] === 'qa') return adopt(await showQa(root, parts[1], { go }));
    if (parts[0] === 'subject' && parts[1]) {
      // ?role=central&reader=NAME: a read-only look at that read (QA, or an adjudicator from the side-by-side).
      const which = params.get('role') && params.get('reader') ? { role: params.get('role'), reader: params.get('reader') } : null;
      const { SubjectView } = await subjectModule();
      if (stale()) return;
      // Current before it starts loading, so that a newer route retires it even in the middle of start().
      const view = new SubjectView(root, parts[1], parts[2] || null, { user, go, which });
      adopt(view);
      await view.start();
      return;
    }
    if (parts[0] === 'dose' && parts[1]) {
      const { DoseView } = await doseModule();
      if (stale()) return;
      const view = new DoseView(root, parts[1], { user });
      adopt(view);
      await view.start();
      return;
    }
    if (parts[0] === 'adjudicate' && parts[1]) return await showAdjudication(root, parts[1], { user });
    await renderWorklist(root, { user });
    if (['adjudicator', 'qa', 'admin'].includes(user.role)) {
      const q = await queueSection();
      if (q && !stale()) root.prepend(q);
    }
  } catch (err) {
    if (stale()) return; // an older page's failure (or its cancelled requests) is not this page's
    if (err instanceof api.ApiError && err.status === 401) {
      user = null;
      renderTopbar();
      return showLogin('Your session has ended: sign in again.');
    }
    clear(root, h('p', { class: 'error', role: 'alert' }, err.message));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('rcy-session-expired', () => {
  user = null;
  renderTopbar();
  beginNavigation();
  showLogin('Your session has ended: sign in again (nothing unsaved was stored).');
});
renderTopbar();
route();
