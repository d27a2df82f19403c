// End-to-end read of a phantom subject through the real stack: `recistry sample` writes a partial-response
// subject with its ground truth, `recistry reads index` archives it, `recistry user add` makes a central reader,
// `recistry serve` serves the built UI and the API, and headless Chromium (playwright-core) does what a
// radiologist does: log in, open the subject from the worklist, mark the targets and the non-target at
// baseline, scroll to each lesion's slice with the wheel and measure it by dragging the Length caliper along
// its true long axis, sign; then at the follow-up jump to each baseline slice, measure again, set the
// non-target, sign, and change a signed timepoint with a reason. The diameters the server stored (computed
// from the image coordinates the UI sent) must be within 1.5 mm of the truth, and the response shown must be
// the engine's answer for the perfect read (`recistry recist` on the truth's engine input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, Daemon, waitFor, RECISTRY } from './lib/stack.mjs';

const TOL_MM = 1.5;
const READER = 'reader.central';
const PASSWORD = 'correct horse battery staple 42';

async function startStack(dir) {
  const sample = path.join(dir, 'sample');
  recistry(['sample', '--out', sample, '--subjects', '1', '--timepoints', '2', '--seed', '1', '--no-dirty']);
  const truthFile = fs.readdirSync(path.join(sample, 'truth')).filter((f) => f.endsWith('.json'))[0];
  const truth = JSON.parse(fs.readFileSync(path.join(sample, 'truth', truthFile), 'utf8'));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = truth.timepoints.flatMap((tp) =>
    fs.readdirSync(path.join(sample, tp.folder)).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(sample, tp.folder, f)));
  recistry(['reads', 'index', '--archive', archive, ...files]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  recistry(['user', 'add', '--archive', archive, '--name', READER, '--role', 'central', '--password-file', pw]);
  const config = path.join(dir, 'recistry.ini');
  fs.writeFileSync(config, `[archive]\npath = ${archive}\n\n[http]\nbind = 127.0.0.1\nport = 0\nweb_root = ${paths.dist}\n`);
  const serve = new Daemon('serve', ['serve', '--config', config], dir);
  const url = await waitFor('recistry serve to listen', () => {
    serve.assertAlive();
    const m = serve.log().match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
    return m && m[1];
  }, 20000);
  return { sample, truth, archive, serve, url };
}

/** The lesion's truth at a timepoint. */
const at = (lesion, tp) => lesion.timepoints.find((t) => t.timepoint === tp);

