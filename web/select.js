// facehatch web UI: selecting many faces at once. Each face card gets a checkbox; checking one
// (or "Select") starts selection mode, where a click on a card toggles it and a sticky action bar
// shows the count, "Select all", the page's bulk actions and "Cancel" (Escape cancels too).
import { el, plural } from './ui.js';

// container: the element holding the cards; actions: [{id, label, cls, run(ids)}] (run gets the
// selected face ids as numbers). Returns {bar, button, checkbox(card, id), active(), cancel()}.
export function selection(container, actions) {
  const sel = new Set();
  let on = false;
  const count = el('span', { class: 'count', id: 'sel-count', 'aria-live': 'polite' });
  const all = el('button', { class: 'btn small', type: 'button', id: 'sel-all', onclick: () => {
    for (const cb of container.querySelectorAll('input.sel')) { cb.checked = true; sel.add(+cb.dataset.face); }
    update();
  }, text: 'Select all' });
  const acts = actions.map(a => el('button', { class: 'btn small ' + (a.cls || ''), type: 'button', id: a.id,
    onclick: () => { if (sel.size) a.run([...sel]); }, text: a.label }));
  const cancelBtn = el('button', { class: 'btn small', type: 'button', id: 'sel-cancel', onclick: () => cancel(), text: 'Cancel' });
  const bar = el('div', { class: 'actionbar', id: 'actionbar', role: 'toolbar', 'aria-label': 'Selected faces', hidden: true },
    count, all, el('span', { class: 'spacer' }), acts, cancelBtn);
  const button = el('button', { class: 'btn small', type: 'button', id: 'select-btn', onclick: () => (on ? cancel() : start()), text: 'Select' });

  function update() {
    count.textContent = plural(sel.size, 'face') + ' selected';
    for (const b of acts) b.disabled = !sel.size;
    for (const cb of container.querySelectorAll('input.sel')) cb.parentElement.parentElement.classList.toggle('selected', cb.checked);
    container.classList.toggle('selecting', on);
    bar.hidden = !on;
    document.body.classList.toggle('has-actionbar', on);
    button.textContent = on ? 'Done' : 'Select';
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  function start() { on = true; update(); }
  function cancel() {
    on = false;
    sel.clear();
    for (const cb of container.querySelectorAll('input.sel')) cb.checked = false;
    update();
  }
  // adds the checkbox to a card; in selection mode a click on the card (not on its buttons) toggles it
  function checkbox(card, id) {
    const cb = el('input', { type: 'checkbox', class: 'sel', 'data-face': id, 'aria-label': 'Select face ' + id,
      onchange: () => { if (cb.checked) { sel.add(id); on = true; } else sel.delete(id); update(); } });
    card.addEventListener('click', e => {
      if (!on || e.target === cb || e.target.closest('button, a')) return;
      e.preventDefault();
      e.stopPropagation();
      cb.checked = !cb.checked;
      cb.dispatchEvent(new Event('change'));
    }, true);
    card.prepend(el('label', { class: 'sel-box' }, cb));
  }
  update();
  return { bar, button, checkbox, active: () => on, cancel };
}
