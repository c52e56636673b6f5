// facehatch web UI: shared helpers — DOM building, the JSON API client, toasts and modal dialogs.
// Every dialog is role=dialog + aria-modal, takes the focus (and gives it back when it closes),
// keeps Tab inside itself and closes with Escape; dialogs stack (the top one gets the keys).
'use strict';

// ---- DOM ------------------------------------------------------------------------------------
export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

export function plural(n, w) { return n + ' ' + w + (n === 1 ? '' : 's'); }
export function personName(p) { return p.name || 'Unnamed #' + p.id; }
function initials(p) {
  if (!p.name) return '?';
  return p.name.split(/\s+/).filter(Boolean).slice(0, 2).map(s => s[0].toUpperCase()).join('');
}
export function avatar(p, cls) {
  if (p.avatar) return el('img', { class: 'avatar ' + (cls || ''), src: '/api/faces/' + p.avatar + '/thumb', alt: personName(p), loading: 'lazy' });
  return el('div', { class: 'avatar initials ' + (cls || ''), text: initials(p) });
}
export function thumb(faceId, alt) {
  return el('img', { src: '/api/faces/' + faceId + '/thumb', alt: alt || 'face ' + faceId, loading: 'lazy' });
}

// true while the keyboard focus is in a place where typing text (and Ctrl+Z) belongs to it
export function typingIn(t) {
  if (!t || !t.tagName) return false;
  if (t.isContentEditable) return true;
  if (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  return t.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'reset', 'file'].includes(t.type);
}

// ---- API ------------------------------------------------------------------------------------
let onUnauthorized = null;
// fn() is called when an API call (other than the login itself) is answered 401
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// JSON API call; throws an Error with .status, .body and .retryAfter (seconds, from Retry-After)
export async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body instanceof FormData) opt.body = body;
  else if (body !== undefined) {
    opt.body = JSON.stringify(body);
    opt.headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(path, opt);
  let j = null;
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const msg = j && j.error ? j.error.message : r.status + ' ' + r.statusText;
    const err = new Error(msg);
    err.status = r.status;
    err.body = j;
    err.retryAfter = parseInt(r.headers.get('Retry-After') || '', 10) || 0;
    // a wrong password when deleting the account is not a lost session
    if (r.status === 401 && path !== '/api/login' && path !== '/api/account/delete' && onUnauthorized) onUnauthorized();
    throw err;
  }
  return j;
}