test('reader workstation end to end: baseline and follow-up of a phantom subject', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'reader-e2e-'));
  const stack = await startStack(dir);
  const { truth } = stack;
  const { context, close } = await launchBrowser();
  let passed = false;
  let page = null;
  t.after(async () => {
    if (!passed && page) await page.screenshot({ path: artifactPath('reader_e2e_FAILED.png') }).catch(() => {});
    await close();
    await stack.serve.stop();
    if (passed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  page = await context.newPage();
  const errors = watchPage(page);
  if (process.env.RCY_TEST_DEBUG) {
    page.on('request', (r) => console.log(`>> ${r.method()} ${r.url().replace(stack.url, '')} ${r.postData() || ''}`));
    page.on('response', (r) => console.log(`<< ${r.status()} ${r.url().replace(stack.url, '')}`));
  }
  const shot = async (name) => {
    const p = artifactPath(`reader_e2e_${name}.png`);
    await page.screenshot({ path: p });
    console.log(`screenshot: ${p}`);
  };
  const api = (p) => page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, body: await r.json() };
  }, p);
  const subject = truth.subject_id;
  const [BL, FU] = truth.timepoints.map((x) => x.timepoint);
  const targets = truth.lesions.filter((l) => l.role === 'target');
  const nonTargets = truth.lesions.filter((l) => l.role === 'non_target');
  assert.ok(targets.length >= 1 && targets.length <= 5, 'the phantom subject has targets');

  // ---- login
  await page.goto(stack.url + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', READER);
  await page.fill('#login-password', 'wrong password');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error')?.textContent.length > 0);
  await shot('1_login_refused');
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');

  // ---- worklist
  await page.waitForSelector('#worklist');
  const row = page.locator(`tr[data-subject="${subject}"][data-timepoint="${BL}"]`);
  assert.match(await row.textContent(), /to read/);
  await shot('2_worklist');
  await row.locator('a.open-tp').click();

  const ready = () => page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
  const paneSop = (pane) => page.locator(`#vp-${pane}`).getAttribute('data-sop');
  const paneIndex = async (pane) => Number(await page.locator(`#vp-${pane}`).getAttribute('data-index'));

  /** Scrolls the current viewport with the mouse wheel until it shows the given instance. */
  async function scrollTo(sop) {
    const order = await page.evaluate(() => window.rcy.viewer.panes.current.imageIds.length);
    const wanted = await page.evaluate((s) => window.rcy.viewer.panes.current.indexBySop.get(s), sop);
    assert.ok(wanted !== undefined, `instance ${sop} is in the series shown`);
    const box = await page.locator('#vp-current').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let guard = 0; guard < order + 5 && (await paneIndex('current')) !== wanted; guard++) {
      await page.mouse.wheel(0, (await paneIndex('current')) < wanted ? 100 : -100);
      await page.waitForTimeout(40);
    }
    assert.equal(await paneSop('current'), sop, 'wheel scrolling reached the lesion slice');
  }

  /** Drags the armed caliper between two patient-space points (mm) on the current viewport. */
  async function drag(p1, p2) {
    const ends = await page.evaluate(([a, b]) => {
      const vp = window.rcy.viewer.panes.current.viewport;
      const r = vp.element.getBoundingClientRect();
      return [a, b].map((w) => { const c = vp.worldToCanvas(w); return [r.left + c[0], r.top + c[1]]; });
    }, [p1, p2]);
    await page.mouse.move(ends[0][0], ends[0][1]);
    await page.mouse.down();
    for (let s = 1; s <= 12; s++) {
      await page.mouse.move(ends[0][0] + ((ends[1][0] - ends[0][0]) * s) / 12, ends[0][1] + ((ends[1][1] - ends[0][1]) * s) / 12);
    }
    await page.mouse.up();
  }

  async function measure(lesionId, truthAt) {
    await scrollTo(truthAt.sop_instance_uid);
    await drag(truthAt.long_axis_endpoints_mm[0], truthAt.long_axis_endpoints_mm[1]);
    await page.waitForFunction((id) => document.querySelector('#message')?.textContent.includes(`${id} measured`), lesionId, { timeout: 10000 });
  }

  async function checkDiameters(tp) {
    const { status, body } = await api(`/api/reads/${encodeURIComponent(subject)}`);
    assert.equal(status, 200);
    for (const l of targets) {
      const stored = body.lesions.find((x) => x.lesion_id === l.lesion_id);
      assert.ok(stored, `${l.lesion_id} stored`);
      const obs = stored.observations[tp];
      const exp = at(l, tp).expected_longest_diameter_mm;
      assert.ok(obs && typeof obs.diameter_mm === 'number', `${l.lesion_id} at ${tp} has a diameter`);
      assert.ok(Math.abs(obs.diameter_mm - exp) <= TOL_MM, `${l.lesion_id} at ${tp}: stored ${obs.diameter_mm} mm, truth ${exp} mm`);
      assert.equal(obs.measurement.sop_instance_uid, at(l, tp).sop_instance_uid);
      console.log(`${l.lesion_id} ${tp}: stored ${obs.diameter_mm} mm, truth ${exp} mm`);
    }
    return body;
  }

  // ---- baseline
  await ready();
  for (const l of targets) {
    await page.selectOption('#new-kind', 'target');
    await page.selectOption('#new-organ', l.organ);
    if (l.nodal !== (await page.isChecked('#new-nodal'))) await page.click('#new-nodal');
    await page.click('#add-lesion-btn');
    await page.waitForFunction((id) => document.querySelector('#measuring')?.textContent.includes(`Measuring ${id}`), l.lesion_id, { timeout: 10000 });
    await measure(l.lesion_id, at(l, BL));
  }
  for (const l of nonTargets) {
    await page.selectOption('#new-kind', 'non_target');
    await page.selectOption('#new-organ', l.organ);
    await page.click('#add-lesion-btn');
    await page.waitForSelector(`tr[data-lesion="${l.lesion_id}"]`);
  }
  let read = await checkDiameters(BL);
  // A sixth target or a third in one organ is refused by the server with its message shown.
  const liverCount = targets.filter((l) => l.organ === 'liver').length;
  if (liverCount >= 2) {
    await page.selectOption('#new-kind', 'target');
    await page.selectOption('#new-organ', 'liver');
    await page.click('#add-lesion-btn');
    await page.waitForFunction(() => document.querySelector('#message')?.dataset.kind === 'error');
    const msg = await page.locator('#message').textContent();
    assert.match(msg, /liver|organ|2/i, `the server's rule message is shown: ${msg}`);
    assert.equal(await page.locator('#measuring').count(), 0, 'no lesion was created');
  }
  const blSum = read.engine.timepoints.find((x) => x.timepoint === BL).sum_mm;
  assert.equal((await page.locator('#resp-sod').textContent()).trim(), `${blSum.toFixed(1)} mm`, 'SOD shown is the engine\'s');
  await shot('3_baseline_measured');
  await page.click('#sign-btn');
  await page.waitForSelector('#signed-note');

  // ---- follow-up: both viewports, each target from its baseline slice
  await page.click(`#tp-tabs a:has-text("${FU}")`);
  await ready();
  await page.waitForFunction(() => document.querySelector('#vp-baseline')?.dataset.sop && document.querySelector('#vp-current')?.dataset.sop);
  for (const l of targets) {
    const r = page.locator(`tr[data-lesion="${l.lesion_id}"]`);
    await r.locator('button.goto-bl').click();
    await page.waitForFunction((sop) => document.querySelector('#vp-baseline').dataset.sop === sop, at(l, BL).sop_instance_uid, { timeout: 5000 });
    await r.locator('button.measure').click();
    await measure(l.lesion_id, at(l, FU));
  }
  // Linked scrolling is by position: after the last wheel scroll both viewports show the same z.
  const zs = await page.evaluate(() => ['baseline', 'current'].map((k) => {
    const p = window.rcy.viewer.panes[k];
    return p.positions[p.currentIndex()];
  }));
  assert.ok(Math.abs(zs[0] - zs[1]) <= 5, `viewports linked by position: ${zs}`);
  for (const l of nonTargets) {
    const state = truth.recist_input.assessments.find((a) => a.timepoint === FU).non_target.find((x) => x.lesion_id === l.lesion_id).state;
    await page.locator(`tr[data-lesion="${l.lesion_id}"] select.state`).selectOption(state);
    await page.waitForFunction((id) => document.querySelector('#message')?.textContent.startsWith(id), l.lesion_id);
  }
  read = await checkDiameters(FU);

  // The response shown is the server's engine output, and it equals the engine's answer for the perfect read.
  const perfect = JSON.parse(recistry(['recist', '-'], { input: JSON.stringify(truth.recist_input) }));
  const expFu = perfect.timepoints.find((x) => x.timepoint === FU);
  const engFu = read.engine.timepoints.find((x) => x.timepoint === FU);
  const shown = async (id) => (await page.locator(id).textContent()).trim();
  assert.equal(await shown('#resp-overall'), engFu.overall_response.replace(/_/g, '-'));
  assert.equal(engFu.overall_response, expFu.overall_response, 'overall response matches the perfect read');
  assert.equal(engFu.target_response, expFu.target_response);
  assert.equal(await shown('#resp-target'), expFu.target_response.replace(/_/g, '-'));
  assert.ok(Math.abs(engFu.change_from_baseline_pct - expFu.change_from_baseline_pct) < 3,
    `change from baseline ${engFu.change_from_baseline_pct} vs perfect ${expFu.change_from_baseline_pct}`);
  assert.equal(await shown('#resp-chg-bl'), `${engFu.change_from_baseline_pct > 0 ? '+' : ''}${engFu.change_from_baseline_pct.toFixed(1)} %`);
  assert.equal(await shown('#resp-bor'), String(read.engine.best_overall_response).replace(/_/g, '-'));
  console.log(`FU response shown: ${await shown('#resp-overall')} (perfect read: ${expFu.overall_response}), ` +
    `change ${await shown('#resp-chg-bl')}, BOR ${await shown('#resp-bor')}`);
  // The key image the server rendered for a stored caliper is linked from the row and is a PNG.
  const keyUrl = await page.locator(`tr[data-lesion="${targets[0].lesion_id}"] a.key-image`).getAttribute('href');
  const key = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type')]; }, keyUrl);
  assert.deepEqual(key, [200, 'image/png'], `key image ${keyUrl}`);

  // An equivocal new lesion is listed with its state and is not progression (the overall response stays).
  await page.selectOption('#new-kind', 'new');
  await page.selectOption('#new-organ', 'liver');
  await page.selectOption('#new-state', 'equivocal');
  await page.click('#add-lesion-btn');
  await page.waitForFunction(() => /added \(equivocal\)/.test(document.querySelector('#message')?.textContent || ''));
  const newId = await page.locator('tr[data-kind="new"]').first().getAttribute('data-lesion');
  assert.equal((await page.locator(`tr[data-lesion="${newId}"] td.value`).textContent()).trim(), 'equivocal');
  assert.equal(await shown('#resp-overall'), engFu.overall_response.replace(/_/g, '-'), 'an equivocal new lesion is not PD');
  await shot('4_followup_measured');

  // ---- sign, then a change to the signed timepoint asks for a reason (kept by the server)
  await page.click('#sign-btn');
  await page.waitForSelector('#signed-note');
  if (nonTargets.length) {
    const id = nonTargets[0].lesion_id;
    await page.locator(`tr[data-lesion="${id}"] select.state`).selectOption('not_evaluable');
    await page.waitForSelector('.modal-overlay');
    await shot('5_reason_asked');
    await page.fill('.modal-input', 'lesion obscured by artefact on review');
    await page.click('.modal-buttons button.primary');
    await page.waitForFunction((x) => document.querySelector(`tr[data-lesion="${x}"] td.value`)?.textContent.includes('not evaluable'), id);
    const after = (await api(`/api/reads/${encodeURIComponent(subject)}`)).body;
    assert.equal(after.lesions.find((x) => x.lesion_id === id).observations[FU].state, 'not_evaluable');
  }
  await page.click('a[href="#/worklist"]');
  await page.waitForSelector('#worklist');
  assert.match(await page.locator(`tr[data-subject="${subject}"][data-timepoint="${FU}"]`).textContent(), /signed/);
  await shot('6_worklist_signed');
  // Expected refusals: the session probe before login, the wrong password, the third liver target.
  const expected = [/^401 GET \/api\/me$/, /^401 POST \/api\/login$/, /^422 POST \/api\/reads\/[^/]+\/lesions$/, /favicon/];
  assert.deepEqual(errors.filter((e) => !expected.some((re) => re.test(e))), [], 'no unexpected errors in the page');
  passed = true;
});
