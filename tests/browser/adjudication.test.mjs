// Independent central review in the browser (issue 11). The committed sample (sample-dicom/) is indexed and
// served; the archive reads double (`recistry adjudication config --paradigm double`); two central readers
// read CIREL-027-0001 through the API as themselves, signing with their passwords: R1 measures the targets and
// calls no new lesion at FU1, R2 measures the same targets and calls the new lesion N1. Both signed, the subject
// is triggered; the adjudicator logs in, sees it in the adjudication queue with its reasons, opens the
// side-by-side (both reads, the matched lesions, N1 flagged as only in R2, key images), chooses R2 with a
// reason and password, and the page shows the decision and the final central read. Screenshots at 1366×768.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const R1 = 'reader.one';
const R2 = 'reader.two';
const ADJ = 'adjudicator.a';
const QA = 'qa.b';
const PD = 'CIREL-027-0001';
const SAMPLE = path.join(paths.source, 'sample-dicom');

async function startStack(dir) {
  const truth = JSON.parse(fs.readFileSync(path.join(SAMPLE, 'truth', `${PD}.json`), 'utf8'));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = [];
  const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, f.name);
    if (f.isDirectory() && f.name !== 'dirty') walk(p);
    else if (f.name.endsWith('.dcm')) files.push(p);
  } };
  walk(path.join(SAMPLE, 'S027'));
  recistry(['reads', 'index', '--archive', archive, ...files.sort()]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const [name, role] of [[R1, 'central'], [R2, 'central'], [ADJ, 'adjudicator'], [QA, 'qa']]) {
    recistry(['user', 'add', '--archive', archive, '--name', name, '--role', role, '--password-file', pw]);
  }
  recistry(['adjudication', 'config', '--archive', archive, '--paradigm', 'double', '--reason', 'protocol: BICR, two readers']);
  // The site investigator's read of the subject (the committed sample's), for QA's site-vs-central concordance.
  const site = JSON.parse(fs.readFileSync(path.join(SAMPLE, 'reads', 'site.json'), 'utf8')).filter((x) => x.subject_id === PD);
  fs.writeFileSync(path.join(dir, 'site.json'), JSON.stringify(site));
  recistry(['reads', 'import', '--archive', archive, '--role', 'site', path.join(dir, 'site.json')]);
  const { serve, url } = await startServe(dir, archive);
  return { truth, serve, url, archive };
}

const at = (lesion, tp) => lesion.timepoints.find((t) => t.timepoint === tp);

/** One central read of the subject as that reader; withNew: R2 calls the new lesion N1 at FU1. */
async function read(api, truth, withNew) {
  const s = truth.subject_id;
  const call = api; // throws with the server's message on a 4xx/5xx
  const meas = (l, tp) => {
    const t = at(l, tp);
    const m = { sop_instance_uid: t.sop_instance_uid, p1: t.long_axis_endpoints_px[0], p2: t.long_axis_endpoints_px[1] };
    if (l.nodal) Object.assign(m, { short_p1: t.short_axis_endpoints_px[0], short_p2: t.short_axis_endpoints_px[1] });
    return m;
  };
  const base = truth.lesions.filter((x) => x.role === 'target' || x.role === 'non_target');
  for (const l of base) {
    await call('POST', `/api/reads/${s}/lesions`, { lesion_id: l.lesion_id, kind: l.role, organ: l.organ, nodal: l.nodal, timepoint: 'BL' });
    if (l.role === 'target') await call('PUT', `/api/reads/${s}/timepoints/BL/lesions/${l.lesion_id}`, { measurement: meas(l, 'BL') });
  }
  await call('POST', `/api/reads/${s}/timepoints/BL/sign`, { password: PASSWORD });
  for (const l of base) {
    if (l.role === 'target') await call('PUT', `/api/reads/${s}/timepoints/FU1/lesions/${l.lesion_id}`, { measurement: meas(l, 'FU1') });
    else await call('PUT', `/api/reads/${s}/timepoints/FU1/lesions/${l.lesion_id}`, { state: 'present' });
  }
  if (withNew) {
    const n1 = truth.lesions.find((l) => l.lesion_id === 'N1');
    await call('POST', `/api/reads/${s}/lesions`, { lesion_id: 'N1', kind: 'new', organ: n1.organ, timepoint: 'FU1', state: 'unequivocal' });
  }
  return call('POST', `/api/reads/${s}/timepoints/FU1/sign`, { password: PASSWORD });
}