// ---- toasts ---------------------------------------------------------------------------------
// toast(msg, isError) shows a short message; toast(msg, false, {label, onclick, ms}) adds one
// action button (the Undo toast).
export function toast(msg, isError, action) {
  const t = document.getElementById('toast');
  const kids = [el('span', { class: 'msg', text: msg })];
  if (action) {
    kids.push(el('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
      el('button', { class: 'toast-action', id: 'toast-action', type: 'button', text: action.label,
        onclick: () => { t.hidden = true; action.onclick(); } }));
  }
  t.replaceChildren(...kids);
  t.className = 'toast' + (isError ? ' error' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  const ms = action ? (action.ms || 8000) : isError ? 5000 : 2500;
  toast.timer = setTimeout(() => { t.hidden = true; }, ms);
}

// wraps an async handler: any error becomes an error toast (401 is handled by the login page)
export function guard(fn) {
  return async (...a) => {
    try { await fn(...a); } catch (e) { if (e.status !== 401) toast(e.message, true); }
  };
}

// ---- modal dialogs ----------------------------------------------------------------------------
const stack = [];
export function dialogOpen() { return stack.length > 0; }

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

// Opens a modal. build(close) returns the dialog's children; close(v) removes it and resolves the
// returned promise with v (Escape, a click on the backdrop: undefined). opts: label (aria-label),
// cls (extra class on the dialog), overlayCls, onKey(e) (keys the dialog itself handles),
// closeOnClick(target) (which clicks close it; default: the backdrop only).
export function modal(build, opts) {
  opts = opts || {};
  return new Promise(resolve => {
    const before = document.activeElement;
    let closed = false;
    const dlg = el('div', { class: 'dialog ' + (opts.cls || ''), role: 'dialog', 'aria-modal': 'true',
      'aria-label': opts.label, tabindex: '-1' });
    const ov = el('div', { class: 'overlay ' + (opts.overlayCls || '') });
    const close = v => {
      if (closed) return;
      closed = true;
      ov.remove();
      stack.splice(stack.indexOf(ov), 1);
      document.removeEventListener('keydown', onKey, true);
      if (before && before.focus && document.contains(before)) before.focus();
      resolve(v);
    };
    const onKey = e => {
      if (stack[stack.length - 1] !== ov) return;
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(undefined); return; }
      if (e.key === 'Tab') {
        const f = [...dlg.querySelectorAll(FOCUSABLE)].filter(x => x.offsetParent !== null);
        if (!f.length) { e.preventDefault(); dlg.focus(); return; }
        const i = f.indexOf(document.activeElement);
        if (e.shiftKey && i <= 0) { e.preventDefault(); f[f.length - 1].focus(); }
        else if (!e.shiftKey && (i < 0 || i === f.length - 1)) { e.preventDefault(); f[0].focus(); }
        return;
      }
      if (opts.onKey) opts.onKey(e, close);
    };
    ov.addEventListener('click', e => {
      if (e.target === ov || (opts.closeOnClick && opts.closeOnClick(e.target))) close(undefined);
    });
    dlg.append(...build(close, dlg).filter(Boolean));
    ov.append(dlg);
    document.body.append(ov);
    stack.push(ov);
    document.addEventListener('keydown', onKey, true);
    const first = dlg.querySelector('[data-autofocus]') || dlg.querySelector(FOCUSABLE) || dlg;
    first.focus();
  });
}

function buttons(...kids) { return el('div', { class: 'dialog-buttons' }, kids); }

// "Are you sure?" dialog; resolves true for OK. o: title, text, ok (button label), danger.
export function confirmDialog(o) {
  return modal(close => [
    el('h3', { text: o.title }),
    o.text ? el('p', { class: 'dialog-text', text: o.text }) : null,
    buttons(
      el('button', { class: 'btn', type: 'button', id: 'dialog-cancel', onclick: () => close(false), text: 'Cancel' }),
      el('button', { class: 'btn ' + (o.danger ? 'danger-fill' : 'primary'), type: 'button', id: 'dialog-ok',
        'data-autofocus': o.danger ? null : true, onclick: () => close(true), text: o.ok || 'OK' })),
  ], { label: o.title, cls: 'small' }).then(v => v === true);
}

// Asks for one text; resolves with the text or null (cancelled). o: title, text, label, value,
// placeholder, type ("password"), ok, danger, required, submit(value) (async; its error is shown
// in the dialog, which then stays open).
export function promptDialog(o) {
  return modal(close => {
    const input = el('input', { class: 'text-input', id: 'dialog-input', type: o.type || 'text', value: o.value || '',
      placeholder: o.placeholder, 'aria-label': o.label, autocomplete: o.type === 'password' ? 'current-password' : 'off',
      'data-autofocus': true, maxlength: 256 });
    const err = el('p', { class: 'form-error', id: 'dialog-error', role: 'alert', hidden: true });
    const okBtn = el('button', { class: 'btn ' + (o.danger ? 'danger-fill' : 'primary'), type: 'submit', id: 'dialog-ok', text: o.ok || 'OK' });
    const form = el('form', { onsubmit: async e => {
      e.preventDefault();
      const v = input.value.trim();
      if (o.required && !v) { err.textContent = o.label + ' is required.'; err.hidden = false; input.focus(); return; }
      if (o.submit) {
        okBtn.disabled = true;
        try { await o.submit(o.type === 'password' ? input.value : v); }
        catch (x) { err.textContent = x.message; err.hidden = false; okBtn.disabled = false; input.focus(); return; }
      }
      close(o.type === 'password' ? input.value : v);
    } },
    el('label', { class: 'field' }, el('span', { text: o.label }), input), err,
    buttons(el('button', { class: 'btn', type: 'button', id: 'dialog-cancel', onclick: () => close(null), text: 'Cancel' }), okBtn));
    return [el('h3', { text: o.title }), o.text ? el('p', { class: 'dialog-text', text: o.text }) : null, form];
  }, { label: o.title, cls: 'small' }).then(v => (v === undefined ? null : v));
}

// A modal listing persons; resolves with the chosen person object, 0 for "unknown", or
// undefined (cancelled). opts: exclude (a person id), allowUnknown.
export async function pickPerson(title, opts, showHidden) {
  const { persons } = await api('GET', '/api/persons');
  return modal(close => {
    const items = persons.filter(p => p.id !== opts.exclude && (!p.hidden || showHidden)).map(p =>
      el('button', { type: 'button', 'data-person': p.id, onclick: () => close(p) }, avatar(p), el('div', { class: 'nm', text: personName(p) })));
    if (opts.allowUnknown) items.push(el('button', { type: 'button', 'data-person': 0, onclick: () => close(0) },
      el('div', { class: 'avatar initials', text: '?' }), el('div', { class: 'nm', text: 'Unknown' })));
    return [el('h3', { text: title }),
      items.length ? el('div', { class: 'pick' }, items) : el('p', { class: 'empty', text: 'No other person yet.' }),
      buttons(el('button', { class: 'btn', type: 'button', id: 'dialog-cancel', onclick: () => close(undefined), text: 'Cancel' }))];
  }, { label: title });
}
