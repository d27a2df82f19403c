// End-to-end reads of phantom subjects through the real stack: `recistry sample` writes two subjects
// (partial response with liver and lung targets; progression by a new lesion with a nodal target) with their
// ground truth, `recistry reads index` archives it, `recistry user add` makes a central reader,
// `recistry serve` serves the built UI and the API, and headless Chromium (playwright-core) does what a
// radiologist does: log in, open the subject from the worklist, mark the targets and the non-target at
// baseline, scroll to each lesion's slice with the wheel and measure it by dragging the Length caliper along
// its true long axis (a node: the Bidirectional caliper, short-axis handles dragged onto the true short axis),
// sign; then at the follow-up jump to each baseline slice, measure again, set the non-targets, add the new
// lesions, sign, and change a signed timepoint with a reason. The diameters the server stored (computed from
// the image coordinates the UI sent) must be within 1.5 mm of the truth, and the response shown must be the
// engine's answer for the perfect read (`recistry recist` on the truth's engine input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, RECISTRY } from './lib/stack.mjs';

const TOL_MM = 1.5;
const READER = 'reader.central';
const QA_USER = 'qa.one';
const PASSWORD = 'correct horse battery staple 42';

async function startStack(dir) {
  const sample = path.join(dir, 'sample');
  recistry(['sample', '--out', sample, '--subjects', '2', '--timepoints', '2', '--seed', '1', '--no-dirty']);
  const truths = fs.readdirSync(path.join(sample, 'truth')).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(sample, 'truth', f), 'utf8')));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = truths.flatMap((truth) => truth.timepoints.flatMap((tp) =>
    fs.readdirSync(path.join(sample, tp.folder)).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(sample, tp.folder, f))));
  recistry(['reads', 'index', '--archive', archive, ...files]);
  // The registry's treatment start (issue 10): every read is timed from it, as the truth's engine input is.
  recistry(['registry', 'import', '--archive', archive, path.join(sample, 'registry.csv')]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  recistry(['user', 'add', '--archive', archive, '--name', READER, '--role', 'central', '--password-file', pw]);
  recistry(['user', 'add', '--archive', archive, '--name', QA_USER, '--role', 'qa', '--password-file', pw]);
  const { serve, url } = await startServe(dir, archive);
  return { sample, truths, archive, serve, url };
}

/** The lesion's truth at a timepoint. */
const at = (lesion, tp) => lesion.timepoints.find((t) => t.timepoint === tp);
const resp = (v) => String(v).replace(/_/g, '-');

