// One-click (semi-automatic) measurement in the reader workstation, over the committed sample (CIREL-027-0001,
// indexed with `recistry reads index`, served by `recistry serve`): a central reader adds a liver target at
// baseline, picks Auto (A) and clicks at the truth's centre of T1: the proposal's contour is drawn on the slices
// it spans and follows scrolling and zoom, its calipers are a Bidirectional annotation on the long-axis slice,
// the measuring bar shows long, short and volume; Accept stores it as "semiautomatic" with a diameter within one
// pixel spacing of the truth (read back over the API) and the contours go. Then a click on plain liver shows the
// server's message, a proposal is rejected (nothing stored, the reader measures by hand) and Esc cancels one.
// Screenshots go to $RCY_TEST_TMP (segment_click-*.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const READER = 'reader.auto';
const S = 'CIREL-027-0001';
const SAMPLE = path.join(paths.source, 'sample-dicom');

async function startStack(dir) {
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = [];
  const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, f.name);
    if (f.isDirectory()) walk(p);
    else if (f.name.endsWith('.dcm')) files.push(p);
  } };
  walk(path.join(SAMPLE, 'S027'));
  recistry(['reads', 'index', '--archive', archive, ...files.sort()]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  recistry(['user', 'add', '--archive', archive, '--name', READER, '--role', 'central', '--password-file', pw]);
  const { serve, url } = await startServe(dir, archive);
  return { serve, url, archive };
}

