// Other web pages cannot drive facehatch (issue 7), in headless Chromium (playwright-core, the
// system chromium):
// * CSRF: an attacker page on a second origin (a static server on another port of 127.0.0.1, run
//   here) sends, by auto-submitted forms and no-cors fetches: a text/plain form carrying JSON to
//   rename, hide, merge (fetch and form), uploads (a form whose file input the test fills, and a
//   FormData fetch), photo delete and undo. Every one must reach the server and be refused (403,
//   seen on the wire through the browser's network events) and the library must be unchanged
//   (persons, photos, uploads, undo log: read over the API from this process).
// * CORS: the attacker page cannot read GET /api/persons (no Access-Control-Allow-Origin; its
//   fetch rejects).
// * DNS rebinding: Chromium resolves rebind.test to 127.0.0.1; a page of that origin (served by the
//   attacker before the rebind; its script is run in that origin by the test) gets 421 for the UI, /api/persons,
//   face crops and photos. Positive control: server B, started with --host rebind.test, serves it.
// * Positive controls for CSRF: the same requests from facehatch's own page succeed and change the
//   library, so the refusals above are the Origin check and not a broken setup.
// Run by tests/cli/test_browser_xorigin.sh (FH_URL: server A; FH_URL_HOST: server B with
// --host rebind.test; FH_DB: the library; LFW). Screenshot: $ARTIFACTS/xorigin.png.
// Ends with "N passed, M failed"; exit status 1 on any failure.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const URL = process.env.FH_URL;             // server A: http://127.0.0.1:PORT
const URL_HOST = process.env.FH_URL_HOST;   // server B: the same library, --host rebind.test
const DB = process.env.FH_DB;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ART = process.env.ARTIFACTS || 'build/test-artifacts';
const LFW = process.env.LFW || '../shared/data/lfw/lfw-deepfunneled';
const JPEG = path.join(LFW, 'Serena_Williams', 'Serena_Williams_0001.jpg');
let pass = 0, fail = 0;

function check(desc, cond, detail) {
  if (cond) { pass++; console.log('ok   ' + desc); }
  else { fail++; console.log('FAIL ' + desc + (detail ? ': ' + detail : '')); }
}

// the API from this process, as facehatch's own page would call it
async function api(p, init = {}) {
  const headers = Object.assign({ Origin: URL }, init.headers || {});
  const r = await fetch(URL + p, Object.assign({}, init, { headers }));
  return { status: r.status, headers: r.headers, body: await r.json().catch(() => null) };
}