/** A browser session on the workstation with the helpers a reader's gestures need. */
function session(page, stack) {
  const S = {};
  S.shot = async (name) => {
    const p = artifactPath(`reader_e2e_${name}.png`);
    await page.screenshot({ path: p });
    console.log(`screenshot: ${p}`);
  };
  /** Signs the current timepoint as an electronic signature: the dialog shows the meaning and asks for the
   * password (blank refused in the dialog, Esc cancels when `checks`); a double click on Sign signs once. */
  S.sign = async (tp, checks) => {
    const MEANING = 'I confirm these measurements and responses';
    await page.click('#sign-btn');
    await page.waitForSelector('.modal-overlay.sign #sign-password');
    assert.match(await page.locator('#sign-meaning').textContent(), new RegExp(MEANING));
    assert.equal(await page.locator('#sign-btn').isDisabled(), true, 'Sign is disabled while signing');
    if (checks) {
      await page.click('#sign-ok');
      assert.equal((await page.locator('.modal-overlay .modal-error').textContent()).trim(), 'your password is required to sign');
      await page.fill('#sign-password', 'secret');
      await S.shot(`sign_dialog_${tp}`);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => !document.querySelector('.modal-overlay'));
      assert.equal(await page.locator('#signed-note').count(), 0, 'Esc did not sign');
      assert.equal(await page.locator('#sign-btn').isDisabled(), false, 'Sign is enabled again after Esc');
      await page.click('#sign-btn');
      await page.waitForSelector('.modal-overlay.sign #sign-password');
    }
    await page.fill('#sign-password', PASSWORD);
    await page.dblclick('#sign-ok');
    await page.waitForSelector('#signed-note');
    const note = await page.locator('#signed-note').textContent();
    assert.match(note, new RegExp(`^${tp} signed by ${READER.replace('.', '\\.')} at \\d{4}-\\d\\d-\\d\\dT[\\d:]{8}Z — ${MEANING}$`), note);
    if (checks) await S.shot(`signed_${tp}`);
  };
  S.api = (p) => page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, body: await r.json() };
  }, p);
  S.ready = () => page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
  S.paneSop = (pane) => page.locator(`#vp-${pane}`).getAttribute('data-sop');
  S.paneIndex = async (pane) => Number(await page.locator(`#vp-${pane}`).getAttribute('data-index'));
  S.shown = async (id) => (await page.locator(id).textContent()).trim();
  S.message = (re) => page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#message')?.textContent || ''),
    re.source, { timeout: 10000 });

  /** Scrolls the current viewport with the mouse wheel until it shows the given instance. */
  S.scrollTo = async (sop) => {
    const n = await page.evaluate(() => window.rcy.viewer.panes.current.imageIds.length);
    const wanted = await page.evaluate((s) => window.rcy.viewer.panes.current.indexBySop.get(s), sop);
    assert.ok(wanted !== undefined, `instance ${sop} is in the series shown`);
    const box = await page.locator('#vp-current').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let guard = 0; guard < n + 5 && (await S.paneIndex('current')) !== wanted; guard++) {
      const before = await S.paneIndex('current');
      await page.mouse.wheel(0, before < wanted ? 100 : -100);
      // One notch, one slice: wait for it to be on screen so a slow machine never overshoots.
      await page.waitForFunction((b) => Number(document.querySelector('#vp-current').dataset.index) !== b, before, { timeout: 5000 });
    }
    assert.equal(await S.paneSop('current'), sop, 'wheel scrolling reached the lesion slice');
  };

  /** Page coordinates of patient-space points (mm) on the current viewport. */
  S.toPage = (points) => page.evaluate((pts) => {
    const vp = window.rcy.viewer.panes.current.viewport;
    const r = vp.element.getBoundingClientRect();
    return pts.map((w) => { const c = vp.worldToCanvas(w); return [r.left + c[0], r.top + c[1]]; });
  }, points);

  /** A mouse drag through page points (start, ..., end), in small steps as a hand would. */
  S.drag = async (...pts) => {
    await page.mouse.move(pts[0][0], pts[0][1]);
    await page.mouse.down();
    for (let i = 1; i < pts.length; i++) {
      const [a, b] = [pts[i - 1], pts[i]];
      for (let s = 1; s <= 12; s++) await page.mouse.move(a[0] + ((b[0] - a[0]) * s) / 12, a[1] + ((b[1] - a[1]) * s) / 12);
    }
    await page.mouse.up();
  };

  /** Measures an armed lesion on its truth slice: Length along the long axis, or Bidirectional for a node. */
  S.measure = async (lesion, tp) => {
    const tr = at(lesion, tp);
    await S.scrollTo(tr.sop_instance_uid);
    if (lesion.nodal) {
      // A node's short axis is small: zoom in on it first (right-button drag over the lesion), as a reader would,
      // so that one screen pixel is well under a millimetre.
      const [centre] = await S.toPage([tr.long_axis_endpoints_mm.reduce((s, p) => s.map((v, k) => v + p[k] / 2), [0, 0, 0])]);
      await page.mouse.move(centre[0], centre[1]);
      await page.mouse.down({ button: 'right' });
      for (let s = 1; s <= 10; s++) await page.mouse.move(centre[0], centre[1] + 15 * s);
      await page.mouse.up({ button: 'right' });
    }
    const [a, b] = await S.toPage(tr.long_axis_endpoints_mm);
    await S.drag(a, b);
    if (lesion.nodal) {
      // Cornerstone draws a default short axis perpendicular to the long axis as drawn (which is off the true one by
      // the mouse's pixel rounding); like a reader, put each short-axis end on the lesion's edge along that
      // perpendicular: at the true half-short-axis distance from the centre, on the true side.
      await page.waitForSelector('#save-caliper');
      const points = () => page.evaluate(() => window.rcy.view.measuring.pending.annotation.data.handles.points);
      const [L0, L1] = (await points()).slice(0, 2);
      const len = Math.hypot(L1[0] - L0[0], L1[1] - L0[1]);
      const u = [(L1[0] - L0[0]) / len, (L1[1] - L0[1]) / len];
      const v = [-u[1], u[0]];
      const m = [0, 1, 2].map((k) => (tr.long_axis_endpoints_mm[0][k] + tr.long_axis_endpoints_mm[1][k]) / 2);
      const along = (m[0] - L0[0]) * u[0] + (m[1] - L0[1]) * u[1];
      const c = [L0[0] + u[0] * along, L0[1] + u[1] * along, L0[2]];
      const goalsMm = tr.short_axis_endpoints_mm.map((e) => {
        const dist = Math.hypot(e[0] - m[0], e[1] - m[1]);
        const side = Math.sign((e[0] - m[0]) * v[0] + (e[1] - m[1]) * v[1]) || 1;
        return [c[0] + v[0] * side * dist, c[1] + v[1] * side * dist, c[2]];
      });
      const truthShort = await S.toPage(goalsMm);
      const handles = await S.toPage((await points()).slice(2, 4));
      const d = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1]);
      const first = d(handles[0], truthShort[0]) + d(handles[1], truthShort[1]) <= d(handles[0], truthShort[1]) + d(handles[1], truthShort[0]);
      const goals = first ? truthShort : [truthShort[1], truthShort[0]];
      const [c2] = await S.toPage([c]);
      for (let k = 0; k < 2; k++) {
        const now = (await S.toPage((await points()).slice(2, 4)))[k]; // moving one handle can move the other
        // A handle moved by less than a few pixels is taken for a click: go out 20 px and come back onto the edge.
        const dir = [goals[k][0] - c2[0], goals[k][1] - c2[1]];
        const n = Math.hypot(dir[0], dir[1]) || 1;
        await S.drag(now, [goals[k][0] + (20 * dir[0]) / n, goals[k][1] + (20 * dir[1]) / n], goals[k]);
        if (process.env.RCY_TEST_DEBUG) console.log(`handle ${k}: from ${now} to ${goals[k]} → ${(await S.toPage((await points()).slice(2, 4)))[k]}`);
      }
      if (process.env.RCY_TEST_DEBUG) {
        const pts = await points();
        console.log(`short axis drawn ${JSON.stringify(pts.slice(2).map((p) => p.map((v) => +v.toFixed(2))))} truth ${JSON.stringify(tr.short_axis_endpoints_mm)}`);
        console.log(`zoom ${await page.evaluate(() => window.rcy.viewer.panes.current.viewport.getZoom())}`);
        console.log(`long axis drawn ${JSON.stringify(pts.slice(0, 2).map((p) => p.map((v) => +v.toFixed(2))))} truth ${JSON.stringify(tr.long_axis_endpoints_mm)}`);
      }
      await page.click('#save-caliper');
    }
    await S.message(new RegExp(`${lesion.lesion_id} measured`));
    if (lesion.nodal) await page.click('#reset-view');
  };

  /** The stored read; checks every target's diameter at tp against the truth (short axis for nodes). */
  S.checkDiameters = async (subject, targets, tp) => {
    const { status, body } = await S.api(`/api/reads/${encodeURIComponent(subject)}`);
    assert.equal(status, 200);
    for (const l of targets) {
      const stored = body.lesions.find((x) => x.lesion_id === l.lesion_id);
      assert.ok(stored, `${l.lesion_id} stored`);
      const obs = stored.observations[tp];
      const exp = l.nodal ? at(l, tp).expected_short_axis_mm : at(l, tp).expected_longest_diameter_mm;
      assert.ok(obs && typeof obs.diameter_mm === 'number', `${l.lesion_id} at ${tp} has a diameter`);
      assert.ok(Math.abs(obs.diameter_mm - exp) <= TOL_MM, `${l.lesion_id} at ${tp}: stored ${obs.diameter_mm} mm, truth ${exp} mm`);
      assert.equal(obs.measurement.sop_instance_uid, at(l, tp).sop_instance_uid);
      console.log(`${body.subject_id} ${l.lesion_id}${l.nodal ? ' (node, short axis)' : ''} ${tp}: stored ${obs.diameter_mm.toFixed(2)} mm, truth ${exp} mm`);
    }
    return body;
  };

  /**
   * Sets a lesion's state from its row's menu; when that replaces a measurement the UI asks first and the
   * reader confirms (the dialog must name what is replaced).
   */
  S.setState = async (id, value) => {
    await page.locator(`tr[data-lesion="${id}"] button.state`).click();
    await page.locator(`.state-menu [data-value="${value}"]`).click();
    const confirm = page.locator('.modal-overlay.confirm');
    if (await confirm.count().then((n) => n > 0) || await confirm.waitFor({ timeout: 500 }).then(() => true, () => false)) {
      assert.match(await confirm.textContent(), new RegExp(`${id} .* will be replaced by`));
      await confirm.locator('button.primary').click();
    }
  };

  S.addLesion = async (kind, organ, nodal, state) => {
    await page.selectOption('#new-kind', kind);
    await page.selectOption('#new-organ', organ);
    if (nodal !== (await page.isChecked('#new-nodal'))) await page.click('#new-nodal');
    if (state) await page.selectOption('#new-state', state);
    await page.click('#add-lesion-btn');
  };
  return S;
}

