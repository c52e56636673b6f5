// facehatch web UI: the Upload and Search-by-photo pages (both take files by drag and drop or
// the file picker). Upload progress comes from /api/status, polled by app.js.
import { el, api, guard, plural, personName, avatar } from './ui.js';

let poll = () => {};
// fn() polls /api/status now (after an upload)
export function setUploadPoll(fn) { poll = fn; }

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

export const upload = { total: 0, base: 0, files: [] };

export async function pageUpload($main) {
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
    poll();
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

export async function pageSearch($main) {
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