test('adjudication of two central reads that differ (issue 11)', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'adjudication-'));
  const stack = await startStack(dir);
  const { context, close } = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  let failed = true;
  t.after(async () => {
    await close();
    await stack.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  const truth = stack.truth;
  const one = await apiLogin(stack.url, R1, PASSWORD);
  const two = await apiLogin(stack.url, R2, PASSWORD);
  const r1 = await read(one, truth, false);
  assert.ok(!r1.lesions.some((l) => l.kind === 'new'));
  const r2 = await read(two, truth, true);
  assert.equal(r2.engine.best_overall_response, 'PD');
  assert.notEqual(r1.engine.best_overall_response, 'PD');
  const queue = JSON.parse(recistry(['adjudication', 'list', '--archive', stack.archive, '--json']));
  assert.deepEqual(queue.map((q) => q.subject_id), [PD]);
  assert.ok(queue[0].reasons.includes('bor_differs'));
  // Before adjudication the subject has no final central read: QA's site-vs-central concordance pairs nothing.
  const qaApi = await apiLogin(stack.url, QA, PASSWORD);
  assert.equal((await qaApi('GET', '/api/concordance?pair=site:central')).subjects, 0);

  const page = await context.newPage();
  const errors = watchPage(page);
  const shot = async (name) => {
    const p = artifactPath(`adjudication_${name}.png`);
    await page.screenshot({ path: p, fullPage: name.endsWith('full') });
    console.log(`screenshot: ${p}`);
  };
  await page.goto(`${stack.url}/#/login`);
  await page.fill('#login-name', ADJ);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#adjudication-queue tr[data-subject]');
  const reasons = await page.$$eval(`#adjudication-queue tr[data-subject="${PD}"] .reason-chip`, (els) => els.map((e) => e.textContent));
  assert.ok(reasons.includes('best overall response differs'), `reasons shown: ${reasons}`);
  assert.ok(reasons.includes('progression date differs'), `reasons shown: ${reasons}`);
  await shot('1_queue');

  await page.click(`#adjudication-queue tr[data-subject="${PD}"] a.adjudicate-link`);
  await page.waitForSelector('#side-by-side');
  const bor = await page.$eval('#side-by-side tr.adj-bor', (tr) => ({ r1: tr.querySelector('td.r1').textContent, r2: tr.querySelector('td.r2').textContent, differs: tr.classList.contains('differs') }));
  assert.equal(bor.r2, 'PD');
  assert.ok(bor.differs, 'the differing BOR is highlighted');
  const onlyR2 = await page.$$eval('.match-tp[data-timepoint="FU1"] tr.only-r2 .unmatched-note', (els) => els.map((e) => e.textContent));
  assert.ok(onlyR2.some((x) => /new lesion N1 only in R2/.test(x)), `unmatched: ${onlyR2}`);
  const matched = await page.$$eval('.match-tp[data-timepoint="BL"] tr.matched', (els) => els.length);
  assert.ok(matched >= 2, `matched lesions at BL: ${matched}`);
  // Key images of both readers, side by side, and one enlarged.
  await page.waitForFunction(() => [...document.querySelectorAll('.match-tp[data-timepoint="FU1"] tr.matched img.key-thumb')]
    .some((i) => i.complete && i.naturalWidth > 0));
  const thumbs = await page.$$eval('.match-tp[data-timepoint="FU1"] tr.matched', (trs) => trs.map((tr) => [
    tr.querySelectorAll('td.r1 img.key-thumb').length, tr.querySelectorAll('td.r2 img.key-thumb').length]));
  assert.ok(thumbs.some(([a, b]) => a > 0 && b > 0), `key images per side: ${JSON.stringify(thumbs)}`);
  assert.equal(await page.getAttribute('a.open-r2', 'href'), `#/subject/${PD}/FU1?role=central&reader=${R2}`);
  // the own-read choice is off: the adjudicator has no read of their own
  assert.ok(await page.isDisabled('input[data-testid="outcome-own"]'));
  await shot('2_side_by_side');
  await shot('2_side_by_side_full');
  await page.click('.match-tp[data-timepoint="FU1"] tr.matched td.r2 img.key-thumb');
  await page.waitForSelector('.key-zoom img');
  await page.waitForFunction(() => document.querySelector('.key-zoom img').naturalWidth > 0);
  await shot('3_key_image');
  await page.click('.key-zoom');

  // A wrong password is refused and nothing is stored.
  await page.check('input[data-testid="outcome-r2"]');
  await page.fill('#adj-reason', 'N1 in the right lung is unequivocal on FU1; R1 missed it');
  await page.fill('#adj-password', 'not my password');
  await page.click('#adj-sign');
  await page.waitForFunction(() => /wrong password/.test(document.querySelector('#adj-error').textContent));
  assert.equal(JSON.parse(recistry(['adjudication', 'show', '--archive', stack.archive, '--subject', PD])).status, 'triggered');
  await page.fill('#adj-password', PASSWORD);
  await page.click('#adj-sign');
  await page.waitForSelector('#decision-done');
  const final = await page.textContent('#final-read');
  assert.match(final, new RegExp(`final central read: central ${R2.replace('.', '\\.')}`));
  assert.match(await page.textContent('#decision-by'), new RegExp(ADJ.replace('.', '\\.')));
  assert.match(await page.textContent('#decision-reason'), /R1 missed it/);
  await page.evaluate(() => document.querySelector('#decision-done').scrollIntoView());
  await shot('4_decided');
  const state = JSON.parse(recistry(['adjudication', 'show', '--archive', stack.archive, '--subject', PD]));
  assert.equal(state.status, 'adjudicated');
  assert.deepEqual(state.final, { role: 'central', reader: R2, basis: 'adjudicated' });
  recistry(['audit', 'verify', '--archive', stack.archive]);

  // The adjudicator opens R2's read in the full viewer, read-only.
  await page.click('a.open-r2');
  await page.waitForSelector('#pick-fixed');
  assert.match(await page.textContent('#pick-fixed'), new RegExp(`central read of ${R2.replace('.', '\\.')}`));
  await page.waitForTimeout(1500);
  await shot('5_viewer_r2');

  // QA sees the concordance change: the adjudicated read is now the final central read, paired with the site's.
  await page.click('.who button');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', QA);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#nav-qa');
  await page.goto(`${stack.url}/#/qa`);
  await page.waitForSelector('#qa-counts');
  assert.match(await page.textContent('#qa-counts'), /^1 paired subject/);
  assert.equal(await page.locator(`a.adjudicate-link[href="#/adjudicate/${PD}"]`).count(), 1,
    'the site read (SD) and the final central read (PD) disagree: the subject is listed as discordant');
  await shot('6_qa_after');
  const unexpected = errors.filter((e) => !/^403 POST \/api\/adjudication\//.test(e));
  assert.deepEqual(unexpected, [], 'no unexpected errors in the page');
  failed = false;
});
