// Follow-up propagation, the stored segmentation's outline and the exploratory volumetric line in the reader
// workstation, over the committed sample (CIREL-027-0001): T1 (liver) and T2 (node) are measured semi-
// automatically at baseline over the API; at FU1 "Propose from BL" on T1's row shows the proposal like an Auto
// result (contours, calipers, Accept/Reject) and Accept stores it as "semiautomatic" within one pixel spacing of
// the FU1 truth; T2 is proposed from the measuring bar; the volumetric line for FU1 appears once both targets are
// semi-automatic there, labelled exploratory and apart from RECIST; the row's "outline" toggle draws the stored
// SEG's contours on the current pane and takes them away again. Screenshots: $RCY_TEST_TMP/segment_propagate-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const READER = 'reader.prop';
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

test('follow-up propagation, outline toggle, volumetric line', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'segment-propagate-'));
  const shot = (name) => path.join(paths.tmp, `segment_propagate-${name}.png`);
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
  const spacing = truth.timepoints.find((x) => x.timepoint === 'FU1').pixel_spacing_mm;
  const lesion = (id) => truth.lesions.find((l) => l.lesion_id === id);
  const api = await apiLogin(stack.url, READER, PASSWORD);

  // Baseline over the API: both targets accepted as proposed (semi-automatic, each with its SEG).
  for (const [id, organ, nodal] of [['T1', 'liver', false], ['T2', 'lymph node', true]]) {
    await api('POST', `/api/reads/${S}/lesions`, { lesion_id: id, kind: 'target', organ, nodal, timepoint: 'BL' });
    const bl = at(lesion(id), 'BL');
    const p = await api('POST', '/api/segment', { subject: S, timepoint: 'BL', sop_instance_uid: bl.sop_instance_uid, point: mid(bl.long_axis_endpoints_px) });
    await api('PUT', `/api/reads/${S}/timepoints/BL/lesions/${id}`, { measurement: { sop_instance_uid: p.long_axis.sop_instance_uid,
      p1: p.long_axis.p1, p2: p.long_axis.p2, short_p1: p.short_axis.p1, short_p2: p.short_axis.p2, method: 'semiautomatic',
      segmentation: { seed: p.seed, volume_ml: p.volume_ml } } });
  }

  const page = await context.newPage();
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto(stack.url + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', READER);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('.worklist');
  const errors = watchPage(page);
  await page.goto(`${stack.url}/#/subject/${S}/FU1`);
  await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
  const contours = () => page.evaluate(() => window.rcy.viewer.panes.current.contours.shown);
  const readObs = async (id, tp) => (await api('GET', `/api/reads/${S}`)).lesions.find((l) => l.lesion_id === id).observations[tp];

  await t.test('Propose from BL on T1: a proposal like Auto, Accept stores it', async () => {
    // The baseline alone has a volume sum; FU1 has none yet.
    await page.waitForSelector('#resp-volumetric .vol-line[data-timepoint="BL"]');
    assert.equal(await page.$('#resp-volumetric .vol-line[data-timepoint="FU1"]'), null, 'no FU1 volume before its targets are measured');
    assert.ok(await page.$('tr[data-lesion="T1"] button.propose'), 'T1 offers Propose from BL');
    await page.click('tr[data-lesion="T1"] button.propose');
    await page.waitForSelector('#auto-result', { timeout: 30000 });
    const bar = await page.textContent('#auto-result');
    assert.match(bar, /^From BL: long \d+\.\d mm, short \d+\.\d mm, volume \d+\.\d mL$/, bar);
    assert.ok(await contours() >= 1, 'the proposal\'s contour is drawn');
    assert.ok(await page.$('#accept-auto') && await page.$('#reject-auto'), 'Accept and Reject are offered');
    assert.ok(await page.$('button[data-tool="RcyAuto"].active'), 'Auto is selected, as after a click');
    assert.match(await page.textContent('#message'), /Proposed from BL/);
    const st = await page.evaluate(() => {
      const a = window.rcy.view.measuring.auto;
      return { sop: window.rcy.viewer.panes.current.currentSop(), longSop: a.proposal.long_axis.sop_instance_uid };
    });
    assert.equal(st.sop, st.longSop, 'the pane shows the proposal\'s long-axis slice');
    await page.screenshot({ path: shot('proposal') });
    await page.click('#accept-auto');
    await page.waitForFunction(() => /T1 measured \(auto\)/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 20000 });
    const obs = await readObs('T1', 'FU1');
    const FU = at(lesion('T1'), 'FU1');
    assert.equal(obs.measurement.method, 'semiautomatic', JSON.stringify(obs.measurement));
    assert.ok(Math.abs(obs.diameter_mm - FU.expected_longest_diameter_mm) <= spacing,
      `stored ${obs.diameter_mm} mm vs FU1 truth ${FU.expected_longest_diameter_mm} (spacing ${spacing})`);
    assert.equal(typeof obs.measurement.segmentation.seg_sop_instance_uid, 'string');
    assert.equal(await contours(), 0, 'the accepted proposal\'s contours are gone');
    assert.equal(await page.$('tr[data-lesion="T1"] button.propose'), null, 'no Propose once measured');
    assert.equal(await page.$('#resp-volumetric .vol-line[data-timepoint="FU1"]'), null, 'FU1 volume waits for T2');
  });

  await t.test('T2 from the measuring bar; the volumetric line for FU1', async () => {
    await page.click('tr[data-lesion="T2"] button.measure');
    await page.waitForSelector('#propose-bl');
    await page.click('#propose-bl');
    await page.waitForSelector('#auto-result', { timeout: 30000 });
    await page.click('#accept-auto');
    await page.waitForFunction(() => /T2 measured \(auto/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 20000 });
    assert.equal((await readObs('T2', 'FU1')).measurement.method.startsWith('semiautomatic'), true);
    await page.waitForSelector('#resp-volumetric .vol-line[data-timepoint="FU1"]');
    const line = await page.textContent('#resp-volumetric .vol-line[data-timepoint="FU1"]');
    assert.match(line, /^FU1Volume \(exploratory\):\d+\.\d mL, [−+]?\d+ %$/, line);
    assert.match(await page.textContent('#resp-volumetric h4'), /exploratory, not RECIST/);
    // Apart from the RECIST panel's values, and never coloured like a response.
    assert.equal(await page.$('#response-current #resp-volumetric'), null);
    const colour = await page.evaluate(() => getComputedStyle(document.querySelector('#resp-volumetric .vol-line[data-timepoint="FU1"] b')).color);
    const rd = (await api('GET', `/api/reads/${S}`)).timepoints.find((x) => x.timepoint === 'FU1').volumetric;
    assert.ok(line.includes(`${rd.sum_ml.toFixed(1)} mL`), `${line} vs ${JSON.stringify(rd)}`);
    assert.ok(!/rgb\((82, 196, 122|255, 107, 107|240, 181, 65)\)/.test(colour), `volume coloured like a response: ${colour}`);
    const box = await page.$('#response');
    await box.screenshot({ path: shot('volumetric') });
  });

  await t.test('outline: the stored segmentation drawn again, and hidden', async () => {
    assert.equal(await contours(), 0);
    await page.click('tr[data-lesion="T1"] button.outline');
    await page.waitForFunction(() => window.rcy.viewer.panes.current.contours.shown >= 1, null, { timeout: 20000 });
    const st = await page.evaluate(() => ({
      cls: document.querySelector('#vp-current .contour-layer polygon').getAttribute('class'),
      sop: window.rcy.viewer.panes.current.currentSop(),
      pressed: document.querySelector('tr[data-lesion="T1"] button.outline').getAttribute('aria-pressed'),
    }));
    assert.equal(st.cls, 'contour stored');
    assert.equal(st.pressed, 'true');
    const m = (await readObs('T1', 'FU1')).measurement;
    assert.equal(st.sop, m.sop_instance_uid, 'the pane shows the measured slice');
    await page.screenshot({ path: shot('outline') });
    const cx = (m.p1[0] + m.p2[0]) / 2, cy = (m.p1[1] + m.p2[1]) / 2;
    const [x, y] = await page.evaluate((q) => {
      const pane = window.rcy.viewer.panes.current;
      const plane = window.rcy.core.metaData.get('imagePlaneModule', pane.viewport.getCurrentImageId());
      const w = [0, 1, 2].map((k) => plane.imagePositionPatient[k] + q[0] * plane.columnPixelSpacing * plane.rowCosines[k] + q[1] * plane.rowPixelSpacing * plane.columnCosines[k]);
      const [px, py] = pane.viewport.worldToCanvas(w);
      const r = pane.element.querySelector('canvas').getBoundingClientRect();
      return [r.left + px, r.top + py];
    }, [cx, cy]);
    await page.screenshot({ path: shot('outline-zoom'), clip: { x: x - 100, y: y - 100, width: 200, height: 200 } });
    const poly = await page.evaluate(() => {
      const b = document.querySelector('#vp-current .contour-layer polygon').getBoundingClientRect();
      return [b.left + b.width / 2, b.top + b.height / 2, b.width];
    });
    assert.ok(Math.hypot(poly[0] - x, poly[1] - y) < poly[2] / 3, `the outline is centred on the measurement: ${poly} vs ${x},${y}`);
    await page.click('tr[data-lesion="T1"] button.outline');
    await page.waitForFunction(() => window.rcy.viewer.panes.current.contours.shown === 0);
    assert.equal(await page.getAttribute('tr[data-lesion="T1"] button.outline', 'aria-pressed'), 'false');
    // A proposal takes the contour layer: an outline shown goes, and its button says so; Esc stores nothing.
    await page.click('tr[data-lesion="T1"] button.outline');
    await page.waitForFunction(() => window.rcy.viewer.panes.current.contours.shown >= 1);
    const before = await readObs('T2', 'FU1');
    await page.click('tr[data-lesion="T2"] button.measure');
    await page.click('#propose-bl');
    await page.waitForSelector('#auto-result', { timeout: 30000 });
    assert.equal(await page.getAttribute('tr[data-lesion="T1"] button.outline', 'aria-pressed'), 'false');
    assert.equal(await page.evaluate(() => document.querySelector('#vp-current .contour-layer polygon')?.getAttribute('class')), 'contour');
    await page.keyboard.press('Escape');
    assert.equal(await contours(), 0);
    assert.deepEqual(await readObs('T2', 'FU1'), before, 'Esc stores nothing');
  });

  assert.deepEqual(errors, []);
  await page.close();
  failed = false;
});
