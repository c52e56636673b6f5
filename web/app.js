// facehatch web UI: plain JavaScript, no framework, no network beyond this server.
// Pages are chosen by the URL hash: #/people, #/person/ID, #/unknown, #/upload, #/search.
'use strict';

const $main = document.getElementById('main');
let showHidden = false;
let statusTimer = null;
let lastFinished = -1;

// ---- helpers ----------------------------------------------------------------------------
function el(tag, attrs, ...kids) {
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

async function api(method, path, body) {
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
    throw err;
  }
  return j;
}

function toast(msg, isError) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = 'toast' + (isError ? ' error' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, isError ? 5000 : 2500);
}

function guard(fn) {
  return async (...a) => {
    try { await fn(...a); } catch (e) { toast(e.message, true); }
  };
}

function personName(p) { return p.name || 'Unnamed #' + p.id; }
function initials(p) {
  if (!p.name) return '?';
  return p.name.split(/\s+/).filter(Boolean).slice(0, 2).map(s => s[0].toUpperCase()).join('');
}
function avatar(p, cls) {
  if (p.avatar) return el('img', { class: 'avatar ' + (cls || ''), src: '/api/faces/' + p.avatar + '/thumb', alt: personName(p), loading: 'lazy' });
  return el('div', { class: 'avatar initials ' + (cls || ''), text: initials(p) });
}
function thumb(faceId, alt) {
  return el('img', { src: '/api/faces/' + faceId + '/thumb', alt: alt || 'face ' + faceId, loading: 'lazy' });
}
function plural(n, w) { return n + ' ' + w + (n === 1 ? '' : 's'); }

// A modal listing persons; resolves with a person id, 0 for "unknown", or undefined.
async function pickPerson(title, opts) {
  const { persons } = await api('GET', '/api/persons');
  return new Promise(resolve => {
    const close = v => { ov.remove(); document.removeEventListener('keydown', onKey); resolve(v); };
    const onKey = e => { if (e.key === 'Escape') close(undefined); };
    const items = persons.filter(p => p.id !== opts.exclude && (!p.hidden || showHidden)).map(p =>
      el('button', { 'data-person': p.id, onclick: () => close(p.id) }, avatar(p), el('div', { class: 'nm', text: personName(p) })));
    if (opts.allowUnknown) items.push(el('button', { 'data-person': 0, onclick: () => close(0) },
      el('div', { class: 'avatar initials', text: '?' }), el('div', { class: 'nm', text: 'Unknown' })));
    const ov = el('div', { class: 'overlay', onclick: e => { if (e.target === ov) close(undefined); } },
      el('div', { class: 'dialog', role: 'dialog', 'aria-label': title },
        el('h3', { text: title }),
        items.length ? el('div', { class: 'pick' }, items) : el('p', { class: 'empty', text: 'No other person yet.' }),
        el('div', { class: 'page-head' }, el('span', { class: 'spacer' }), el('button', { class: 'btn', onclick: () => close(undefined), text: 'Cancel' }))));
    document.addEventListener('keydown', onKey);
    document.body.append(ov);
  });
}

function lightbox(photoId) {
  const ov = el('div', { class: 'overlay lightbox', onclick: () => ov.remove() },
    el('img', { src: '/api/photos/' + photoId + '/image', alt: 'photo ' + photoId }));
  document.body.append(ov);
}

