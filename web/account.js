// facehatch web UI: who is logged in (GET /api/me), the login page and the account menu in the
// top bar (face recognition on/off, log out, delete account).
import { el, api, toast, guard, confirmDialog, promptDialog } from './ui.js';

// mode: "local" | "accounts"; user: {id, name, recognition} | null (not logged in)
export const session = { mode: 'local', user: null };

export async function loadMe() {
  const r = await api('GET', '/api/me');
  session.mode = r.mode;
  session.user = r.user;
}

export function needsLogin() { return session.mode === 'accounts' && !session.user; }

// The login page in `main`; onIn() runs after a successful login. notice: a line shown above the form.
export function renderLogin(main, onIn, notice) {
  const user = el('input', { class: 'text-input', id: 'login-user', name: 'username', autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false', required: true, maxlength: 256 });
  const pass = el('input', { class: 'text-input', id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true, maxlength: 1024 });
  const err = el('p', { class: 'form-error', id: 'login-error', role: 'alert', hidden: true });
  const submit = el('button', { class: 'btn primary wide', type: 'submit', id: 'login-submit', text: 'Log in' });
  let wait = null;
  const showError = msg => { err.textContent = msg; err.hidden = false; };
  const countdown = secs => {
    clearInterval(wait);
    submit.disabled = true;
    const tick = () => {
      if (!document.contains(submit)) { clearInterval(wait); return; }
      if (secs <= 0) { clearInterval(wait); submit.disabled = false; err.hidden = true; return; }
      showError('Too many attempts. Try again in ' + secs + ' s.');
      secs--;
    };
    tick();
    wait = setInterval(tick, 1000);
  };
  const form = el('form', { class: 'login-card', id: 'login-form', onsubmit: async e => {
    e.preventDefault();
    err.hidden = true;
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/login', { user: user.value.trim(), password: pass.value });
      session.user = r.user;
      session.mode = 'accounts';
      pass.value = '';
      onIn();
    } catch (x) {
      submit.disabled = false;
      if (x.status === 429) countdown(x.retryAfter || 30);
      else if (x.status === 401) { showError('Wrong user name or password.'); pass.value = ''; pass.focus(); }
      else showError(x.message);
    }
  } },
  el('div', { class: 'login-logo', 'aria-hidden': 'true' }),
  el('h1', { text: 'Log in to facehatch' }),
  notice ? el('p', { class: 'login-notice', id: 'login-notice', text: notice }) : null,
  el('label', { class: 'field' }, el('span', { text: 'User name' }), user),
  el('label', { class: 'field' }, el('span', { text: 'Password' }), pass),
  err, submit);
  main.replaceChildren(el('div', { class: 'login-page' }, form));
  user.focus();
}

// The account button + menu into `box` (the top bar's #account). hooks: loggedOut(notice),
// changed() (recognition switched: re-render the page).
export function renderAccount(box, hooks) {
  const u = session.user;
  if (!u) { box.hidden = true; box.replaceChildren(); return; }
  box.hidden = false;
  const accounts = session.mode === 'accounts';
  const btn = el('button', { class: 'account-btn', id: 'account-btn', type: 'button', 'aria-haspopup': 'true',
    'aria-expanded': 'false', 'aria-controls': 'account-menu', title: u.name },
  el('span', { class: 'account-initial', 'aria-hidden': 'true', text: (u.name || '?')[0].toUpperCase() }),
  el('span', { class: 'account-name', text: u.name }));
  const open = v => {
    menu.hidden = !v;
    btn.setAttribute('aria-expanded', v ? 'true' : 'false');
    if (v) document.addEventListener('click', outside, true);
    else document.removeEventListener('click', outside, true);
  };
  const outside = e => { if (!box.contains(e.target)) open(false); };
  btn.addEventListener('click', () => open(menu.hidden));

  const recognition = el('button', { class: 'switch-row', id: 'recognition-toggle', type: 'button', role: 'switch',
    'aria-checked': u.recognition ? 'true' : 'false', onclick: guard(async () => {
      open(false);
      const on = !session.user.recognition;
      if (!on) {
        const ok = await confirmDialog({ title: 'Turn face recognition off?',
          text: 'This deletes your face data now: the faces found in your photos, every person, name and correction, and the face thumbnails. Your photos stay. Turning it on again finds the faces again, but names and corrections are gone for good.',
          ok: 'Turn off and delete face data', danger: true });
        if (!ok) return;
      }
      const r = await api('POST', '/api/account/recognition', { on });
      session.user = r.user;
      toast(on ? 'Face recognition is on: your photos are being scanned again' : 'Face recognition is off; your face data was deleted');
      renderAccount(box, hooks);
      hooks.changed();
    }) },
  el('span', { class: 'label' }, 'Face recognition', el('small', { text: u.recognition ? 'Off deletes your face data' : 'Finds and groups faces' })),
  el('span', { class: 'switch', 'aria-hidden': 'true' }, el('span', { class: 'knob' })),
  el('span', { class: 'state', text: u.recognition ? 'On' : 'Off' }));

  const logout = el('button', { class: 'menu-item', id: 'logout-btn', type: 'button', text: 'Log out', onclick: guard(async () => {
    open(false);
    await api('POST', '/api/logout');
    session.user = null;
    history.replaceState(null, '', '#/people'); // the next user starts on People, not on this page
    hooks.loggedOut('You are logged out.');
  }) });
  const del = el('button', { class: 'menu-item danger', id: 'delete-account-btn', type: 'button', text: 'Delete account…', onclick: guard(async () => {
    open(false);
    const gone = await promptDialog({ title: 'Delete your account?', type: 'password', label: 'Password', ok: 'Delete account', danger: true, required: true,
      text: 'Every photo, face and person of "' + u.name + '" is deleted for good. This cannot be undone. Enter your password to confirm.',
      submit: async pw => {
        try { await api('POST', '/api/account/delete', { password: pw }); }
        catch (x) { throw new Error(x.status === 401 || x.status === 403 ? 'Wrong password.' : x.message); }
      } });
    if (gone === null) return;
    session.user = null;
    history.replaceState(null, '', '#/people');
    hooks.loggedOut('Your account was deleted.');
  }) });

  const menu = el('div', { class: 'account-menu', id: 'account-menu', hidden: true },
    el('div', { class: 'who' }, 'Signed in as ', el('strong', { text: u.name })),
    recognition,
    accounts ? el('hr') : null, accounts ? logout : null, accounts ? del : null);
  menu.addEventListener('keydown', e => { if (e.key === 'Escape') { e.stopPropagation(); open(false); btn.focus(); } });
  btn.addEventListener('keydown', e => { if (e.key === 'Escape' && !menu.hidden) { e.stopPropagation(); open(false); } });
  box.replaceChildren(btn, menu);
}