function countFiles(dir) {
  let n = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

// Everything an attack could change, as one comparable string.
async function snapshot(photoIds) {
  const persons = await api('/api/persons');
  const out = { persons: persons.body, details: [], photos: [] };
  for (const p of (persons.body && persons.body.persons) || []) out.details.push((await api('/api/persons/' + p.id)).body);
  for (const id of photoIds) { const r = await api('/api/photos/' + id); out.photos.push([id, r.status, r.body]); }
  const st = (await api('/api/status')).body;
  out.submitted = st && st.indexing ? st.indexing.submitted : null;
  out.uploads = DB ? countFiles(DB + '.uploads') : null;
  return JSON.stringify(out);
}

function attackerPage(fh, ids) {
  const { p1, p2, photo } = ids;
  const frame = n => `<iframe name="${n}" width="220" height="70"></iframe>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>attacker</title>
<style>body{font:14px sans-serif;background:#fee} iframe{border:1px solid #a00;background:#fff}</style></head>
<body><h1>An unrelated web page (another origin) trying to drive facehatch at ${fh}</h1>
<p id="log">running...</p>
<form id="f-rename" method="POST" enctype="text/plain" target="t-rename" action="${fh}/api/persons/${p1}/rename">
  <input name='{"name":"pwned","x":"' value='"}'></form>
<form id="f-merge" method="POST" target="t-merge" action="${fh}/api/persons/${p1}/merge">
  <input name="from" value="${p2}"></form>
<form id="f-upload" method="POST" enctype="multipart/form-data" target="t-upload" action="${fh}/api/upload">
  <input type="file" id="file" name="file"></form>
<form id="f-delete" method="POST" target="t-delete" action="${fh}/api/photos/${photo}/delete"></form>
<form id="f-undo" method="POST" target="t-undo" action="${fh}/api/undo"></form>
${['t-rename', 't-merge', 't-upload', 't-delete', 't-undo'].map(frame).join('\n')}
<script>
const FH = ${JSON.stringify(fh)};
window.attack = async function () {
  const r = {};
  const nc = (p, init) => fetch(FH + p, Object.assign({ mode: 'no-cors', method: 'POST', credentials: 'include' }, init))
    .then(x => 'opaque:' + x.type, e => 'rejected:' + e.message);
  r.hide = await nc('/api/persons/${p1}/hide', { body: JSON.stringify({ hidden: true }) });
  r.merge = await nc('/api/persons/${p1}/merge', { body: JSON.stringify({ from: ${p2} }) });
  r.delete = await nc('/api/photos/${photo}/delete', {});
  r.undo = await nc('/api/undo', { body: '{}' });
  const img = await (await fetch('/face.jpg')).blob(); // from the attacker's own server
  const fd = new FormData();
  fd.append('file', img, 'evil.jpg');
  r.upload = await nc('/api/upload', { body: fd });
  for (const id of ['f-rename', 'f-merge', 'f-upload', 'f-delete', 'f-undo']) document.getElementById(id).submit();
  document.getElementById('log').textContent = JSON.stringify(r);
  return r;
};
window.readPersons = () => fetch(FH + '/api/persons', { credentials: 'include' })
  .then(x => x.text().then(t => 'read:' + t), e => 'rejected:' + e.message);
</script></body></html>`;
}

// What a rebinding attacker's script does once its name points at 127.0.0.1: same-origin requests,
// so nothing but the Host header tells facehatch they are not its own.
async function probe(ids) {
  const get = async p => { try { const r = await fetch(p); const b = await r.text();
    return { status: r.status, type: r.headers.get('content-type'), body: b.slice(0, 2000) }; }
    catch (e) { return { status: 0, error: e.message }; } };
  return { persons: await get('/api/persons'), thumb: await get('/api/faces/' + ids.face + '/thumb'),
           image: await get('/api/photos/' + ids.photo + '/image'), person: await get('/api/persons/' + ids.p1),
           rename: await fetch('/api/persons/' + ids.p1 + '/rename', { method: 'POST',
             headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'rebound' }) })
             .then(r => r.status, () => 0) };
}