// ---- pages ---------------------------------------------------------------------------------
async function pagePeople() {
  const { persons, unknown_faces } = await api('GET', '/api/persons');
  const shown = persons.filter(p => showHidden || !p.hidden);
  const nHidden = persons.filter(p => p.hidden).length;
  const toggle = el('label', { class: 'toggle' },
    el('input', { type: 'checkbox', id: 'show-hidden', checked: showHidden, onchange: e => { showHidden = e.target.checked; route(); } }),
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
  $main.replaceChildren(head, body);
}

async function pagePerson(id) {
  const d = await api('GET', '/api/persons/' + id);
  const p = d.person;
  const nameEl = el('h1', { class: 'editable', id: 'person-name', title: 'Click to rename', text: personName(p) });
  nameEl.addEventListener('click', () => {
    const input = el('input', { class: 'name-input', id: 'name-input', value: p.name || '', placeholder: 'Name', 'aria-label': 'Name' });
    let done = false;
    const save = guard(async () => {
      if (done) return;
      done = true;
      const v = input.value.trim();
      if (v !== (p.name || '')) {
        await api('POST', '/api/persons/' + id + '/rename', { name: v || null });
        toast(v ? 'Renamed to ' + v : 'Name removed');
      }
      route();
    });
    input.addEventListener('keydown', e => {
      if (e.key === 'Enter') save();
      if (e.key === 'Escape') { done = true; route(); }
    });
    input.addEventListener('blur', save);
    nameEl.replaceWith(input);
    input.focus();
    input.select();
  });
  const merge = guard(async () => {
    const from = await pickPerson('Merge another person into ' + personName(p), { exclude: p.id });
    if (!from) return;
    await api('POST', '/api/persons/' + id + '/merge', { from });
    toast('Merged');
    route();
  });
  const hide = guard(async () => {
    await api('POST', '/api/persons/' + id + '/hide', { hidden: !p.hidden });
    toast(p.hidden ? 'Visible again' : 'Hidden from People');
    route();
  });
  const head = el('div', { class: 'person-head' }, avatar(p, 'big'),
    el('div', { class: 'info' }, nameEl,
      el('div', { class: 'sub', text: plural(p.n_faces, 'face') + ' in ' + plural(p.n_photos, 'photo') + (p.hidden ? ' · hidden' : '') })),
    el('div', { class: 'actions' },
      el('button', { class: 'btn', id: 'merge-btn', onclick: merge, text: 'Merge with…' }),
      el('button', { class: 'btn', id: 'hide-btn', onclick: hide, text: p.hidden ? 'Unhide' : 'Hide' })));

  const faces = el('div', { class: 'faces', id: 'faces' }, d.faces.map(f => {
    const setAvatar = guard(async () => {
      await api('POST', '/api/persons/' + id + '/avatar', { face: f.id });
      toast('Avatar set');
      route();
    });
    const reject = guard(async () => {
      await api('POST', '/api/faces/' + f.id + '/reject', { person: p.id });
      toast('Removed from ' + personName(p));
      route();
    });
    const move = guard(async () => {
      const to = await pickPerson('Move this face to…', { exclude: p.id, allowUnknown: true });
      if (to === undefined) return;
      await api('POST', '/api/faces/' + f.id + '/move', { person: to || null });
      toast('Moved');
      route();
    });
    return el('div', { class: 'face', 'data-face': f.id },
      thumb(f.id),
      el('div', { class: 'tags' },
        f.id === p.avatar ? el('span', { class: 'tag star', text: 'avatar' }) : null,
        f.blurry ? el('span', { class: 'tag', text: 'blurry' }) : null),
      el('div', { class: 'ops' },
        f.id === p.avatar ? null : el('button', { class: 'btn small', onclick: setAvatar, text: 'Set as avatar' }),
        el('button', { class: 'btn small danger', onclick: reject, text: 'Not ' + (p.name || 'this person') }),
        el('button', { class: 'btn small', onclick: move, text: 'Move to…' })));
  }));
  const photos = el('div', { class: 'photos' }, d.photos.map(ph =>
    el('div', { class: 'photo', onclick: () => lightbox(ph.id), title: ph.name },
      el('img', { src: '/api/photos/' + ph.id + '/image?max=480', alt: ph.name, loading: 'lazy' }))));
  $main.replaceChildren(
    el('div', { class: 'page-head' }, el('a', { href: '#/people', text: '← People' })),
    head, el('h2', { text: 'Faces' }), faces, el('h2', { text: 'Photos' }), photos);
}

async function pageUnknown() {
  const d = await api('GET', '/api/unknown?limit=200');
  const head = el('div', { class: 'page-head' }, el('h1', { text: 'Unknown faces' }),
    el('span', { class: 'sub', text: plural(d.total, 'face') + ' not assigned to anyone' }));
  if (!d.faces.length) {
    $main.replaceChildren(head, el('div', { class: 'empty', text: 'Nothing to review. Every face belongs to someone.' }));
    return;
  }
  const cards = d.faces.map(({ face, suggestion }) => {
    const move = guard(async () => {
      const to = await pickPerson('Who is this?', { exclude: 0 });
      if (!to) return;
      await api('POST', '/api/faces/' + face.id + '/move', { person: to });
      toast('Assigned');
      route();
    });
    let ask, row;
    if (suggestion) {
      const nm = suggestion.name || 'Unnamed #' + suggestion.person;
      ask = el('div', { class: 'ask' }, 'Is this ' + nm + '?',
        el('span', { class: 'dist', text: 'distance ' + suggestion.distance.toFixed(2) }));
      row = el('div', { class: 'row' },
        el('button', { class: 'btn primary small', 'data-answer': 'yes', onclick: guard(async () => {
          await api('POST', '/api/faces/' + face.id + '/move', { person: suggestion.person });
          toast('Added to ' + nm);
          route();
        }), text: 'Yes' }),
        el('button', { class: 'btn small', 'data-answer': 'no', onclick: guard(async () => {
          await api('POST', '/api/faces/' + face.id + '/reject', { person: suggestion.person });
          toast('Noted: not ' + nm);
          route();
        }), text: 'No' }),
        el('button', { class: 'btn small', onclick: move, text: 'Someone else…' }));
    } else {
      ask = el('div', { class: 'ask', text: 'Who is this?' });
      row = el('div', { class: 'row' }, el('button', { class: 'btn small', onclick: move, text: 'Choose person…' }));
    }
    return el('div', { class: 'question', 'data-face': face.id },
      el('img', { src: '/api/faces/' + face.id + '/thumb', alt: 'unknown face', class: 'clickable', onclick: () => lightbox(face.photo) }),
      ask, row);
  });
  $main.replaceChildren(head, el('div', { class: 'questions' }, cards));
}

function dropZone(id, text, multiple, onFiles) {
  const input = el('input', { type: 'file', id: id + '-input', accept: 'image/jpeg,image/png,image/heic,image/heif,image/webp,.heic,.heif', multiple, hidden: true,
    onchange: () => { if (input.files.length) onFiles([...input.files]); input.value = ''; } });
  const zone = el('div', { class: 'drop', id, tabindex: 0, role: 'button',
    onclick: () => input.click(), onkeydown: e => { if (e.key === 'Enter' || e.key === ' ') input.click(); } },
    el('div', { class: 'big', text }), el('div', { class: 'hint', text: 'JPEG, PNG, HEIC or WebP · drop here or click to choose' }), input);
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = [...e.dataTransfer.files];
    if (files.length) onFiles(multiple ? files : files.slice(0, 1));
  });
  return zone;
}