const at = (lesion, tp) => lesion.timepoints.find((t) => t.timepoint === tp);
const mid = (pts) => [(pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2];

/** Page coordinates of image point [col, row] on the current pane's image (its DICOM geometry). */
function pageXY(page, p) {
  return page.evaluate((q) => {
    const pane = window.rcy.viewer.panes.current;
    const plane = window.rcy.core.metaData.get('imagePlaneModule', pane.viewport.getCurrentImageId());
    const w = [0, 1, 2].map((k) => plane.imagePositionPatient[k] + q[0] * plane.columnPixelSpacing * plane.rowCosines[k] + q[1] * plane.rowPixelSpacing * plane.columnCosines[k]);
    const [x, y] = pane.viewport.worldToCanvas(w);
    const r = pane.element.querySelector('canvas').getBoundingClientRect();
    return [r.left + x, r.top + y];
  }, p);
}

test('one-click measurement: Auto, contour, Accept, Reject, Esc', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'segment-click-'));
  const shot = (name) => path.join(paths.tmp, `segment_click-${name}.png`);
  const stack = await startStack(dir);
  const { context, close } = await launchBrowser();
  let failed = true;
  t.after(async () => {
    await close();
    await stack.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  const truth = JSON.parse(fs.readFileSync(path.join(SAMPLE, 'truth', `${S}.json`), 'utf8'));
  const spacing = truth.timepoints[0].pixel_spacing_mm;
  const T1 = at(truth.lesions.find((l) => l.lesion_id === 'T1'), 'BL');
  const api = await apiLogin(stack.url, READER, PASSWORD);

  const page = await context.newPage();
  await page.goto(stack.url + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', READER);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('.worklist');
  const errors = watchPage(page); // after the login page (whose GET /api/me is a 401 before logging in)
  await page.goto(`${stack.url}/#/subject/${S}/BL`);
  await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
  const message = () => page.textContent('#message').catch(() => '');
  const contours = () => page.evaluate(() => window.rcy.viewer.panes.current.contours.shown);

  await t.test('Auto on T1: contour on the lesion, calipers, Accept stores a semiautomatic measurement', async () => {
    await page.selectOption('#new-kind', 'target');
    await page.selectOption('#new-organ', 'liver');
    await page.click('#add-lesion-btn');
    await page.waitForFunction(() => document.querySelector('#measuring')?.textContent.includes('Measuring T1'), null, { timeout: 10000 });
    // The Auto tool is offered while measuring; A selects it.
    await page.waitForSelector('button[data-tool="RcyAuto"]');
    await page.keyboard.press('a');
    await page.waitForSelector('button[data-tool="RcyAuto"].active');
    // Start one slice off the truth's, so the jump to the long-axis slice is seen.
    await page.evaluate(async (sop) => {
      const pane = window.rcy.viewer.panes.current;
      await pane.jumpToIndex(pane.indexBySop.get(sop) + 1);
    }, T1.sop_instance_uid);
    await page.evaluate(async (sop) => { await window.rcy.viewer.panes.current.jumpToSop(sop); }, T1.sop_instance_uid);
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, T1.sop_instance_uid);
    const [x, y] = await pageXY(page, mid(T1.long_axis_endpoints_px));
    await page.mouse.click(x, y);
    await page.waitForSelector('#auto-result', { timeout: 20000 });
    const bar = await page.textContent('#auto-result');
    assert.match(bar, /^Auto: long \d+\.\d mm, short \d+\.\d mm, volume \d+\.\d mL$/, bar);
    const long = Number(bar.match(/long (\d+\.\d)/)[1]);
    assert.ok(Math.abs(long - T1.expected_longest_diameter_mm) <= spacing, `proposal ${long} mm vs truth ${T1.expected_longest_diameter_mm}`);
    // The pane is on the long-axis slice, with the proposal's calipers and its contour there.
    const state = await page.evaluate(() => {
      const v = window.rcy.view;
      const a = window.rcy.viewer.engine && window.rcy.view.measuring?.auto;
      return { sop: v.viewer.panes.current.currentSop(), longSop: a?.proposal.long_axis.sop_instance_uid, slices: a?.proposal.slices,
        first: a?.proposal.first_sop_instance_uid };
    });
    assert.equal(state.sop, state.longSop, 'the pane shows the long-axis slice');
    assert.ok(await contours() >= 1, 'a contour is drawn on the slice shown');
    await page.screenshot({ path: shot('proposal') });
    // Zoomed on the lesion: the contour must sit on its edge.
    const [cx, cy] = await pageXY(page, mid(T1.long_axis_endpoints_px));
    await page.screenshot({ path: shot('proposal-zoom'), clip: { x: cx - 90, y: cy - 90, width: 180, height: 180 } });
    // It follows zoom (redrawn on render) and is on the other slices the lesion spans.
    await page.evaluate(() => {
      const vp = window.rcy.viewer.panes.current.viewport;
      vp.setZoom(vp.getZoom() * 2);
      vp.render();
    });
    await page.waitForTimeout(300);
    const [zx, zy] = await pageXY(page, mid(T1.long_axis_endpoints_px));
    await page.screenshot({ path: shot('proposal-zoom2x'), clip: { x: zx - 150, y: zy - 150, width: 300, height: 300 } });
    const polyBox = await page.evaluate(() => {
      const b = document.querySelector('#vp-current .contour-layer polygon').getBoundingClientRect();
      return [b.left + b.width / 2, b.top + b.height / 2, b.width];
    });
    assert.ok(Math.hypot(polyBox[0] - zx, polyBox[1] - zy) < polyBox[2] / 3, `the zoomed contour is centred on the lesion: ${polyBox} vs ${zx},${zy}`);
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop !== sop, T1.sop_instance_uid);
    await page.waitForTimeout(300);
    const onNext = await contours();
    await page.screenshot({ path: shot('next-slice') });
    const spans = await page.evaluate(() => {
      const v = window.rcy.view;
      const sop = v.viewer.panes.current.currentSop();
      return v.measuring.auto.proposal.contours.some((c) => c.sop_instance_uid === sop);
    });
    assert.equal(onNext >= 1, spans, 'the next slice shows a contour exactly when the lesion spans it');
    assert.ok(spans || state.slices < 3, 'a 7-slice lesion spans the slice next to its long-axis slice');
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, T1.sop_instance_uid);
    await page.evaluate(() => window.rcy.viewer.reset());
    await page.waitForTimeout(200);
    // Accept: stored as proposed.
    await page.click('#accept-auto');
    await page.waitForFunction(() => /T1 measured \(auto\)/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 20000 });
    const obs = (await api('GET', `/api/reads/${S}`)).lesions.find((l) => l.lesion_id === 'T1').observations.BL;
    assert.equal(obs.measurement.method, 'semiautomatic', JSON.stringify(obs.measurement));
    assert.ok(Math.abs(obs.diameter_mm - T1.expected_longest_diameter_mm) <= spacing,
      `stored ${obs.diameter_mm} mm vs truth ${T1.expected_longest_diameter_mm} (spacing ${spacing})`);
    assert.ok(obs.measurement.segmentation.volume_ml > 0);
    assert.equal(await contours(), 0, 'the accepted proposal\'s contours are gone');
    const tag = await page.textContent('tr[data-lesion="T1"] .method-tag');
    assert.equal(tag, 'auto');
    assert.match(await page.textContent('tr[data-lesion="T1"] .volume'), /\d+\.\d mL/);
    await page.screenshot({ path: shot('accepted') });
  });

  await t.test('plain liver: the server\'s message; Reject; Esc', async () => {
    await page.click('tr[data-lesion="T1"] button.measure');
    await page.click('button[data-tool="RcyAuto"]');
    await page.evaluate(async (sop) => { await window.rcy.viewer.panes.current.jumpToSop(sop); }, T1.sop_instance_uid);
    const [lx, ly] = await pageXY(page, [130, 230]);
    await page.mouse.click(lx, ly);
    await page.waitForFunction(() => /nothing stands out/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 20000 });
    assert.equal(await page.$('#auto-result'), null);
    await page.screenshot({ path: shot('nothing-found') });
    // A proposal, moved, then rejected: nothing stored, Length selected for measuring by hand.
    const [x, y] = await pageXY(page, mid(T1.long_axis_endpoints_px));
    await page.mouse.click(x, y);
    await page.waitForSelector('#auto-result', { timeout: 20000 });
    const before = (await api('GET', `/api/reads/${S}`)).lesions.find((l) => l.lesion_id === 'T1').observations.BL.measurement;
    await page.click('#reject-auto');
    assert.equal(await page.$('#auto-result'), null);
    assert.equal(await contours(), 0);
    assert.ok(await page.$('button[data-tool="Length"].active'), 'Length is selected after Reject');
    const after = (await api('GET', `/api/reads/${S}`)).lesions.find((l) => l.lesion_id === 'T1').observations.BL.measurement;
    assert.deepEqual(after, before, 'Reject stores nothing');
    // Esc cancels a proposal and the measuring.
    await page.keyboard.press('a');
    await page.mouse.click(x, y);
    await page.waitForSelector('#auto-result', { timeout: 20000 });
    await page.keyboard.press('Escape');
    assert.equal(await page.$('#measuring'), null);
    assert.equal(await contours(), 0);
    assert.equal(await page.evaluate(() => window.rcy.core && window.rcy.viewer.primaryTool), 'WindowLevel');
  });

  await t.test('edited: a moved handle before Accept stores semiautomatic_edited', async () => {
    await page.click('tr[data-lesion="T1"] button.measure');
    await page.keyboard.press('a');
    const [x, y] = await pageXY(page, mid(T1.long_axis_endpoints_px));
    await page.mouse.click(x, y);
    await page.waitForSelector('#auto-result', { timeout: 20000 });
    // Drag the long axis's first handle by a few screen pixels.
    const h1 = await page.evaluate(() => {
      const a = window.rcy.view.measuring.auto;
      return a.proposal.long_axis.p1;
    });
    const [hx, hy] = await pageXY(page, h1);
    await page.mouse.move(hx, hy);
    await page.mouse.down();
    await page.mouse.move(hx + 6, hy + 4, { steps: 4 });
    await page.mouse.up();
    await page.waitForTimeout(200);
    await page.click('#accept-auto');
    await page.waitForFunction(() => /T1 measured \(auto, edited\)/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 20000 });
    const obs = (await api('GET', `/api/reads/${S}`)).lesions.find((l) => l.lesion_id === 'T1').observations.BL;
    assert.equal(obs.measurement.method, 'semiautomatic_edited');
    assert.equal(await page.textContent('tr[data-lesion="T1"] .method-tag'), 'auto, edited');
    await page.screenshot({ path: shot('edited') });
  });

  await t.test('follow-up: Auto on the current pane beside the baseline', async () => {
    const FU = at(truth.lesions.find((l) => l.lesion_id === 'T1'), 'FU1');
    await page.goto(`${stack.url}/#/subject/${S}/FU1`);
    await page.waitForFunction(() => !document.querySelector('#app[data-ready="1"]') || window.rcy?.view?.currentTp?.timepoint === 'FU1');
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
    await page.click('tr[data-lesion="T1"] button.measure');
    await page.keyboard.press('a');
    await page.evaluate(async (sop) => { await window.rcy.viewer.panes.current.jumpToSop(sop); }, FU.sop_instance_uid);
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, FU.sop_instance_uid);
    // A click on the baseline pane is refused: the follow-up is measured on the right.
    const bl = await page.evaluate(() => {
      const r = window.rcy.viewer.panes.baseline.element.querySelector('canvas').getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    });
    await page.mouse.click(bl[0], bl[1]);
    await page.waitForFunction(() => /not on the baseline/.test(document.querySelector('#message')?.textContent || ''));
    const [x, y] = await pageXY(page, mid(FU.long_axis_endpoints_px));
    await page.mouse.click(x, y);
    await page.waitForSelector('#auto-result', { timeout: 20000 });
    assert.ok(await contours() >= 1);
    assert.equal(await page.evaluate(() => window.rcy.viewer.panes.baseline.contours.shown), 0, 'no contour on the baseline pane');
    await page.screenshot({ path: shot('followup-proposal') });
    await page.click('#accept-auto');
    await page.waitForFunction(() => /T1 measured \(auto\)/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 20000 });
    const obs = (await api('GET', `/api/reads/${S}`)).lesions.find((l) => l.lesion_id === 'T1').observations.FU1;
    assert.equal(obs.measurement.method, 'semiautomatic');
    assert.ok(Math.abs(obs.diameter_mm - FU.expected_longest_diameter_mm) <= spacing,
      `FU1 stored ${obs.diameter_mm} mm vs truth ${FU.expected_longest_diameter_mm}`);
    await page.screenshot({ path: shot('followup-accepted') });
  });

  const unexpected = errors.filter((e) => !/^422 POST \/api\/segment$/.test(e));
  assert.deepEqual(unexpected, []);
  await page.close();
  failed = false;
});