(async () => {
  if (!URL || !URL_HOST) throw new Error('FH_URL and FH_URL_HOST must be set');
  fs.mkdirSync(ART, { recursive: true });
  const t0 = Date.now();

  // ---- the library: two persons from the index, their faces and photos ------------------------------
  const list = await api('/api/persons');
  const persons = (list.body && list.body.persons) || [];
  check('the indexed library has two persons', list.status === 200 && persons.length === 2, JSON.stringify(list.body));
  if (persons.length < 2) throw new Error('no library to attack');
  const [d1, d2] = [(await api('/api/persons/' + persons[0].id)).body, (await api('/api/persons/' + persons[1].id)).body];
  const photoIds = [...d1.photos, ...d2.photos].map(p => p.id);
  const ids = { p1: persons[0].id, p2: persons[1].id, photo: d2.photos[0].id, face: d1.faces[0].id };

  // ---- the attacker's origin: another port of 127.0.0.1 -------------------------------------------------
  const evil = http.createServer((req, res) => {
    if (req.url === '/face.jpg') { res.writeHead(200, { 'Content-Type': 'image/jpeg' }); res.end(fs.readFileSync(JPEG)); return; }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(attackerPage(URL, ids));
  });
  await new Promise(ok => evil.listen(0, '127.0.0.1', ok));
  const EVIL = 'http://127.0.0.1:' + evil.address().port;

  const browser = await chromium.launch({ executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP rebind.test 127.0.0.1'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20000);
  // every request Chromium sends to facehatch, with the status it got (the page itself may not see it)
  const wire = [];
  context.on('response', async r => {
    if (!r.url().startsWith(URL + '/')) return;
    const w = { method: r.request().method(), path: r.url().slice(URL.length), type: r.request().resourceType(),
                status: r.status(), acao: r.headers()['access-control-allow-origin'] };
    wire.push(w);
    w.origin = await r.request().headerValue('origin').catch(() => '?');
  });
  context.on('requestfailed', q => {
    if (q.url().startsWith(URL + '/'))
      wire.push({ method: q.method(), path: q.url().slice(URL.length), type: q.resourceType(), status: -1, error: q.failure() && q.failure().errorText });
  });
  const page = await context.newPage();
  try {
    // ---- positive control first: facehatch's own page renames (this also gives undo an op) ---------
    const own = async (p, init) => page.evaluate(async ({ p, init }) => {
      if (init && init.jpeg) {
        const bin = atob(init.jpeg), u8 = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
        const fd = new FormData();
        fd.append('file', new File([u8], 'own.jpg', { type: 'image/jpeg' }));
        init = { method: 'POST', body: fd };
      }
      const r = await fetch(p, init);
      return { status: r.status, body: await r.json().catch(() => null) };
    }, { p, init });
    const json = body => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await page.goto(URL + '/');
    const ren = await own(`/api/persons/${ids.p1}/rename`, json({ name: 'Colin' }));
    check('control: facehatch\'s own page renames a person (200)', ren.status === 200 && ren.body.person.name === 'Colin', JSON.stringify(ren));
    // the text/plain JSON body from facehatch's own origin: Origin passes, Content-Type refuses.
    // (A form cannot show this: under the server's Referrer-Policy: no-referrer, Chromium sends
    // Origin: null with form POSTs, even same-origin ones, so they are already 403.)
    const tp = await own(`/api/persons/${ids.p1}/rename`,
      { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ name: 'pwned' }) });
    check('a text/plain JSON body, even from facehatch\'s own page, is 415', tp.status === 415, JSON.stringify(tp));

    // ---- the CSRF attacks ------------------------------------------------------------------------------
    const before = await snapshot(photoIds);
    check('the library reads the same twice (the snapshot is stable)', before === await snapshot(photoIds));
    wire.length = 0;
    await page.goto(EVIL + '/');
    await page.setInputFiles('#file', JPEG);
    const res = await page.evaluate(() => window.attack());
    const want = [['/api/persons/' + ids.p1 + '/hide', 'fetch'], ['/api/persons/' + ids.p1 + '/merge', 'fetch'],
                  ['/api/photos/' + ids.photo + '/delete', 'fetch'], ['/api/undo', 'fetch'], ['/api/upload', 'fetch'],
                  ['/api/persons/' + ids.p1 + '/rename', 'document'], ['/api/persons/' + ids.p1 + '/merge', 'document'],
                  ['/api/upload', 'document'], ['/api/photos/' + ids.photo + '/delete', 'document'], ['/api/undo', 'document']];
    const seen = (p, t) => wire.find(w => w.method === 'POST' && w.path === p && w.type === t);
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && !want.every(([p, t]) => seen(p, t))) await new Promise(ok => setTimeout(ok, 100));
    for (const [p, t] of want) {
      const w = seen(p, t);
      check(`attacker ${t === 'fetch' ? 'no-cors fetch' : 'form'} POST ${p} reaches the server and is refused 403`,
            w && w.status === 403, w ? JSON.stringify(w) : 'not seen; on the wire: ' + JSON.stringify(wire));
    }
    check('the no-cors fetches gave the attacker nothing but opaque responses',
          Object.values(res).every(v => v === 'opaque:opaque'), JSON.stringify(res));
    await new Promise(ok => setTimeout(ok, 1000)); // an accepted upload would be queued by now
    const after = await snapshot(photoIds);
    check('nothing changed: persons, names, hidden flags, photos, uploads, undo log', after === before,
          'before ' + before.slice(0, 400) + '\nafter  ' + after.slice(0, 400));
    const p1 = (await api('/api/persons/' + ids.p1)).body;
    check('the name is still "Colin" (no rename, no undo)', p1 && p1.person.name === 'Colin', JSON.stringify(p1 && p1.person));

    const shown = want.map(([p, t]) => { const w = seen(p, t); return `${t === 'fetch' ? 'no-cors fetch' : 'form'} POST ${p}: ${w ? w.status : 'not seen'}`; });
    await page.evaluate(lines => { // for the screenshot: what facehatch answered (the frames refuse to show it)
      const ul = document.createElement('ul');
      for (const l of ['what facehatch answered (seen on the wire by the test):', ...lines]) { const li = document.createElement('li'); li.textContent = l; ul.appendChild(li); }
      document.body.appendChild(ul);
    }, shown);

    // ---- CORS: the attacker cannot read -------------------------------------------------------------------
    wire.length = 0;
    const read = await page.evaluate(() => window.readPersons());
    check('a cross-origin fetch of /api/persons rejects in the attacker page', read.startsWith('rejected:'), read.slice(0, 200));
    const g = wire.find(w => w.method === 'GET' && w.path === '/api/persons');
    check('the response carries no Access-Control-Allow-Origin', g && g.acao === undefined, JSON.stringify(wire));
    await page.screenshot({ path: path.join(ART, 'xorigin.png'), fullPage: true });

    // ---- DNS rebinding -----------------------------------------------------------------------------------
    const portA = new global.URL(URL).port, portB = new global.URL(URL_HOST).port;
    const nav = await page.goto(`http://rebind.test:${portA}/`);
    check('rebind.test (resolving to 127.0.0.1) gets 421 for the UI', nav && nav.status() === 421, nav && String(nav.status()));
    // the attacker's script, loaded before the rebind, runs in this origin (http://rebind.test:PORT)
    const pr = await page.evaluate(probe, ids);
    for (const k of ['persons', 'person', 'thumb', 'image'])
      check(`the rebinding page's same-origin GET ${k} is 421 and carries no data`,
            pr[k].status === 421 && !pr[k].body.includes('Colin') && !/image\//.test(pr[k].type || ''), JSON.stringify(pr[k]).slice(0, 200));
    check('the rebinding page\'s rename is 421', pr.rename === 421, String(pr.rename));
    // positive control: server B allows the name, so the same page reads everything
    const navB = await page.goto(`http://rebind.test:${portB}/`);
    check('control: a server started with --host rebind.test serves the UI to it (200)', navB && navB.status() === 200, navB && String(navB.status()));
    const pb = await page.evaluate(probe, ids);
    check('control: there the page reads /api/persons with the names', pb.persons.status === 200 && pb.persons.body.includes('Colin'), JSON.stringify(pb.persons).slice(0, 200));
    check('control: and face crops and photos', pb.thumb.status === 200 && pb.thumb.type === 'image/jpeg' &&
          pb.image.status === 200 && pb.image.type === 'image/jpeg', JSON.stringify([pb.thumb.status, pb.thumb.type, pb.image.status, pb.image.type]));
    check('control: and its same-origin rename passes (200)', pb.rename === 200, String(pb.rename));

    // ---- positive controls for the rest: the same requests from facehatch's own page ---------------------
    await page.goto(URL + '/');
    const hide = await own(`/api/persons/${ids.p1}/hide`, json({ hidden: true }));
    check('control: own page hides (200, hidden)', hide.status === 200 && hide.body.person.hidden === true, JSON.stringify(hide).slice(0, 200));
    const merge = await own(`/api/persons/${ids.p1}/merge`, json({ from: ids.p2 }));
    const n1 = ((await api('/api/persons')).body.persons || []).length;
    check('control: own page merges (200, one person left)', merge.status === 200 && n1 === 1, JSON.stringify(merge).slice(0, 200));
    const undo = await own('/api/undo', json({}));
    const n2 = ((await api('/api/persons')).body.persons || []).length;
    check('control: own page undoes the merge (200, two persons again)', undo.status === 200 && n2 === 2, JSON.stringify(undo).slice(0, 200));
    const del = await own(`/api/photos/${ids.photo}/delete`, { method: 'POST' });
    const gone = await api('/api/photos/' + ids.photo);
    check('control: own page deletes a photo (200, then 404)', del.status === 200 && gone.status === 404, `${del.status} ${gone.status}`);
    const up = await own('/api/upload', { jpeg: fs.readFileSync(JPEG).toString('base64') });
    check('control: own page uploads (202)', up.status === 202, JSON.stringify(up).slice(0, 200));
    console.log(`(the browser part took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    check('the cross-origin test ran to the end', false, e.message.split('\n')[0]);
    await page.screenshot({ path: path.join(ART, 'xorigin-failure.png'), fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
    evil.close();
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
})().catch(e => {
  console.log('FAIL ' + e.message);
  console.log(`${pass} passed, ${fail + 1} failed`);
  process.exit(1);
});
