// facehatch web UI: the People, person and Unknown faces pages. Actions reply with "op" and show
// an Undo toast (undo.js); many faces are moved, rejected or made into a new person at once with
// the selection bar (select.js); photos open in the lightbox (lightbox.js).
import { el, api, guard, plural, personName, avatar, thumb, pickPerson, confirmDialog, promptDialog } from './ui.js';
import { done } from './undo.js';
import { openLightbox } from './lightbox.js';
import { selection } from './select.js';
import { session } from './account.js';

export const view = { showHidden: false };
let rerender = () => {};
// fn() re-renders the current page after an action
export function setRerender(fn) { rerender = fn; }

function recognitionOff() {
  if (!session.user || session.user.recognition !== false) return null;
  return el('div', { class: 'notice', id: 'recognition-off' },
    'Face recognition is off for your account: no faces are found or grouped. Turn it on in the account menu.');
}

export async function pagePeople($main) {
  const { persons, unknown_faces } = await api('GET', '/api/persons');
  const shown = persons.filter(p => view.showHidden || !p.hidden);
  const nHidden = persons.filter(p => p.hidden).length;
  const toggle = el('label', { class: 'toggle' },
    el('input', { type: 'checkbox', id: 'show-hidden', checked: view.showHidden, onchange: e => { view.showHidden = e.target.checked; rerender(); } }),
    'Show hidden (' + nHidden + ')');
  const head = el('div', { class: 'page-head' },
    el('h1', { text: 'People' }), el('span', { class: 'sub', text: plural(shown.length, 'person') }),
    el('span', { class: 'spacer' }),
    unknown_faces ? el('a', { class: 'btn', href: '#/unknown', text: 'Review ' + plural(unknown_faces, 'unknown face') }) : null,
    toggle);
  let body;
  if (!persons.length) {
    body = el('div', { class: 'empty' }, 'No people yet. ',
      el('a', { href: '#/upload', text: 'Upload some photos' }),
      unknown_faces ? ' — ' + plural(unknown_faces, 'face') + ' are waiting for more photos of the same person.' : ' to get started.');
  } else {
    body = el('div', { class: 'grid', id: 'people' }, shown.map(p =>
      el('a', { class: 'person' + (p.hidden ? ' hidden-person' : ''), href: '#/person/' + p.id, 'data-person': p.id },
        avatar(p),
        el('div', { class: 'name' + (p.name ? '' : ' unnamed'), text: personName(p) }),
        el('div', { class: 'meta', text: plural(p.n_photos, 'photo') + (p.hidden ? ' · hidden' : '') }))));
  }
  $main.replaceChildren(recognitionOff() || '', head, body);
}

function nameEditor(p, nameEl) {
  nameEl.addEventListener('click', () => {
    const input = el('input', { class: 'name-input', id: 'name-input', value: p.name || '', placeholder: 'Name', 'aria-label': 'Name', maxlength: 256 });
    let finished = false;
    const save = guard(async () => {
      if (finished) return;
      finished = true;
      const v = input.value.trim();
      if (v !== (p.name || '')) {
        const r = await api('POST', '/api/persons/' + p.id + '/rename', { name: v || null });
        done(r, v ? 'Renamed to ' + v : 'Name removed');
      }
      rerender();
    });
    input.addEventListener('keydown', e => {
      if (e.key === 'Enter') save();
      if (e.key === 'Escape') { e.stopPropagation(); finished = true; rerender(); }
    });
    input.addEventListener('blur', save);
    nameEl.replaceWith(input);
    input.focus();
    input.select();
  });
}

// the person's best pictures by quality (GET /api/persons/#/avatars): the current avatar
// marked, the others one click from being the avatar; nothing when there is no choice
function avatarChoices(p, candidates) {
  if (candidates.length < 2) return null;
  const q = f => 'quality ' + f.quality.toFixed(2);
  return el('div', { class: 'avatar-choices', id: 'avatar-choices' },
    el('span', { class: 'label', text: 'Best pictures' }),
    candidates.map(f => {
      const img = thumb(f.id);
      if (f.id === p.avatar) return el('span', { class: 'choice current', 'data-face': f.id, title: 'Current avatar · ' + q(f) }, img);
      const use = guard(async () => {
        const r = await api('POST', '/api/persons/' + p.id + '/avatar', { face: f.id });
        done(r, 'Avatar set');
        rerender();
      });
      return el('button', { class: 'choice', type: 'button', 'data-face': f.id, title: 'Use as avatar · ' + q(f), 'aria-label': 'Use face ' + f.id + ' as avatar', onclick: use }, img);
    }));
}

