// facehatch web UI: Undo. Every action reply that carries "op" ({id, summary}) is shown as a toast
// "<summary> · Undo" for 8 s; Undo (or Ctrl+Z outside text fields) calls POST /api/undo, which
// undoes the user's latest operation, and refreshes the page.
import { api, toast } from './ui.js';

let refresh = () => {};
// fn() re-renders the current page after an undo
export function setUndoRefresh(fn) { refresh = fn; }

// Shows the reply's operation with an Undo button, or `fallback` when the reply has no "op".
export function done(reply, fallback) {
  if (reply && reply.op && reply.op.summary) toast(reply.op.summary, false, { label: 'Undo', onclick: undo, ms: 8000 });
  else if (fallback) toast(fallback);
}

export async function undo() {
  try {
    const r = await api('POST', '/api/undo', {});
    toast('Undone: ' + (r && r.undone ? r.undone.summary : 'last change'));
  } catch (e) {
    if (e.status === 401) return;
    toast(e.status === 409 || e.status === 404 ? 'Nothing to undo' : e.message, e.status !== 409 && e.status !== 404);
    return;
  }
  await refresh();
}
