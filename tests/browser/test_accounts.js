// Headless Chromium drives the facehatch web UI in "accounts" mode with two users (A and B):
// the login page (wrong password, then A logs in), A uploads photos and gets persons, an Undo
// toast and Ctrl+Z bring a person's old name back, faces move and are rejected in bulk, a new
// person is made from unknown faces and deleted again, a photo is deleted from the lightbox,
// the account menu (face recognition switch, log out); B logs in and sees none of A's persons,
// photos or faces, turns face recognition off and deletes the account. Screenshots go to
// $ARTIFACTS (login.png, account-menu.png, bulk-accounts.png, phone-account.png, ...).
// Run by tests/cli/test_browser_accounts.sh, which creates the users, starts the server and passes
// FH_URL, FH_USER_A/FH_PASS_A, FH_USER_B/FH_PASS_B.
// Ends with "N passed, M failed"; exit status 1 on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const URL = process.env.FH_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ART = process.env.ARTIFACTS || 'build/test-artifacts';
const LFW = process.env.LFW || '../shared/data/lfw/lfw-deepfunneled';
const A = { user: process.env.FH_USER_A, pass: process.env.FH_PASS_A };
const B = { user: process.env.FH_USER_B, pass: process.env.FH_PASS_B };
let pass = 0, fail = 0;

function check(desc, cond, detail) {
  if (cond) { pass++; console.log('ok   ' + desc); }
  else { fail++; console.log('FAIL ' + desc + (detail ? ': ' + detail : '')); }
}