export async function pagePerson($main, id) {
  const [d, av] = await Promise.all([api('GET', '/api/persons/' + id), api('GET', '/api/persons/' + id + '/avatars?limit=5')]);
  const p = d.person;
  const nameEl = el('h1', { class: 'editable', id: 'person-name', title: 'Click to rename', tabindex: '0', role: 'button', text: personName(p) });
  nameEl.addEventListener('keydown', e => { if (e.key === 'Enter') nameEl.click(); });
  nameEditor(p, nameEl);
  const merge = guard(async () => {
    const from = await pickPerson('Merge another person into ' + personName(p), { exclude: p.id }, view.showHidden);
    if (!from) return;
    const ok = await confirmDialog({ title: "Merge '" + personName(from) + "' (" + plural(from.n_faces, 'face') + ") into '" + personName(p) + "'?",
      text: 'All faces of ' + personName(from) + ' move to ' + personName(p) + ', and ' + personName(from) + ' is removed.', ok: 'Merge' });
    if (!ok) return;
    const r = await api('POST', '/api/persons/' + id + '/merge', { from: from.id });
    done(r, 'Merged');
    rerender();
  });
  const hide = guard(async () => {
    const r = await api('POST', '/api/persons/' + id + '/hide', { hidden: !p.hidden });
    done(r, p.hidden ? 'Visible again' : 'Hidden from People');
    rerender();
  });
  const del = guard(async () => {
    const ok = await confirmDialog({ title: "Delete '" + personName(p) + "'?",
      text: 'The ' + plural(p.n_faces, 'face') + ' go back to Unknown faces. The photos stay.', ok: 'Delete person', danger: true });
    if (!ok) return;
    const r = await api('POST', '/api/persons/' + id + '/delete');
    done(r, 'Deleted ' + personName(p));
    location.hash = '#/people';
  });
  const head = el('div', { class: 'person-head' }, avatar(p, 'big'),
    el('div', { class: 'info' }, nameEl,
      el('div', { class: 'sub', text: plural(p.n_faces, 'face') + ' in ' + plural(p.n_photos, 'photo') + (p.hidden ? ' · hidden' : '') }),
      avatarChoices(p, av.candidates)),
    el('div', { class: 'actions' },
      el('button', { class: 'btn', type: 'button', id: 'merge-btn', onclick: merge, text: 'Merge with…' }),
      el('button', { class: 'btn', type: 'button', id: 'hide-btn', onclick: hide, text: p.hidden ? 'Unhide' : 'Hide' }),
      el('button', { class: 'btn danger', type: 'button', id: 'delete-person-btn', onclick: del, text: 'Delete person…' })));

  const photoIndex = photo => Math.max(0, d.photos.findIndex(ph => ph.id === photo));
  const show = k => openLightbox(d.photos, k, () => rerender());
  const faces = el('div', { class: 'faces', id: 'faces' });
  const sel = selection(faces, [
    { id: 'bulk-move', label: 'Move to…', run: guard(async ids => {
      const to = await pickPerson('Move ' + plural(ids.length, 'face') + ' to…', { exclude: p.id, allowUnknown: true }, view.showHidden);
      if (to === undefined) return;
      const r = await api('POST', '/api/faces/move', { faces: ids, person: to ? to.id : null });
      done(r, 'Moved ' + plural(ids.length, 'face'));
      rerender();
    }) },
    { id: 'bulk-reject', label: 'Not ' + (p.name || 'this person'), cls: 'danger', run: guard(async ids => {
      const r = await api('POST', '/api/faces/reject', { faces: ids, person: p.id });
      done(r, plural(ids.length, 'face') + ' removed from ' + personName(p));
      rerender();
    }) },
  ]);
  for (const f of d.faces) {
    const setAvatar = guard(async () => {
      const r = await api('POST', '/api/persons/' + id + '/avatar', { face: f.id });
      done(r, 'Avatar set');
      rerender();
    });
    const reject = guard(async () => {
      const r = await api('POST', '/api/faces/' + f.id + '/reject', { person: p.id });
      done(r, 'Removed from ' + personName(p));
      rerender();
    });
    const move = guard(async () => {
      const to = await pickPerson('Move this face to…', { exclude: p.id, allowUnknown: true }, view.showHidden);
      if (to === undefined) return;
      const r = await api('POST', '/api/faces/' + f.id + '/move', { person: to ? to.id : null });
      done(r, 'Moved');
      rerender();
    });
    const img = thumb(f.id);
    img.classList.add('clickable');
    img.addEventListener('click', () => show(photoIndex(f.photo)));
    const card = el('div', { class: 'face', 'data-face': f.id },
      img,
      el('div', { class: 'tags' },
        f.id === p.avatar ? el('span', { class: 'tag star', text: 'avatar' }) : null,
        f.blurry ? el('span', { class: 'tag', text: 'blurry' }) : null),
      el('div', { class: 'ops' },
        f.id === p.avatar ? null : el('button', { class: 'btn small', type: 'button', onclick: setAvatar, text: 'Set as avatar' }),
        el('button', { class: 'btn small danger', type: 'button', onclick: reject, text: 'Not ' + (p.name || 'this person') }),
        el('button', { class: 'btn small', type: 'button', onclick: move, text: 'Move to…' })));
    sel.checkbox(card, f.id);
    faces.append(card);
  }
  const photos = el('div', { class: 'photos', id: 'photos' }, d.photos.map((ph, k) =>
    el('button', { class: 'photo', type: 'button', 'data-photo': ph.id, onclick: () => show(k), title: ph.name, 'aria-label': 'Open photo ' + (k + 1) },
      el('img', { src: '/api/photos/' + ph.id + '/image?max=480', alt: '', loading: 'lazy' }))));
  $main.replaceChildren(
    el('div', { class: 'page-head' }, el('a', { href: '#/people', text: '← People' })),
    head,
    el('div', { class: 'section-head' }, el('h2', { text: 'Faces' }), el('span', { class: 'spacer' }), sel.button),
    faces, el('h2', { text: 'Photos' }), photos, sel.bar);
  return sel;
}

