// facehatch web UI: the photo lightbox. Shows one photo of a list large, with previous/next
// (buttons, ArrowLeft/ArrowRight), "Delete photo" (confirmed), and closes with Escape, the close
// button or a click outside the photo.
import { el, api, modal, confirmDialog, guard } from './ui.js';
import { done } from './undo.js';

// photos: [{id, name}] (the photos of the current page), index: the one shown first.
// onDeleted(): called after a photo was deleted (the lightbox is closed then).
export function openLightbox(photos, index, onDeleted) {
  if (!photos.length) return Promise.resolve();
  let i = Math.max(0, Math.min(index, photos.length - 1));
  let showAt = () => {};
  return modal((close, dlg) => {
    const img = el('img', { id: 'lb-img', alt: '' });
    const count = el('span', { class: 'lb-count', id: 'lb-count' });
    const prev = el('button', { class: 'lb-nav prev', id: 'lb-prev', type: 'button', 'aria-label': 'Previous photo', onclick: () => show(i - 1) },
      el('span', { 'aria-hidden': 'true', text: '‹' }));
    const next = el('button', { class: 'lb-nav next', id: 'lb-next', type: 'button', 'aria-label': 'Next photo', onclick: () => show(i + 1) },
      el('span', { 'aria-hidden': 'true', text: '›' }));
    function show(k) {
      if (k < 0 || k >= photos.length) return;
      i = k;
      const ph = photos[i];
      img.src = '/api/photos/' + ph.id + '/image';
      img.alt = 'photo ' + (i + 1) + ' of ' + photos.length;
      img.dataset.photo = ph.id;
      count.textContent = (i + 1) + ' / ' + photos.length;
      prev.disabled = i === 0;
      next.disabled = i === photos.length - 1;
      dlg.setAttribute('aria-label', 'Photo ' + (i + 1) + ' of ' + photos.length);
      // the neighbours load while this one is looked at
      for (const n of [i - 1, i + 1]) if (n >= 0 && n < photos.length) new Image().src = '/api/photos/' + photos[n].id + '/image';
    }
    showAt = show;
    const del = guard(async () => {
      const ph = photos[i];
      const ok = await confirmDialog({ title: 'Delete this photo?',
        text: 'The photo and its faces are removed from your library and from every person.', ok: 'Delete photo', danger: true });
      if (!ok) return;
      const r = await api('POST', '/api/photos/' + ph.id + '/delete');
      done(r, 'Photo deleted');
      close(undefined);
      if (onDeleted) onDeleted(ph.id);
    });
    show(i);
    return [
      el('div', { class: 'lb-bar' }, count, el('span', { class: 'spacer' }),
        el('button', { class: 'btn small lb-btn', id: 'lb-delete', type: 'button', onclick: del, text: 'Delete photo' }),
        el('button', { class: 'lb-close', id: 'lb-close', type: 'button', 'aria-label': 'Close', 'data-autofocus': true, onclick: () => close(undefined) },
          el('span', { 'aria-hidden': 'true', text: '×' }))),
      el('div', { class: 'lb-stage' }, prev, img, next),
    ];
  }, {
    label: 'Photo', cls: 'lb', overlayCls: 'lightbox',
    closeOnClick: t => !t.closest('button, img'),
    onKey: e => {
      if (e.key === 'ArrowLeft') { e.preventDefault(); showAt(i - 1); }
      else if (e.key === 'ArrowRight') { e.preventDefault(); showAt(i + 1); }
    },
  });
}