(async () => {
  if (!URL || !A.user || !A.pass || !B.user || !B.pass) throw new Error('FH_URL, FH_USER_A, FH_PASS_A, FH_USER_B, FH_PASS_B must be set');
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(20000);
  const errors = [];
  page.on('pageerror', e => errors.push('pageerror: ' + e.message));
  // API errors are provoked on purpose here (wrong passwords, B asking for A's ids) and Chromium logs
  // each as "Failed to load resource"; a failing page asset (not /api/) is still an error
  page.on('console', m => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
      errors.push('console: ' + m.text());
  });
  page.on('response', r => {
    if (r.status() >= 400 && !r.url().replace(/^https?:\/\/[^/]+/, '').startsWith('/api/')) errors.push(r.status() + ' ' + r.url());
  });
  const text = async sel => (await page.textContent(sel)).trim();
  // the API as the page's logged-in user (its session cookie)
  const api = (method, p, body) => page.evaluate(async ({ method, p, body }) => {
    const r = await fetch(p, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, { method, p, body });
  const nameIs = (id, want) => page.waitForFunction(w => (document.querySelector('#person-name') || {}).textContent === w, want);
  const login = async (who, pw) => {
    await page.waitForSelector('#login-form');
    await page.fill('#login-user', who);
    await page.fill('#login-password', pw);
    await page.click('#login-submit');
  };
  const openAccountMenu = async () => {
    await page.click('#account-btn');
    await page.waitForSelector('#account-menu', { state: 'visible' });
  };
  try {
    // ---- the login page ------------------------------------------------------------------------
    await page.goto(URL + '/');
    await page.waitForSelector('#login-form');
    check('accounts mode without a session shows the login page', await page.isVisible('#login-user') && await page.isVisible('#login-password'));
    check('the nav and the account menu are hidden on the login page', await page.isHidden('nav') && await page.isHidden('#account'));
    const anon = await fetch(URL + '/api/persons');
    check('the API without a session is 401', anon.status === 401, 'status ' + anon.status);
    await page.screenshot({ path: path.join(ART, 'login.png') });
    await login(A.user, A.pass + 'x');
    await page.waitForSelector('#login-error', { state: 'visible' });
    check('a wrong password shows an error', /wrong/i.test(await text('#login-error')), await text('#login-error'));
    check('a wrong password keeps the login page', await page.isVisible('#login-form'));
    await login(A.user, A.pass);
    await page.waitForSelector('main .page-head h1');
    check('A logs in and sees the People page', (await text('main h1')) === 'People' && await page.isVisible('nav'));
    check('the top bar shows A\'s name', (await text('#account-btn')).includes(A.user), await text('#account-btn'));
    check('A starts with an empty library', (await api('GET', '/api/persons')).body.persons.length === 0);

    // ---- A uploads photos: three people with five photos each, two people with one ----------------
    await page.click('nav a[data-nav="upload"]');
    await page.waitForSelector('#upload-drop');
    const files = [];
    for (const who of ['Colin_Powell', 'Tony_Blair', 'Serena_Williams']) for (let i = 1; i <= 5; i++) files.push(path.join(LFW, who, `${who}_000${i}.jpg`));
    for (const who of ['George_W_Bush', 'Gerhard_Schroeder']) files.push(path.join(LFW, who, `${who}_0001.jpg`));
    await page.setInputFiles('#upload-drop-input', files);
    await page.waitForSelector('#see-people', { timeout: 240000 });
    const statuses = await page.$$eval('#upload-results .st', els => els.map(e => e.textContent));
    check('A\'s uploads are indexed', statuses.length === files.length && statuses.every(s => s === 'indexed'), statuses.join(','));
    await page.click('#see-people');
    await page.waitForSelector('#people .person');
    const persons = await page.$$eval('#people .person', els => els.map(e => +e.dataset.person));
    check('A\'s persons appear (>= 3)', persons.length >= 3, 'got ' + persons.length);
    const [pa, pb] = persons;

    // ---- Undo: the toast after a rename, and Ctrl+Z ---------------------------------------------------
    await page.click(`#people .person[data-person="${pa}"]`);
    await page.waitForSelector('#person-name');
    const oldName = await text('#person-name');
    await page.click('#person-name');
    await page.fill('#name-input', 'Alice Friend');
    await page.press('#name-input', 'Enter');
    await nameIs(pa, 'Alice Friend');
    await page.waitForSelector('#toast-action', { state: 'visible' });
    check('a rename shows an Undo toast', (await text('#toast-action')) === 'Undo' && (await text('#toast .msg')).length > 0, await text('#toast'));
    await page.screenshot({ path: path.join(ART, 'undo-toast.png') });
    await page.click('#toast-action');
    await nameIs(pa, oldName);
    check('Undo brings the old name back', (await api('GET', '/api/persons/' + pa)).body.person.name === null);
    await page.click('#person-name');
    await page.fill('#name-input', 'Alice Friend');
    await page.press('#name-input', 'Enter');
    await nameIs(pa, 'Alice Friend');
    await page.keyboard.press('Control+z');
    await nameIs(pa, oldName);
    check('Ctrl+Z undoes the rename too', (await api('GET', '/api/persons/' + pa)).body.person.name === null);
    await page.click('#person-name');
    await page.fill('#name-input', 'Anna');
    await page.press('#name-input', 'Enter');
    await nameIs(pa, 'Anna');

    // ---- bulk: move two faces to another person, reject one ------------------------------------------
    const na = (await api('GET', '/api/persons/' + pa)).body.person.n_faces;
    const nb = (await api('GET', '/api/persons/' + pb)).body.person.n_faces;
    const unknown0 = (await api('GET', '/api/unknown?limit=1')).body.total;
    await page.click('#select-btn');
    await page.click('#faces .face >> nth=0');
    await page.click('#faces .face >> nth=1');
    check('two of A\'s faces are selected', (await text('#sel-count')) === '2 faces selected', await text('#sel-count'));
    await page.screenshot({ path: path.join(ART, 'bulk-accounts.png') });
    await page.click('#bulk-move');
    await page.waitForSelector(`.dialog .pick button[data-person="${pb}"]`);
    await page.click(`.dialog .pick button[data-person="${pb}"]`);
    await page.waitForSelector('.dialog', { state: 'detached' });
    await page.waitForFunction(n => (document.querySelector('.person-head .sub') || {}).textContent?.startsWith(n + ' face'), na - 2);
    check('bulk move: the two faces left Anna', (await api('GET', '/api/persons/' + pa)).body.person.n_faces === na - 2);
    check('bulk move: the two faces joined the other person', (await api('GET', '/api/persons/' + pb)).body.person.n_faces === nb + 2);
    check('bulk move shows an Undo toast', await page.isVisible('#toast-action'));
    await page.click('#select-btn');
    await page.click('#faces .face >> nth=0');
    await page.click('#bulk-reject');
    await page.waitForFunction(n => (document.querySelector('.person-head .sub') || {}).textContent?.startsWith(n + ' face'), na - 3);
    check('bulk "Not this person": the face goes to Unknown faces', (await api('GET', '/api/unknown?limit=1')).body.total === unknown0 + 1);

    // ---- a new person from unknown faces, then deleted --------------------------------------------------
    await page.click('nav a[data-nav="unknown"]');
    await page.waitForSelector('.question');
    const unknown1 = (await api('GET', '/api/unknown?limit=1')).body.total;
    await page.click('#select-btn');
    await page.click('.question >> nth=0');
    await page.click('.question >> nth=1');
    const chosen = await page.$$eval('.question.selected', els => els.map(e => +e.dataset.face));
    await page.click('#bulk-new');
    await page.waitForSelector('#dialog-input');
    await page.fill('#dialog-input', 'New Guy');
    await page.click('#dialog-ok');
    await page.waitForSelector('#person-name');
    await nameIs(0, 'New Guy');
    const newId = +page.url().split('/').pop();
    const made = await api('GET', '/api/persons/' + newId);
    check('"New person…" makes a person from the selected unknown faces', made.status === 200 && made.body.person.name === 'New Guy' &&
      made.body.faces.map(f => f.id).sort().join() === chosen.sort().join(), JSON.stringify(made.body && made.body.faces.map(f => f.id)) + ' vs ' + chosen);
    check('the new person\'s faces left Unknown faces', (await api('GET', '/api/unknown?limit=1')).body.total === unknown1 - 2);
    await page.click('#delete-person-btn');
    await page.waitForSelector('#dialog-ok');
    check('"Delete person" asks first', (await text('.dialog h3')) === "Delete 'New Guy'?", await text('.dialog h3'));
    await page.click('#dialog-ok');
    await page.waitForSelector('#people .person');
    check('the deleted person is gone', (await api('GET', '/api/persons/' + newId)).status === 404 &&
      !(await page.$$eval('#people .person', els => els.map(e => +e.dataset.person))).includes(newId));
    check('its faces are back in Unknown faces', (await api('GET', '/api/unknown?limit=1')).body.total === unknown1);

    // ---- delete a photo from the lightbox -----------------------------------------------------------------
    await page.goto(URL + '/#/person/' + pa);
    await page.waitForSelector('#photos .photo');
    const nPhotos = await page.$$eval('#photos .photo', els => els.length);
    const photoId = +(await page.getAttribute('#photos .photo >> nth=0', 'data-photo'));
    await page.click('#photos .photo >> nth=0');
    await page.waitForSelector('#lb-delete');
    await page.click('#lb-delete');
    await page.waitForSelector('#dialog-ok');
    await page.click('#dialog-ok');
    await page.waitForSelector('.lightbox', { state: 'detached' });
    await page.waitForFunction(n => document.querySelectorAll('#photos .photo').length === n, nPhotos - 1);
    check('"Delete photo" in the lightbox deletes it', (await api('GET', '/api/photos/' + photoId)).status === 404);

    // ---- the account menu; log out ------------------------------------------------------------------------
    await openAccountMenu();
    check('the account menu names the user', (await text('#account-menu .who')).includes(A.user));
    check('face recognition is on', (await page.getAttribute('#recognition-toggle', 'aria-checked')) === 'true');
    await page.screenshot({ path: path.join(ART, 'account-menu.png') });
    await page.click('#recognition-toggle');
    await page.waitForSelector('#dialog-ok');
    check('turning face recognition off warns that face data is deleted', /delete/i.test(await text('.dialog')));
    await page.click('#dialog-cancel');
    await page.waitForSelector('.dialog', { state: 'detached' });
    check('Cancel keeps face recognition on', (await api('GET', '/api/me')).body.user.recognition === true);
    await page.setViewportSize({ width: 375, height: 740 });
    await openAccountMenu();
    check('the top bar with the account menu fits a phone', (await page.evaluate(() => document.documentElement.scrollWidth)) <= 375);
    await page.screenshot({ path: path.join(ART, 'phone-account.png') });
    await page.click('#logout-btn');
    await page.waitForSelector('#login-form');
    await page.setViewportSize({ width: 1280, height: 860 });
    check('"Log out" shows the login page', await page.isVisible('#login-user'));
    check('after logout the API is 401', (await api('GET', '/api/persons')).status === 401);

    // ---- B sees nothing of A's ------------------------------------------------------------------------------
    await login(B.user, B.pass);
    await page.waitForSelector('main .page-head h1');
    await page.waitForSelector('main .empty');
    check('B sees an empty People page', (await text('main')).includes('No people yet'));
    check('B\'s API lists none of A\'s persons', (await api('GET', '/api/persons')).body.persons.length === 0);
    check('A\'s person and photo do not exist for B', (await api('GET', '/api/persons/' + pa)).status === 404 &&
      (await api('GET', '/api/photos/' + photoId)).status === 404);
    await page.goto(URL + '/#/person/' + pa);
    const notFound = await page.waitForFunction(() => document.querySelector('main').textContent.startsWith('Not found'))
      .then(() => true, () => false);
    check('A\'s person page is "Not found" for B', notFound, await text('main'));
    await page.goto(URL + '/#/people');
    await page.waitForSelector('main h1');

    // ---- B turns face recognition off, then deletes the account --------------------------------------------
    await openAccountMenu();
    await page.click('#recognition-toggle');
    await page.click('#dialog-ok');
    await page.waitForSelector('#recognition-off');
    check('B turns face recognition off', (await api('GET', '/api/me')).body.user.recognition === false);
    await openAccountMenu();
    check('the switch shows "off"', (await page.getAttribute('#recognition-toggle', 'aria-checked')) === 'false');
    await page.click('#delete-account-btn');
    await page.waitForSelector('#dialog-input');
    check('"Delete account…" asks for the password', (await page.getAttribute('#dialog-input', 'type')) === 'password');
    await page.fill('#dialog-input', B.pass + 'x');
    await page.click('#dialog-ok');
    await page.waitForSelector('#dialog-error', { state: 'visible' });
    check('a wrong password does not delete the account', (await api('GET', '/api/me')).body.user !== null);
    await page.fill('#dialog-input', B.pass);
    await page.click('#dialog-ok');
    await page.waitForSelector('#login-form');
    check('the deleted account ends on the login page', (await text('#login-notice')).includes('deleted'));
    await login(B.user, B.pass);
    await page.waitForSelector('#login-error', { state: 'visible' });
    check('the deleted account cannot log in', await page.isVisible('#login-form'));

    // ---- A's library is untouched -------------------------------------------------------------------------
    await login(A.user, A.pass);
    await page.waitForSelector('#people .person');
    check('A still has Anna', (await text(`#people .person[data-person="${pa}"] .name`)) === 'Anna');
    check('no JavaScript errors or CSP violations', errors.length === 0, errors.join(' | '));
  } catch (e) {
    check('the accounts UI flow ran to the end', false, e.message.split('\n')[0]);
    await page.screenshot({ path: path.join(ART, 'failure-accounts.png'), fullPage: true }).catch(() => {});
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