// "Are these two one person?": the review queue's merge questions (a person split in two)
function mergeQuestions(merges) {
  if (!merges.length) return null;
  const box = el('div', { class: 'merges', id: 'merges' }, el('h2', { text: 'Same person?' }));
  for (const m of merges) {
    const a = m.person, b = m.other, na = personName(a), nb = personName(b);
    box.append(el('div', { class: 'merge-question', 'data-person': a.id, 'data-other': b.id },
      el('a', { href: '#/person/' + a.id }, avatar(a)), el('a', { href: '#/person/' + b.id }, avatar(b)),
      el('div', { class: 'ask', text: 'Are ' + na + ' (' + plural(a.faces, 'face') + ') and ' + nb + ' (' + plural(b.faces, 'face') + ') one person?' }),
      el('div', { class: 'row' },
        el('button', { class: 'btn primary small', type: 'button', 'data-answer': 'merge', onclick: guard(async () => {
          const r = await api('POST', '/api/persons/' + a.id + '/merge', { from: b.id });
          done(r, 'Merged ' + nb + ' into ' + na);
          rerender();
        }), text: 'Yes, merge' }),
        el('button', { class: 'btn small', type: 'button', 'data-answer': 'apart', onclick: guard(async () => {
          const r = await api('POST', '/api/persons/' + a.id + '/apart', { person: b.id });
          done(r, 'Noted: ' + nb + ' is not ' + na);
          rerender();
        }), text: 'No' }))));
  }
  return box;
}

