// facehatch web UI: plain JavaScript modules, no framework, no network beyond this server.
// This file starts the app: who is logged in, the top bar, the router (pages are chosen by the
// URL hash: #/people, #/person/ID, #/unknown, #/upload, #/search), the indexing status poll and
// the global keys (Ctrl+Z undoes, Escape ends a selection).
import { el, api, setUnauthorizedHandler, dialogOpen, typingIn } from './ui.js';
import { setUndoRefresh, undo } from './undo.js';
import { session, loadMe, needsLogin, renderLogin, renderAccount } from './account.js';
import { pagePeople, pagePerson, pageUnknown, setRerender } from './pages.js';
import { pageUpload, pageSearch, upload, setUploadPoll } from './upload.js';

const $main = document.getElementById('main');
let statusTimer = null;
let lastFinished = -1;
let selectionNow = null; // the current page's selection (select.js), if it has one
let loginNotice = null;

// ---- top bar ---------------------------------------------------------------------------------------
const menuBtn = document.getElementById('menu-btn');
const nav = document.getElementById('main-nav');
function openNav(v) {
  nav.classList.toggle('open', v);
  menuBtn.setAttribute('aria-expanded', v ? 'true' : 'false');
}
menuBtn.addEventListener('click', () => openNav(!nav.classList.contains('open')));
nav.addEventListener('click', e => { if (e.target.closest('a')) openNav(false); });
document.addEventListener('click', e => {
  if (nav.classList.contains('open') && !nav.contains(e.target) && !menuBtn.contains(e.target)) openNav(false);
});

function renderTopbar() {
  document.body.classList.toggle('logged-out', needsLogin());
  renderAccount(document.getElementById('account'), {
    loggedOut: notice => loggedOut(notice),
    changed: () => { route(); pollStatus(); refreshBadge(); },
  });
}

function loggedOut(notice) {
  session.user = null;
  clearTimeout(statusTimer);
  lastFinished = -1;
  upload.total = 0;
  upload.done = 0;
  upload.files = [];
  loginNotice = notice || null;
  renderTopbar();
  route();
}

// an API call answered 401: the session ended (expired, or logged out elsewhere)
setUnauthorizedHandler(() => {
  if (needsLogin()) return;
  session.mode = 'accounts';
  loggedOut('Your session ended. Please log in again.');
});

function loggedIn() {
  loginNotice = null;
  renderTopbar();
  route();
  pollStatus();
  refreshBadge();
}

// ---- router --------------------------------------------------------------------------------------
async function route() {
  selectionNow = null;
  document.body.classList.remove('has-actionbar');
  openNav(false);
  if (needsLogin()) {
    renderLogin($main, loggedIn, loginNotice);
    return;
  }
  const h = location.hash || '#/people';
  const m = h.match(/^#\/(\w+)(?:\/(\d+))?/);
  const page = m ? m[1] : 'people';
  document.querySelectorAll('nav a').forEach(a => {
    const on = a.dataset.nav === (page === 'person' ? 'people' : page);
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  try {
    if (page === 'person' && m[2]) selectionNow = await pagePerson($main, m[2]);
    else if (page === 'unknown') selectionNow = await pageUnknown($main);
    else if (page === 'upload') await pageUpload($main);
    else if (page === 'search') await pageSearch($main);
    else await pagePeople($main);
  } catch (e) {
    if (e.status === 401) return; // the login page is shown
    $main.replaceChildren(el('div', { class: 'empty' }, e.status === 404 ? 'Not found: ' + e.message + ' ' : 'Error: ' + e.message + ' ',
      el('a', { href: '#/people', text: 'Back to People' })));
  }
}
setRerender(route);
setUndoRefresh(async () => { await route(); refreshBadge(); });
setUploadPoll(() => pollStatus());

// ---- keys -------------------------------------------------------------------------------------------
document.addEventListener('keydown', e => {
  if (dialogOpen() || needsLogin()) return;
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'z' && !typingIn(e.target)) {
    e.preventDefault();
    undo();
  } else if (e.key === 'Escape') {
    if (nav.classList.contains('open')) { openNav(false); menuBtn.focus(); }
    else if (selectionNow && selectionNow.active()) selectionNow.cancel();
  }
});

// ---- indexing status (polled while busy) --------------------------------------------------------
async function pollStatus() {
  clearTimeout(statusTimer);
  if (needsLogin()) return;
  let busy = false;
  try {
    const st = await api('GET', '/api/status?recent=200'), s = st.indexing;
    busy = s.busy;
    showModel(st);
    const ind = document.getElementById('indexing');
    ind.hidden = !busy;
    document.getElementById('indexing-text').textContent = busy
      ? 'Indexing ' + (s.finished + 1) + ' of ' + s.submitted + (s.current ? ' · ' + s.current : '') : '';
    if (upload.total) {
      // results of this page's uploads, matched by stored file name
      for (const f of upload.files) {
        if (f.status !== 'queued' || !f.file) continue;
        const r = s.recent.find(x => x.file === f.file);
        if (r) { f.status = r.status; f.faces = r.faces; f.error = r.error; upload.done = (upload.done || 0) + 1; }
      }
      if (!busy) upload.done = upload.total;
      if (upload.render && location.hash.startsWith('#/upload')) upload.render();
    }
    if (s.finished !== lastFinished) {
      const first = lastFinished < 0;
      lastFinished = s.finished;
      refreshBadge();
      // new persons may have appeared: refresh the People page quietly
      if (!first && (location.hash === '' || location.hash.startsWith('#/people'))) route();
    }
  } catch (e) {
    if (e.status === 401) return; // logged out: polling starts again at the next login
    /* server restarting: try again */
  }
  statusTimer = setTimeout(pollStatus, busy ? 800 : 4000);
}

// the library's model, and a re-embed to another one (`facehatch reembed`) while it runs
function showModel(st) {
  const line = document.getElementById('model-line');
  if (!line || !st.server_model) return;
  const m = st.model, r = st.reembed, name = x => x.name + ' ' + x.version;
  let text = 'Faces recognised by ' + name(m || st.server_model);
  if (r) {
    const all = r.staged + r.pending, pct = all ? Math.floor(100 * r.staged / all) : 100;
    text += ' · re-embedding to ' + name(r) + ': ' + pct + ' % (' + r.staged + ' of ' + all + ' faces)';
  } else if (m && name(m) !== name(st.server_model)) {
    text += ' · this server runs ' + name(st.server_model) + ': restart it with the library\'s model';
  }
  line.textContent = text;
  line.hidden = false;
}

async function refreshBadge() {
  if (needsLogin()) return;
  try {
    const { unknown_faces } = await api('GET', '/api/persons');
    const b = document.getElementById('unknown-badge');
    b.textContent = unknown_faces;
    b.hidden = !unknown_faces;
  } catch (e) { /* ignore */ }
}

// ---- start -------------------------------------------------------------------------------------------
window.addEventListener('hashchange', route);
(async () => {
  try { await loadMe(); } catch (e) { /* the server is unreachable: the page shows the error */ }
  renderTopbar();
  await route();
  if (!needsLogin()) { pollStatus(); refreshBadge(); }
})();