// uploads with XMLHttpRequest for byte progress; resolves with the JSON reply
function postForm(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.upload.onprogress = e => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    x.onload = () => {
      let j = null;
      try { j = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
      if (x.status >= 200 && x.status < 300) resolve(j);
      else if (j && j.files) resolve(j); // every file rejected: the per-file reasons are in files
      else reject(new Error(j && j.error ? j.error.message : 'HTTP ' + x.status));
    };
    x.onerror = () => reject(new Error('upload failed (connection lost or request too large)'));
    x.send(form);
  });
}

const upload = { total: 0, base: 0, files: [] };

async function pageUpload() {
  const bar = el('div'), text = el('div', { class: 'progress-text', id: 'upload-progress-text' });
  const list = el('ul', { class: 'results', id: 'upload-results', hidden: true });
  const prog = el('div', { class: 'progress', id: 'upload-progress', hidden: true }, bar);
  const after = el('div', { id: 'upload-after' });
  const render = () => {
    list.replaceChildren(...upload.files.map(f => el('li', {},
      el('span', { class: 'st ' + (f.status === 'failed' || f.status === 'rejected' ? 'bad' : f.status === 'indexed' ? 'ok' : ''), text: f.status }),
      el('span', { text: f.name }), f.faces !== undefined ? el('span', { class: 'err', text: plural(f.faces, 'face') }) : null,
      f.error ? el('span', { class: 'err', text: f.error }) : null)));
    list.hidden = !upload.files.length;
  };
  const onFiles = guard(async files => {
    prog.hidden = false;
    bar.style.width = '0%';
    const batch = 16 * 1024 * 1024; // several requests for many files: each stays far below the request limit
    let groups = [], cur = [], size = 0;
    for (const f of files) {
      if (cur.length && size + f.size > batch) { groups.push(cur); cur = []; size = 0; }
      cur.push(f); size += f.size;
    }
    if (cur.length) groups.push(cur);
    let sent = 0;
    for (const g of groups) {
      const form = new FormData();
      for (const f of g) form.append('files', f, f.name);
      text.textContent = 'Uploading ' + plural(files.length, 'photo') + '…';
      const r = await postForm('/api/upload', form, p => { bar.style.width = (100 * (sent + p * g.length) / files.length * 0.3).toFixed(1) + '%'; });
      sent += g.length;
      for (const f of r.files) {
        upload.files.unshift({ name: f.name, file: f.file, status: f.status, error: f.error ? f.error.message : null });
        if (f.status === 'queued') upload.total++;
      }
      render();
    }
    pollStatus();
  });
  upload.render = () => {
    if (!upload.total) return;
    const done = Math.min(upload.done || 0, upload.total);
    bar.style.width = (30 + 70 * done / upload.total).toFixed(1) + '%';
    text.textContent = done < upload.total ? 'Indexing ' + done + ' of ' + plural(upload.total, 'photo') + '…'
      : 'Done: ' + plural(upload.total, 'photo') + ' indexed. ';
    if (done >= upload.total) {
      text.append(el('a', { href: '#/people', id: 'see-people', text: 'See the people found →' }));
    }
    render();
  };
  $main.replaceChildren(
    el('div', { class: 'page-head' }, el('h1', { text: 'Upload photos' }),
      el('span', { class: 'sub', text: 'Faces are found and grouped into people in the background.' })),
    dropZone('upload-drop', 'Drop photos here', true, onFiles), prog, text, list, after);
  render();
  upload.render();
}