export async function pageUnknown($main) {
  const [d, mq] = await Promise.all([api('GET', '/api/unknown?limit=200'), api('GET', '/api/review/merges?limit=5')]);
  const head = el('div', { class: 'page-head' }, el('h1', { text: 'Unknown faces' }),
    el('span', { class: 'sub', text: plural(d.total, 'face') + ' not assigned to anyone' }));
  const merges = mergeQuestions(mq.merges);
  if (!d.faces.length) {
    $main.replaceChildren(recognitionOff() || '', head, merges || '', el('div', { class: 'empty', text: 'Nothing to review. Every face belongs to someone.' }));
    return null;
  }
  // the photos of this page, in order of first appearance, for the lightbox
  const photos = [];
  for (const { face } of d.faces) if (!photos.some(ph => ph.id === face.photo)) photos.push({ id: face.photo });
  const show = photo => openLightbox(photos, photos.findIndex(ph => ph.id === photo), () => rerender());
  const list = el('div', { class: 'questions', id: 'questions' });
  const sel = selection(list, [
    { id: 'bulk-new', label: 'New person…', cls: 'primary', run: guard(async ids => {
      let made = null;
      const name = await promptDialog({ title: 'New person from ' + plural(ids.length, 'face'), label: 'Name', placeholder: 'Name (optional)', ok: 'Create person',
        submit: async v => { made = await api('POST', '/api/persons', { name: v || null, faces: ids }); } });
      if (name === null || !made) return;
      done(made, 'Created ' + (made.person ? personName(made.person) : 'a person'));
      if (made.person) location.hash = '#/person/' + made.person.id;
      else rerender();
    }) },
    { id: 'bulk-assign', label: 'Assign to…', run: guard(async ids => {
      const to = await pickPerson('Who are these ' + plural(ids.length, 'face') + '?', { exclude: 0 }, view.showHidden);
      if (!to) return;
      const r = await api('POST', '/api/faces/move', { faces: ids, person: to.id });
      done(r, 'Assigned ' + plural(ids.length, 'face') + ' to ' + personName(to) + (r.pulled ? ' (+' + plural(r.pulled, 'similar face') + ')' : ''));
      rerender();
    }) },
  ]);
  for (const { face, suggestion } of d.faces) {
    const move = guard(async () => {
      const to = await pickPerson('Who is this?', { exclude: 0 }, view.showHidden);
      if (!to) return;
      const r = await api('POST', '/api/faces/' + face.id + '/move', { person: to.id });
      done(r, 'Assigned');
      rerender();
    });
    const makeNew = guard(async () => {
      let made = null;
      const name = await promptDialog({ title: 'New person', label: 'Name', placeholder: 'Name (optional)', ok: 'Create person',
        submit: async v => { made = await api('POST', '/api/persons', { name: v || null, faces: [face.id] }); } });
      if (name === null || !made) return;
      done(made, 'Created ' + (made.person ? personName(made.person) : 'a person'));
      rerender();
    });
    let ask, row;
    if (suggestion) {
      const nm = suggestion.name || 'Unnamed #' + suggestion.person;
      ask = el('div', { class: 'ask' }, 'Is this ' + nm + '?',
        el('span', { class: 'dist', text: 'distance ' + suggestion.distance.toFixed(2) }));
      row = el('div', { class: 'row' },
        el('button', { class: 'btn primary small', type: 'button', 'data-answer': 'yes', onclick: guard(async () => {
          const r = await api('POST', '/api/faces/' + face.id + '/move', { person: suggestion.person });
          done(r, 'Added to ' + nm + (r.pulled ? ' with ' + plural(r.pulled, 'similar face') : ''));
          rerender();
        }), text: 'Yes' }),
        el('button', { class: 'btn small', type: 'button', 'data-answer': 'no', onclick: guard(async () => {
          const r = await api('POST', '/api/faces/' + face.id + '/reject', { person: suggestion.person });
          done(r, 'Noted: not ' + nm);
          rerender();
        }), text: 'No' }),
        el('button', { class: 'btn small', type: 'button', onclick: move, text: 'Someone else…' }));
    } else {
      ask = el('div', { class: 'ask', text: 'Who is this?' });
      row = el('div', { class: 'row' },
        el('button', { class: 'btn small', type: 'button', onclick: move, text: 'Choose person…' }),
        el('button', { class: 'btn small', type: 'button', 'data-answer': 'new', onclick: makeNew, text: 'New person…' }));
    }
    const card = el('div', { class: 'question', 'data-face': face.id },
      el('img', { src: '/api/faces/' + face.id + '/thumb', alt: 'unknown face', class: 'clickable', onclick: () => show(face.photo) }),
      ask, row);
    sel.checkbox(card, face.id);
    list.append(card);
  }
  head.append(el('span', { class: 'spacer' }), sel.button);
  $main.replaceChildren(recognitionOff() || '', head, merges || '', list, sel.bar);
  return sel;
}