/**
 * Reads one subject's baseline and first follow-up as the truth's perfect reader would, checking diameters and
 * the response shown; `extra` adds scenario-specific checks at marked points.
 */
async function readSubject(page, S, truth, extra = {}) {
  const subject = truth.subject_id;
  const [BL, FU] = truth.timepoints.map((x) => x.timepoint);
  const targets = truth.lesions.filter((l) => l.role === 'target');
  const nonTargets = truth.lesions.filter((l) => l.role === 'non_target');
  const fuInput = truth.recist_input.assessments.find((a) => a.timepoint === FU);
  assert.ok(targets.length >= 1 && targets.length <= 5, 'the phantom subject has targets');

  await page.click('a[href="#/worklist"]');
  await page.waitForSelector('#worklist');
  const row = page.locator(`tr[data-subject="${subject}"][data-timepoint="${BL}"]`);
  assert.match(await row.textContent(), /to read/);
  const t0 = Date.now();
  await row.locator('a.open-tp').click();
  await page.waitForFunction(() => document.querySelector('#vp-current')?.dataset.sop, null, { timeout: 30000 });
  console.log(`${subject} ${BL}: first image on screen ${Date.now() - t0} ms after the click (series of ${truth.timepoints[0].slices} slices)`);

  // ---- baseline: targets measured on their truth slice, non-targets marked
  await S.ready();
  for (const l of targets) {
    await S.addLesion('target', l.organ, l.nodal);
    await page.waitForFunction((id) => document.querySelector('#measuring')?.textContent.includes(`Measuring ${id}`), l.lesion_id, { timeout: 10000 });
    await S.measure(l, BL);
  }
  for (const l of nonTargets) {
    await S.addLesion('non_target', l.organ, l.nodal);
    await page.waitForSelector(`tr[data-lesion="${l.lesion_id}"]`);
    await S.message(new RegExp(`${l.lesion_id} added`));
  }
  let read = await S.checkDiameters(subject, targets, BL);
  if (extra.baseline) await extra.baseline(read);
  const blSum = read.engine.timepoints.find((x) => x.timepoint === BL).sum_mm;
  assert.equal(await S.shown('#resp-sod'), `${blSum.toFixed(1)} mm`, 'SOD shown is the engine\'s');
  await S.shot(`${subject}_3_baseline`);
  await S.sign(BL, !!extra.signChecks);

  // ---- follow-up: both viewports; each target from its baseline slice
  await page.click(`#tp-tabs a:has-text("${FU}")`);
  await S.ready();
  await page.waitForFunction(() => document.querySelector('#vp-baseline')?.dataset.sop && document.querySelector('#vp-current')?.dataset.sop);
  for (const l of targets) {
    const r = page.locator(`tr[data-lesion="${l.lesion_id}"]`);
    await r.locator('button.goto-bl').click();
    await page.waitForFunction((sop) => document.querySelector('#vp-baseline').dataset.sop === sop, at(l, BL).sop_instance_uid, { timeout: 5000 });
    await r.locator('button.measure').click();
    await S.measure(l, FU);
  }
  // Linked scrolling is by position: after the last wheel scroll both viewports show the same z.
  const zs = await page.evaluate(() => ['baseline', 'current'].map((k) => {
    const p = window.rcy.viewer.panes[k];
    return p.positions[p.currentIndex()];
  }));
  assert.ok(Math.abs(zs[0] - zs[1]) <= 5, `viewports linked by position: ${zs}`);
  for (const l of nonTargets) {
    const state = fuInput.non_target.find((x) => x.lesion_id === l.lesion_id).state;
    await S.setState(l.lesion_id, state);
    await S.message(new RegExp(`^${l.lesion_id}: `));
  }
  for (const n of fuInput.new_lesions) {
    const l = truth.lesions.find((x) => x.lesion_id === n.lesion_id) || n;
    await S.addLesion('new', l.organ, !!l.nodal, n.state);
    await S.message(new RegExp(`added \\(${n.state}\\)`));
  }
  read = await S.checkDiameters(subject, targets, FU);

  // The response shown is the server's engine output, and it equals the engine's answer for the perfect read.
  const perfect = JSON.parse(recistry(['recist', '-'], { input: JSON.stringify(truth.recist_input) }));
  const expFu = perfect.timepoints.find((x) => x.timepoint === FU);
  const engFu = read.engine.timepoints.find((x) => x.timepoint === FU);
  // A CR/PR the server calls unconfirmed is marked so (issue 10 defect 12).
  const unconf = (read.confirmation?.unconfirmed_timepoints || []).includes(FU) ? ' (unconfirmed)' : '';
  assert.equal(await S.shown('#resp-overall'), resp(engFu.overall_response) + unconf);
  assert.equal(engFu.overall_response, expFu.overall_response, 'overall response matches the perfect read');
  assert.equal(engFu.target_response, expFu.target_response);
  assert.equal(engFu.new_lesions, expFu.new_lesions);
  // Timed from the registry's treatment start, like the truth: the same ETS day and best overall response.
  assert.deepEqual(read.treatment_start, { date: truth.recist_input.treatment_start, source: 'registry' });
  assert.equal(read.engine.early_tumour_shrinkage?.days, perfect.early_tumour_shrinkage?.days, 'ETS day');
  assert.equal(read.engine.best_overall_response, perfect.best_overall_response, 'best overall response');
  assert.equal(await S.shown('#resp-target'), resp(expFu.target_response));
  assert.equal(await S.shown('#resp-nontarget'), resp(expFu.non_target_response));
  assert.ok(Math.abs(engFu.change_from_baseline_pct - expFu.change_from_baseline_pct) < 3,
    `change from baseline ${engFu.change_from_baseline_pct} vs perfect ${expFu.change_from_baseline_pct}`);
  const pct = (v) => `${v > 0 ? '+' : ''}${v.toFixed(1)} %`;
  assert.equal(await S.shown('#resp-chg-bl'), pct(engFu.change_from_baseline_pct));
  assert.equal(await S.shown('#resp-chg-nadir'), pct(engFu.change_from_nadir_pct));
  assert.ok((await S.shown('#resp-bor')).startsWith(resp(read.engine.best_overall_response)), 'BOR shown is the engine\'s');
  console.log(`${subject} ${FU} shown: overall ${await S.shown('#resp-overall')} (perfect read: ${expFu.overall_response}), ` +
    `target ${await S.shown('#resp-target')}, change ${await S.shown('#resp-chg-bl')}, BOR so far ${await S.shown('#resp-bor')}`);
  if (extra.followUp) await extra.followUp(read, engFu);
  await S.shot(`${subject}_4_followup`);
  await S.sign(FU, !!extra.signChecks);
  return { BL, FU, targets, nonTargets, engFu };
}