async function pageSearch() {
  const out = el('div', { id: 'search-out' });
  const onFiles = guard(async files => {
    const f = files[0];
    out.replaceChildren(el('p', { class: 'progress-text', text: 'Looking for faces in ' + f.name + '…' }));
    const form = new FormData();
    form.append('image', f, f.name);
    const r = await api('POST', '/api/search', form);
    const url = URL.createObjectURL(f);
    const img = el('img', { src: url, alt: f.name });
    const stage = el('div', { class: 'stage' }, img);
    const matches = el('div', { class: 'matches', id: 'matches' });
    r.faces.sort((x, y) => (y.person ? 1 : 0) - (x.person ? 1 : 0)); // known people first
    r.faces.forEach((m, i) => {
      const b = el('div', { class: 'box' + (m.person ? ' known' : '') }, el('span', { text: m.person ? personName(m.person) : 'face ' + (i + 1) }));
      b.style.left = (100 * m.box[0] / r.width) + '%';
      b.style.top = (100 * m.box[1] / r.height) + '%';
      b.style.width = (100 * (m.box[2] - m.box[0] + 1) / r.width) + '%';
      b.style.height = (100 * (m.box[3] - m.box[1] + 1) / r.height) + '%';
      stage.append(b);
      matches.append(m.person
        ? el('a', { class: 'match', href: '#/person/' + m.person.id }, avatar(m.person),
          el('div', {}, el('div', { text: personName(m.person) }), el('div', { class: 'd', text: 'distance ' + m.distance.toFixed(2) })))
        : el('div', { class: 'match' }, el('div', { class: 'ph' }),
          el('div', {}, el('div', { text: 'Face ' + (i + 1) + ': nobody known' }), el('div', { class: 'd', text: 'not in your library yet' }))));
    });
    if (!r.faces.length) matches.append(el('div', { class: 'empty', text: 'No face found in this photo.' }));
    out.replaceChildren(el('div', { class: 'search-out' }, stage, matches));
  });
  $main.replaceChildren(
    el('div', { class: 'page-head' }, el('h1', { text: 'Search by photo' }),
      el('span', { class: 'sub', text: 'Who is in this photo? The photo is not added to the library.' })),
    dropZone('search-drop', 'Drop a photo to search', false, onFiles), out);
}

// ---- indexing status (polled while busy) --------------------------------------------------------
async function pollStatus() {
  clearTimeout(statusTimer);
  let busy = false;
  try {
    const s = (await api('GET', '/api/status?recent=200')).indexing;
    busy = s.busy;
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
  } catch (e) { /* server restarting: try again */ }
  statusTimer = setTimeout(pollStatus, busy ? 800 : 4000);
}

async function refreshBadge() {
  try {
    const { unknown_faces } = await api('GET', '/api/persons');
    const b = document.getElementById('unknown-badge');
    b.textContent = unknown_faces;
    b.hidden = !unknown_faces;
  } catch (e) { /* ignore */ }
}

// ---- router --------------------------------------------------------------------------------------
async function route() {
  const h = location.hash || '#/people';
  const m = h.match(/^#\/(\w+)(?:\/(\d+))?/);
  const page = m ? m[1] : 'people';
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === (page === 'person' ? 'people' : page)));
  try {
    if (page === 'person' && m[2]) await pagePerson(m[2]);
    else if (page === 'unknown') await pageUnknown();
    else if (page === 'upload') await pageUpload();
    else if (page === 'search') await pageSearch();
    else await pagePeople();
  } catch (e) {
    $main.replaceChildren(el('div', { class: 'empty', text: e.status === 404 ? 'Not found: ' + e.message : 'Error: ' + e.message }));
  }
}

window.addEventListener('hashchange', route);
route();
pollStatus();
refreshBadge();
