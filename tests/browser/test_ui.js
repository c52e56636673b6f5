// Headless Chromium drives the facehatch web UI (playwright-core, system chromium):
// upload photos into an empty library (one by drag and drop, the rest with the file
// picker), wait for persons to appear, rename one, merge two, reload and check that the
// changes stayed; search by photo; save screenshots to $ARTIFACTS (people.png, ...).
// Run by tests/cli/test_browser.sh, which starts the server and passes FH_URL.
// Ends with "N passed, M failed"; exit status 1 on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const URL = process.env.FH_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ART = process.env.ARTIFACTS || 'build/test-artifacts';
const LFW = process.env.LFW || '../shared/data/lfw/lfw-deepfunneled';
let pass = 0, fail = 0;

function check(desc, cond, detail) {
  if (cond) { pass++; console.log('ok   ' + desc); }
  else { fail++; console.log('FAIL ' + desc + (detail ? ': ' + detail : '')); }
}

async function api(p) {
  const r = await fetch(URL + p);
  return { status: r.status, body: await r.json().catch(() => null) };
}

(async () => {
  if (!URL) throw new Error('FH_URL is not set');
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(20000);
  const errors = [];
  page.on('pageerror', e => errors.push('pageerror: ' + e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  try {
    await page.goto(URL + '/');
    await page.waitForSelector('.empty');
    check('an empty library shows the empty People page', (await page.textContent('main')).includes('No people yet'));

    // ---- upload: one photo by drag and drop, the others with the file picker -------------------
    await page.click('nav a[data-nav="upload"]');
    await page.waitForSelector('#upload-drop');
    const ids = ['Colin_Powell', 'Tony_Blair', 'Serena_Williams'];
    const files = [];
    for (const who of ids) for (let i = 1; i <= 5; i++) files.push(path.join(LFW, who, `${who}_000${i}.jpg`));
    for (let i = 1; i <= 6; i++) files.push(`models/samples/sample${i}.jpg`);
    const first = files.shift();
    const b64 = fs.readFileSync(first).toString('base64');
    const dt = await page.evaluateHandle(({ b64, name }) => {
      const bin = atob(b64), u8 = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      const d = new DataTransfer();
      d.items.add(new File([u8], name, { type: 'image/jpeg' }));
      return d;
    }, { b64, name: path.basename(first) });
    await page.dispatchEvent('#upload-drop', 'dragover', { dataTransfer: dt });
    await page.dispatchEvent('#upload-drop', 'drop', { dataTransfer: dt });
    await page.waitForSelector('#upload-results li');
    check('drag and drop uploads a photo', (await page.textContent('#upload-results')).includes(path.basename(first)));
    await page.setInputFiles('#upload-drop-input', files);
    await page.waitForFunction(n => document.querySelectorAll('#upload-results li').length >= n, files.length + 1);
    await page.waitForSelector('#see-people', { timeout: 240000 });
    check('the progress bar reaches "Done"', (await page.textContent('#upload-progress-text')).startsWith('Done'));
    const statuses = await page.$$eval('#upload-results .st', els => els.map(e => e.textContent));
    check('every upload was indexed', statuses.length === 21 && statuses.every(s => s === 'indexed'), statuses.join(','));
    await page.screenshot({ path: path.join(ART, 'upload.png') });

    // ---- persons appear ----------------------------------------------------------------------------
    await page.click('#see-people');
    await page.waitForSelector('#people .person');
    const cards = await page.$$eval('#people .person', els => els.map(e => +e.dataset.person));
    check('persons appear after indexing (>= 3)', cards.length >= 3, 'got ' + cards.length);
    const avatars = await page.$$eval('#people img.avatar', els => els.filter(e => e.complete && e.naturalWidth > 0).length);
    check('avatars load', avatars >= 3, 'loaded ' + avatars);

    // ---- search by photo (an LFW photo that was not uploaded) ------------------------------------
    await page.click('nav a[data-nav="search"]');
    await page.setInputFiles('#search-drop-input', path.join(LFW, 'Colin_Powell', 'Colin_Powell_0010.jpg'));
    await page.waitForSelector('#matches .match, #matches .empty');
    const hrefs = await page.$$eval('#matches a.match', els => els.map(e => e.getAttribute('href')));
    check('search by photo finds a person', hrefs.some(h => cards.includes(+h.split('/').pop())), hrefs.join(','));
    await page.screenshot({ path: path.join(ART, 'search.png') });

    // ---- rename ----------------------------------------------------------------------------------------
    await page.click('nav a[data-nav="people"]');
    await page.waitForSelector('#people .person');
    const a = cards[0], b = cards[1];
    const before = (await api('/api/persons/' + a)).body.person;
    const nb = (await api('/api/persons/' + b)).body.person.n_faces;
    await page.click(`#people .person[data-person="${a}"]`);
    await page.waitForSelector('#person-name');
    await page.click('#person-name');
    await page.fill('#name-input', 'Anna Browser');
    await page.press('#name-input', 'Enter');
    await page.waitForFunction(() => document.querySelector('#person-name') && document.querySelector('#person-name').textContent === 'Anna Browser');
    check('rename inline', (await api('/api/persons/' + a)).body.person.name === 'Anna Browser');

    // ---- merge ------------------------------------------------------------------------------------------
    await page.click('#merge-btn');
    await page.waitForSelector(`.dialog .pick button[data-person="${b}"]`);
    await page.screenshot({ path: path.join(ART, 'merge-picker.png') });
    await page.click(`.dialog .pick button[data-person="${b}"]`);
    await page.waitForSelector('.dialog', { state: 'detached' });
    await page.waitForFunction(n => (document.querySelector('.person-head .sub') || {}).textContent?.startsWith(n + ' face'), before.n_faces + nb);
    const merged = await api('/api/persons/' + b);
    check('merge two persons', merged.status === 404, 'status ' + merged.status);
    await page.screenshot({ path: path.join(ART, 'person.png'), fullPage: true });

    // ---- reload: the changes are stored -----------------------------------------------------------------
    await page.reload();
    await page.waitForSelector('#person-name');
    check('after reload: the name stays', (await page.textContent('#person-name')) === 'Anna Browser');
    check('after reload: the merged faces stay', (await page.textContent('.person-head .sub')).startsWith((before.n_faces + nb) + ' face'));
    await page.goto(URL + '/#/people');
    await page.reload();
    await page.waitForSelector('#people .person');
    const after = await page.$$eval('#people .person', els => els.map(e => +e.dataset.person));
    check('after reload: the merged person is gone from People', !after.includes(b) && after.includes(a));
    check('after reload: the People page shows the new name',
      (await page.textContent(`#people .person[data-person="${a}"] .name`)) === 'Anna Browser');
    await page.screenshot({ path: path.join(ART, 'people.png'), fullPage: true });

    // ---- unknown faces and search --------------------------------------------------------------------------
    await page.click('nav a[data-nav="unknown"]');
    await page.waitForSelector('main h1');
    check('the Unknown faces page renders', (await page.textContent('main h1')) === 'Unknown faces');
    await page.screenshot({ path: path.join(ART, 'unknown.png'), fullPage: true });
    check('no JavaScript errors or CSP violations', errors.length === 0, errors.join(' | '));
  } catch (e) {
    check('the UI flow ran to the end', false, e.message.split('\n')[0]);
    await page.screenshot({ path: path.join(ART, 'failure.png'), fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
})().catch(e => {
  console.log('FAIL ' + e.message);
  console.log(`${pass} passed, ${fail + 1} failed`);
  process.exit(1);
});