test('reader workstation end to end: baseline and follow-up of phantom subjects', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'reader-e2e-'));
  const stack = await startStack(dir);
  // A full central read at a laptop's 1366×768 (issue 10): everything reachable, Sign included.
  const { context, close } = await launchBrowser({ viewport: { width: 1366, height: 768 } });
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
  const S = session(page, stack);
  const [pr, pd] = stack.truths;
  assert.equal(pr.scenario, 'partial_response');
  assert.equal(pd.scenario, 'progression_new_lesion');

  // ---- login: a wrong password is refused, the right one opens the worklist
  await page.goto(stack.url + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', READER);
  await page.fill('#login-password', 'wrong password');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error')?.textContent.length > 0);
  await S.shot('1_login_refused');
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#worklist');
  await S.shot('2_worklist');

  // ---- subject 1: partial response (liver + lung targets), with the rule, key-image and signed-change checks
  const r1 = await readSubject(page, S, pr, {
    signChecks: true,
    baseline: async () => {
      // A third liver target is refused by the server (≤ 2 per organ) and its message is shown.
      await S.addLesion('target', 'liver', false);
      await page.waitForFunction(() => document.querySelector('#message')?.dataset.kind === 'error');
      const msg = await page.locator('#message').textContent();
      assert.match(msg, /organ|liver/i, `the server's rule message is shown: ${msg}`);
      assert.equal(await page.locator('#measuring').count(), 0, 'no lesion was created');
    },
    followUp: async (read, engFu) => {
      const keyUrl = await page.locator('tr[data-kind="target"] a.key-image').first().getAttribute('href');
      const key = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type')]; }, keyUrl);
      assert.deepEqual(key, [200, 'image/png'], `key image ${keyUrl}`);
      // An equivocal new lesion is listed with its state and is not progression.
      await S.addLesion('new', 'liver', false, 'equivocal');
      await S.message(/added \(equivocal\)/);
      const newId = await page.locator('tr[data-kind="new"]').first().getAttribute('data-lesion');
      assert.equal((await page.locator(`tr[data-lesion="${newId}"] td.value`).textContent()).trim(), 'equivocal');
      assert.ok((await S.shown('#resp-overall')).startsWith(resp(engFu.overall_response)), 'an equivocal new lesion is not PD');
    },
  });
  // A change to the signed follow-up asks for a reason, which goes to the server with the change.
  const nt = r1.nonTargets[0].lesion_id;
  await S.setState(nt, 'not_evaluable');
  await page.waitForSelector('.modal-overlay');
  await S.shot('5_reason_asked');
  await page.fill('.modal-input', 'lesion obscured by artefact on review');
  await page.click('.modal-buttons button.primary');
  await page.waitForFunction((x) => document.querySelector(`tr[data-lesion="${x}"] td.value`)?.textContent.includes('not evaluable'), nt);
  const after = (await S.api(`/api/reads/${encodeURIComponent(pr.subject_id)}`)).body;
  assert.equal(after.lesions.find((x) => x.lesion_id === nt).observations[r1.FU].state, 'not_evaluable');

  // ---- subject 2: progression by a new lesion, with a nodal target measured by its short axis
  assert.ok(pd.lesions.some((l) => l.role === 'target' && l.nodal), 'subject 2 has a nodal target');
  const r2 = await readSubject(page, S, pd, {
    followUp: async () => {
      // Split: two fragments drawn on the long axis of the non-nodal target, stored as fragments.
      const t1 = pd.lesions.find((l) => l.role === 'target' && !l.nodal);
      const tr = at(t1, 'FU1');
      const [a, b] = tr.long_axis_endpoints_mm;
      const lerp = (f) => [0, 1, 2].map((k) => a[k] + (b[k] - a[k]) * f);
      await S.setState(t1.lesion_id, '__split');
      await S.scrollTo(tr.sop_instance_uid);
      for (const [f0, f1] of [[0, 0.4], [0.6, 1]]) {
        const [p, q] = await S.toPage([lerp(f0), lerp(f1)]);
        await S.drag(p, q);
      }
      await page.waitForFunction(() => /2 fragment/.test(document.querySelector('#measuring')?.textContent || ''));
      await page.click('#save-fragments');
      await S.message(/2 fragments stored/);
      let read = (await S.api(`/api/reads/${encodeURIComponent(pd.subject_id)}`)).body;
      const frags = read.lesions.find((x) => x.lesion_id === t1.lesion_id).observations.FU1.fragments_mm;
      assert.equal(frags.length, 2);
      const whole = tr.expected_longest_diameter_mm;
      assert.ok(Math.abs(frags[0] - 0.4 * whole) < TOL_MM && Math.abs(frags[1] - 0.4 * whole) < TOL_MM, `fragments ${frags} of ${whole} mm`);
      assert.match(await page.locator(`tr[data-lesion="${t1.lesion_id}"] td.value`).textContent(), /^split \d/);
      // Both fragments are drawn back from the server's copy, labelled T1a and T1b.
      const labels = await page.evaluate(() => window.rcy.viewer.storedLabels());
      assert.ok(labels.includes(`${t1.lesion_id}a`) && labels.includes(`${t1.lesion_id}b`), `fragments drawn: ${labels}`);
      // A node cannot coalesce with a liver lesion (the engine's merge rule: within one organ, all nodes one
      // organ): the server refuses it with the reason, and nothing is stored.
      const node = pd.lesions.find((l) => l.role === 'target' && l.nodal);
      await S.setState(node.lesion_id, `__merge:${t1.lesion_id}`);
      await S.message(new RegExp(`${node.lesion_id} \\(lymph node\\) cannot be merged into ${t1.lesion_id} \\(liver\\)`));
      read = (await S.api(`/api/reads/${encodeURIComponent(pd.subject_id)}`)).body;
      assert.ok(!read.lesions.find((x) => x.lesion_id === node.lesion_id).observations.FU1?.merged_into, "no merge stored");
      const sum = read.engine.timepoints.find((x) => x.timepoint === 'FU1').sum_mm;
      assert.equal(await S.shown('#resp-sod'), `${sum.toFixed(1)} mm`, 'the SOD shown follows every change');
      console.log(`${pd.subject_id} FU1 after split (and a refused merge): SOD ${await S.shown('#resp-sod')}, fragments ${frags.map((v) => v.toFixed(1))}`);
    },
  });
  assert.equal(r2.engFu.overall_response, 'PD');

  await page.click('a[href="#/worklist"]');
  await page.waitForSelector('#worklist');
  for (const s of [pr, pd]) {
    assert.match(await page.locator(`tr[data-subject="${s.subject_id}"][data-timepoint="${r1.FU}"]`).textContent(), /signed/);
  }
  await S.shot('6_worklist_signed');

  // ---- QA: sees the central reader's read, read-only (no add, sign, measure or state controls)
  await page.click('#topbar button');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', QA_USER);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#worklist');
  await page.locator(`tr[data-subject="${pr.subject_id}"][data-timepoint="${r1.FU}"] a.open-tp`).click();
  await S.ready();
  await page.selectOption('#pick-read', `central:${READER}`);
  await page.click('#pick-show');
  await S.message(/Showing the central read/);
  const central = (await S.api(`/api/reads/${encodeURIComponent(pr.subject_id)}?role=central&reader=${encodeURIComponent(READER)}`)).body;
  const fuSum = central.engine.timepoints.find((x) => x.timepoint === r1.FU).sum_mm;
  assert.equal(await S.shown('#resp-sod'), `${fuSum.toFixed(1)} mm`, 'QA sees the central read\'s numbers');
  assert.equal(await page.locator('tr[data-kind="target"]').count(), r1.targets.length);
  for (const sel of ['#add-lesion-btn', '#sign-btn', 'button.measure', 'button.state', '#unsign']) {
    assert.equal(await page.locator(sel).count(), 0, `no ${sel} for QA`);
  }
  await S.shot('7_qa_readonly');
  // Expected refusals: the session probe before login, the wrong password, the third liver target, the node
  // merged into the liver target.
  const expected = [/^401 GET \/api\/me$/, /^401 POST \/api\/login$/, /^422 POST \/api\/reads\/[^/]+\/lesions$/,
    /^422 PUT \/api\/reads\/[^/]+\/timepoints\/FU1\/lesions\/[^/]+$/, /favicon/];
  assert.deepEqual(errors.filter((e) => !expected.some((re) => re.test(e))), [], 'no unexpected errors in the page');
  // The server ends cleanly on SIGTERM after all that traffic (under ASan: no error and no leak report).
  const exit = await stack.serve.stop();
  assert.deepEqual(exit, { code: 0, sig: null }, `serve exit: ${stack.serve.log().slice(-2000)}`);
  assert.doesNotMatch(stack.serve.log(), /AddressSanitizer|LeakSanitizer|runtime error:/);
  passed = true;
});
