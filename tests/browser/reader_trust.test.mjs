// Issue 10, "Reading you can trust": the workstation defects a reader cannot see coming. One real stack (the
// phantom's partial-response CT subject and its MR subject, `recistry reads index`, `recistry serve`) is started
// once; the read is seeded through the API (baseline T1–T3 + NT1 measured from the truth's image coordinates and
// signed, FU1 T1 and T2 measured, FU1 unsigned). One tab is opened on the subject (case 2 checks that first
// load, then a reload); every other case reaches its subject through the workstation's own navigation (the
// worklist, then the subject's address), which builds the subject screen from scratch with the view reset, as a
// new tab did, without paying for a new renderer, Cornerstone's init and a WebGL context each time:
//   1  keys on a focused state menu never change a stored value; replacing a measurement asks first
//   2  stored calipers are drawn on every load (a new tab, a reload)
//   4  a caliper drawn outside "Measure" is removed and a 0-length drag is never sent
//   5  the row being measured keeps its table layout
//   9  image 1 is the most superior; wheel down and ↓ move towards the feet; "image k/N · z … mm"
//   10 window presets by modality (MR: the image's own window, no HU presets)
//   11 zoom/pan and window linked between the panes; preset and slice kept on reload; image overlays
//   14 the reason dialog: Esc closes it, an empty reason is refused with a message
//   15 at 1366×768 the Sign button is visible without scrolling
//   16 a caliper drag cut off by leaving the screen does not leave the next screen's mouse dead
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const READER = 'reader.trust';
const PASSWORD = 'correct horse battery staple 42';
const PR = 'CIREL-014-0001';
const MR = 'CIREL-031-0001';

async function startStack(dir) {
  const sample = path.join(dir, 'sample');
  // Subject 6 of the cohort is the MR one; 12 slices keep it small.
  recistry(['sample', '--out', sample, '--subjects', '6', '--timepoints', '2', '--slices', '12', '--seed', '1', '--no-dirty']);
  const truth = (id) => JSON.parse(fs.readFileSync(path.join(sample, 'truth', `${id}.json`), 'utf8'));
  const truths = { [PR]: truth(PR), [MR]: truth(MR) };
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = Object.values(truths).flatMap((t) => t.timepoints.flatMap((tp) =>
    fs.readdirSync(path.join(sample, tp.folder)).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(sample, tp.folder, f))));
  recistry(['reads', 'index', '--archive', archive, ...files]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  recistry(['user', 'add', '--archive', archive, '--name', READER, '--role', 'central', '--password-file', pw]);
  const { serve, url } = await startServe(dir, archive);
  return { truths, serve, url };
}

const at = (lesion, tp) => lesion.timepoints.find((t) => t.timepoint === tp);
const meas = (lesion, tp) => {
  const t = at(lesion, tp);
  return { sop_instance_uid: t.sop_instance_uid, p1: t.long_axis_endpoints_px[0], p2: t.long_axis_endpoints_px[1] };
};

/** Baseline T1–T3 measured, NT1 present, BL signed; FU1: T1 and T2 measured, the rest open, unsigned. */
async function seed(api, truth) {
  const s = truth.subject_id;
  for (const l of truth.lesions.filter((x) => x.role === 'target' || x.role === 'non_target')) {
    await api('POST', `/api/reads/${s}/lesions`, { lesion_id: l.lesion_id, kind: l.role, organ: l.organ, nodal: l.nodal, timepoint: 'BL' });
    if (l.role === 'target') await api('PUT', `/api/reads/${s}/timepoints/BL/lesions/${l.lesion_id}`, { measurement: meas(l, 'BL') });
  }
  await api('POST', `/api/reads/${s}/timepoints/BL/sign`, { password: PASSWORD });
  for (const id of ['T1', 'T2']) {
    await api('PUT', `/api/reads/${s}/timepoints/FU1/lesions/${id}`, { measurement: meas(truth.lesions.find((x) => x.lesion_id === id), 'FU1') });
  }
}

test('reading you can trust (issue 10)', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'reader-trust-'));
  const stack = await startStack(dir);
  const { context, close } = await launchBrowser();
  let failed = false;
  t.after(async () => {
    await close();
    await stack.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  const api = await apiLogin(stack.url, READER, PASSWORD);
  const truth = stack.truths[PR];
  await seed(api, truth);
  const stored = async (id, tp = 'FU1', s = PR) => (await api('GET', `/api/reads/${s}`)).lesions.find((l) => l.lesion_id === id).observations[tp] || {};
  // z of each instance of a study, from the series list (the server's order: increasing z).
  const zOfSop = new Map();
  for (const tr of Object.values(stack.truths)) {
    for (const tp of tr.timepoints) {
      for (const s of (await api('GET', `/api/studies/${tp.study_instance_uid}/series`)).series) {
        for (const i of s.instances) zOfSop.set(i.sop_instance_uid, i.position_mm[2]);
      }
    }
  }

  // Log in once in the browser; the cases share one tab (same session cookie).
  {
    const page = await context.newPage();
    await page.goto(stack.url + '/');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', READER);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#worklist');
    await page.close();
  }
  const puts = [];
  let tab = null; // {page, errors}: the one tab, opened by the first open()
  const ready = async (page) => {
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('#vp-current')?.dataset.sop);
  };
  /**
   * A subject's timepoint, ready (images shown, stored calipers drawn), as a reader opens it: the first call opens
   * the tab on the subject's address; later calls leave for the worklist (the subject screen is torn down) and
   * come back by the address, so the screen is built again from nothing. The view kept per subject (slice,
   * preset) is forgotten first unless keepView; size: the window size for this and the following cases.
   */
  const open = async (subject, tp, { size, keepView } = {}) => {
    const target = `#/subject/${subject}/${tp}`;
    if (!tab) {
      const page = await context.newPage();
      const errors = watchPage(page);
      page.on('request', (r) => { if (r.method() === 'PUT') puts.push(JSON.parse(r.postData() || '{}')); });
      if (size) await page.setViewportSize(size);
      await page.goto(`${stack.url}/${target}`);
      tab = { page, errors };
    } else {
      const { page } = tab;
      // After a failed case the page may be left mid-gesture (a caliper half drawn): start the next one from a
      // fresh load so one failure does not cascade.
      if (tab.dirty) {
        await page.reload();
        await page.waitForSelector('#topbar .who');
        tab.dirty = false;
      }
      await page.evaluate(() => { window.location.hash = '#/worklist'; });
      await page.waitForSelector('#worklist');
      assert.equal(await page.evaluate(() => window.rcy), undefined, 'the subject screen was torn down');
      if (!keepView) await page.evaluate(() => localStorage.clear());
      if (size) await page.setViewportSize(size);
      await page.evaluate((h) => { window.location.hash = h; }, target);
    }
    await ready(tab.page);
    return tab;
  };
  const shot = async (page, name) => {
    const p = artifactPath(`reader_trust_${name}.png`);
    await page.screenshot({ path: p });
    console.log(`screenshot: ${p}`);
  };
  const sop = (page, pane = 'current') => page.locator(`#vp-${pane}`).getAttribute('data-sop');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const voi = (page, pane) => page.evaluate((k) => window.rcy.viewer.panes[k].viewport.getProperties().voiRange, pane);
  // Each case is a subtest: one failing case does not stop the others.
  const caseT = (name, fn) => t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      if (tab) tab.dirty = true;
      throw e;
    }
  });

  await caseT('2 stored calipers are drawn on every load (new tab, reload, navigation)', async () => {
    const { page } = await open(PR, 'FU1'); // the tab's first load
    const check = async (what) => {
      // drawStored runs before data-ready; the short bounded wait only gives a late drawing its chance to show.
      await page.waitForFunction(() => window.rcy.viewer.storedLabels().length >= 5, null, { timeout: 3000 }).catch(() => {});
      const msg = (await page.locator('#message').textContent()) || '';
      assert.doesNotMatch(msg, /cannot draw/, `${what}: ${msg}`);
      const labels = (await page.evaluate(() => window.rcy.viewer.storedLabels())).sort();
      assert.deepEqual(labels, ['T1', 'T1', 'T2', 'T2', 'T3'], `${what}: stored calipers drawn`);
    };
    await check('new tab');
    const t2sop = at(truth.lesions.find((l) => l.lesion_id === 'T2'), 'FU1').sop_instance_uid;
    await page.locator('tr[data-lesion="T2"] button.goto').click();
    await page.waitForFunction((s) => document.querySelector('#vp-current').dataset.sop === s, t2sop);
    await page.reload();
    await ready(page);
    await check('reload');
    await page.locator('tr[data-lesion="T2"] button.goto').click();
    await page.waitForFunction((s) => document.querySelector('#vp-current').dataset.sop === s, t2sop);
    await shot(page, '2_reload_calipers');
    await open(PR, 'FU1', { keepView: true });
    await check('back from the worklist');
  });

  await caseT('1 a key press on a focused state menu never replaces a measurement; replacing one asks first', async () => {
    const { page } = await open(PR, 'FU1');
    const before = await stored('T2');
    assert.ok(before.measurement, 'T2 is measured at FU1 (seeded)');
    const sop0 = await sop(page);
    const z0 = zOfSop.get(sop0);
    const nPuts = puts.length;
    await page.locator('tr[data-lesion="T2"] .state').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((s) => document.querySelector('#vp-current').dataset.sop !== s, sop0, { timeout: 5000 }).catch(() => {});
    await sleep(400); // a PUT from these keys would leave at once: give it the time to show
    const after = await stored('T2');
    assert.equal(puts.length, nPuts, 'no change was sent');
    assert.deepEqual(after.measurement?.p1, before.measurement.p1, 'T2 still has its measurement');
    assert.equal(after.state, before.state);
    assert.ok(zOfSop.get(await sop(page)) < z0, '↓ scrolled the viewport (towards the feet)');
    // Choosing a state that replaces the measurement asks first and says what will be lost; Cancel keeps it.
    await page.locator('tr[data-lesion="T2"] .state').click();
    await page.locator('.state-menu [data-value="too_small"]').click();
    await page.waitForSelector('.modal-overlay');
    const text = await page.locator('.modal-overlay').textContent();
    assert.ok(text.includes(`T2 ${before.diameter_mm.toFixed(1)} mm will be replaced by 'too small to measure'`), text);
    await shot(page, '1_replace_confirm');
    await page.locator('.modal-overlay button.cancel').click();
    await page.waitForSelector('.modal-overlay', { state: 'detached' });
    await sleep(300); // what Cancel would send leaves at once
    assert.equal(puts.length, nPuts, 'Cancel sends nothing');
    assert.deepEqual((await stored('T2')).measurement?.p1, before.measurement.p1);
  });

  await caseT('5 the row being measured keeps its table layout', async () => {
    const { page } = await open(PR, 'FU1');
    await page.locator('tr[data-lesion="T3"] button.measure').click();
    await page.waitForSelector('#measuring');
    const rows = await page.evaluate(() => [...document.querySelectorAll('#lesion-table tbody tr')].map((tr) =>
      [tr.dataset.lesion, getComputedStyle(tr).display, tr.querySelectorAll('td').length, tr.querySelector('button.measure, .state') ? 1 : 0]));
    await shot(page, '5_measuring_row');
    for (const [id, display, cells] of rows) {
      assert.equal(display, 'table-row', `${id} is a table row`);
      assert.equal(cells, rows[0][2], `${id} has every column`);
    }
    await page.keyboard.press('Escape');
  });

  await caseT('4 a caliper outside "Measure" is removed; a 0-length drag is never sent', async () => {
    const { page } = await open(PR, 'FU1');
    const t3 = truth.lesions.find((l) => l.lesion_id === 'T3');
    const tr = at(t3, 'FU1');
    await page.evaluate((s) => window.rcy.viewer.panes.current.jumpToSop(s), tr.sop_instance_uid);
    await page.waitForFunction((s) => document.querySelector('#vp-current').dataset.sop === s, tr.sop_instance_uid);
    const toPage = (pts) => page.evaluate((p) => {
      const vp = window.rcy.viewer.panes.current.viewport;
      const r = vp.element.getBoundingClientRect();
      return p.map((w) => { const c = vp.worldToCanvas(w); return [r.left + c[0], r.top + c[1]]; });
    }, pts);
    const drag = async (a, b) => {
      await page.mouse.move(a[0], a[1]);
      await page.mouse.down();
      for (let s = 1; s <= 12; s++) await page.mouse.move(a[0] + ((b[0] - a[0]) * s) / 12, a[1] + ((b[1] - a[1]) * s) / 12);
      await page.mouse.up();
    };
    const [a, b] = await toPage(tr.long_axis_endpoints_mm);
    const nPuts = puts.length;
    await page.keyboard.press('l');
    await drag(a, b); // before clicking Measure
    // Calipers on the images that are not the server's stored copies (those are "stored-…").
    // (each caliper's label box is an SVG group carrying its annotation UID).
    const loose = () => page.evaluate(() => [...document.querySelectorAll('#vp-current svg [data-annotation-uid]')]
      .filter((g) => !g.getAttribute('data-annotation-uid').startsWith('stored-')).length);
    await sleep(300); // the stray caliper is drawn on the next frame: give it the time to show (or go)
    assert.equal(await loose(), 0, 'the caliper drawn outside Measure is gone');
    await page.locator('tr[data-lesion="T3"] button.measure').click();
    await page.waitForSelector('#measuring');
    // A click (0-length drag) is not a measurement.
    await page.mouse.click(a[0], a[1]);
    // Also longer than Cornerstone's double-click window (400 ms), so the next press starts a new drag.
    await sleep(500);
    assert.equal(puts.length, nPuts, 'a 0-length caliper is never sent');
    await drag(a, b);
    await page.waitForFunction(() => /T3 measured/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 10000 });
    assert.equal(puts.length, nPuts + 1, 'one PUT for one caliper');
    const p = puts[puts.length - 1].measurement;
    assert.ok(Math.hypot(p.p2[0] - p.p1[0], p.p2[1] - p.p1[1]) > 5, `caliper sent ${JSON.stringify(p)}`);
    const d = (await stored('T3')).diameter_mm;
    assert.ok(Math.abs(d - tr.expected_longest_diameter_mm) <= 1.5, `T3 stored ${d} mm, truth ${tr.expected_longest_diameter_mm}`);
    assert.equal(await page.locator('#measuring').count(), 0, 'measuring ended');
    await shot(page, '4_measured_after_loose_caliper');
  });

  await caseT('9 image 1 is the most superior; wheel down and ↓ move towards the feet', async () => {
    const { page } = await open(PR, 'FU1');
    const info = async () => (await page.locator('#info-current').textContent()).trim();
    const check = async () => {
      const s = await sop(page);
      const z = zOfSop.get(s);
      // Rank from the top: image 1 is the highest z in the series shown.
      const series = await page.evaluate(() => window.rcy.viewer.panes.current.series.instances.map((i) => i.position_mm[2]));
      const k = series.filter((v) => v > z + 1e-6).length + 1;
      const txt = await info();
      assert.ok(txt.includes(`image ${k}/${series.length}`), `"${txt}" shows image ${k}/${series.length}`);
      const zs = `z ${z < 0 ? '\u2212' : ''}${Math.abs(z).toFixed(1)} mm`;
      assert.ok(txt.includes(zs), `"${txt}" shows ${zs}`);
      return z;
    };
    const moved = (s) => page.waitForFunction((x) => document.querySelector('#vp-current').dataset.sop !== x, s, { timeout: 5000 }).catch(() => {});
    const z0 = await check();
    let s0 = await sop(page);
    await page.keyboard.press('ArrowDown');
    await moved(s0);
    const z1 = await check();
    assert.ok(z1 < z0, `↓ moves towards the feet: z ${z0} → ${z1}`);
    const box = await page.locator('#vp-current').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    s0 = await sop(page);
    await page.mouse.wheel(0, 100);
    await moved(s0);
    const z2 = await check();
    assert.ok(z2 < z1, `wheel down moves towards the feet: z ${z1} → ${z2}`);
    await shot(page, '9_slice_order');
  });

  await caseT('10 window presets by modality', async () => {
    const ct = await open(PR, 'FU1');
    for (const k of ['abdomen', 'liver', 'lung', 'bone']) assert.equal(await ct.page.locator(`button[data-preset="${k}"]`).count(), 1, `CT has ${k}`);
    const { page } = await open(MR, 'BL');
    for (const k of ['abdomen', 'liver', 'lung', 'bone']) assert.equal(await page.locator(`button[data-preset="${k}"]`).count(), 0, `MR has no ${k} preset`);
    await page.keyboard.press('3'); // the lung preset's key on CT
    await sleep(300);
    const v = await voi(page, 'current');
    // The MR's own window: WindowCenter 500 / WindowWidth 1000.
    assert.ok(Math.abs(v.lower - 0) < 2 && Math.abs(v.upper - 1000) < 2, `MR window is the image's own: ${JSON.stringify(v)}`);
    assert.equal(await page.locator('button[data-preset="image"]').count(), 1, 'MR offers the image window');
    assert.equal(await page.locator('button[data-preset="auto"]').count(), 1, 'MR offers an automatic window');
    await page.click('button[data-preset="auto"]');
    const a = await voi(page, 'current');
    assert.ok(a.upper > a.lower && (a.lower !== v.lower || a.upper !== v.upper), `auto window ${JSON.stringify(a)}`);
    await shot(page, '10_mr_window');
  });

  await caseT('11 panes linked (zoom, pan, window); preset and slice kept on reload; overlays', async () => {
    const { page } = await open(PR, 'FU1');
    await page.keyboard.press('2'); // liver
    const box = await page.locator('#vp-current').boundingBox();
    const c = [box.x + box.width / 2, box.y + box.height / 2];
    // Window/level drag on the current pane: the baseline follows.
    await page.mouse.move(c[0], c[1]);
    await page.mouse.down();
    for (let s = 1; s <= 8; s++) await page.mouse.move(c[0] + 5 * s, c[1] + 3 * s);
    await page.mouse.up();
    await sleep(300);
    const [vc, vb] = [await voi(page, 'current'), await voi(page, 'baseline')];
    assert.ok(Math.abs(vc.lower - vb.lower) < 1 && Math.abs(vc.upper - vb.upper) < 1, `window linked: ${JSON.stringify([vc, vb])}`);
    assert.equal(await page.locator('button.preset.active').count(), 0, 'a window changed by hand is no longer "Liver"');
    // Zoom (right drag) on the current pane: the baseline follows.
    await page.mouse.move(c[0], c[1]);
    await page.mouse.down({ button: 'right' });
    for (let s = 1; s <= 8; s++) await page.mouse.move(c[0], c[1] + 10 * s);
    await page.mouse.up({ button: 'right' });
    await sleep(300);
    const zooms = await page.evaluate(() => ['current', 'baseline'].map((k) => window.rcy.viewer.panes[k].viewport.getZoom()));
    assert.ok(zooms[0] > 1.1 && Math.abs(zooms[0] - zooms[1]) < 0.01, `zoom linked: ${zooms}`);
    // Overlays: window, orientation letters (axial: R on the image's left, A at the top), scale bar, slice.
    const ov = (sel) => page.locator(`#vp-current ${sel}`).textContent();
    assert.match(await ov('.ov-wl'), /W \d+ L -?\d+/);
    assert.equal((await ov('.ov-left')).trim(), 'R');
    assert.equal((await ov('.ov-right')).trim(), 'L');
    assert.equal((await ov('.ov-top')).trim(), 'A');
    assert.equal((await ov('.ov-bottom')).trim(), 'P');
    assert.match(await ov('.ov-scale'), /^\d+ (mm|cm)$/);
    assert.match(await ov('.ov-slice'), /image \d+\/\d+ · z −?\d+\.\d mm/);
    await shot(page, '11_linked_overlays');
    // Preset and slice survive a reload.
    const k0 = Number(await page.locator('#vp-current').getAttribute('data-index'));
    await page.keyboard.press('1'); // abdomen
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((k) => Number(document.querySelector('#vp-current').dataset.index) === k + 2, k0, { timeout: 5000 });
    const s0 = await sop(page);
    await page.reload();
    await ready(page);
    assert.equal(await sop(page), s0, 'the slice is restored');
    const v = await voi(page, 'current');
    assert.ok(Math.abs(v.lower - (40 - 200)) < 1.5 && Math.abs(v.upper - (40 + 200)) < 1.5, `abdomen preset restored: ${JSON.stringify(v)}`);
  });

  await caseT('14 the reason dialog: Esc closes it; an empty reason says so', async () => {
    const { page } = await open(PR, 'BL');
    await page.click('#unsign');
    await page.waitForSelector('.modal-overlay');
    await page.fill('.modal-input', '   ');
    await page.click('.modal-buttons button.primary');
    await page.waitForSelector('.modal-overlay .modal-error:not(:empty)', { timeout: 3000 }).catch(() => {});
    assert.equal(await page.locator('.modal-overlay').count(), 1, 'the dialog stays');
    assert.equal((await page.locator('.modal-overlay .modal-error').textContent()).trim(), 'a reason is required');
    await shot(page, '14_reason_required');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.modal-overlay', { state: 'detached', timeout: 3000 }).catch(() => {});
    assert.equal(await page.locator('.modal-overlay').count(), 0, 'Esc closed the dialog');
    const read = await api('GET', `/api/reads/${PR}`);
    assert.equal(read.timepoints.find((x) => x.timepoint === 'BL').signed, true, 'BL is still signed');
  });

  await caseT('15 at 1366×768 Sign is visible without scrolling', async () => {
    const { page } = await open(PR, 'FU1', { size: { width: 1366, height: 768 } });
    const b = await page.locator('#sign-btn').boundingBox();
    assert.ok(b && b.y + b.height <= 768 && b.x + b.width <= 1366, `Sign at ${JSON.stringify(b)}`);
    const hit = await page.evaluate(() => {
      const r = document.querySelector('#sign-btn').getBoundingClientRect();
      return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.id;
    });
    assert.equal(hit, 'sign-btn', 'Sign is not covered');
    const side = await page.locator('.side').boundingBox();
    assert.ok(side.width <= 420, `side panel ${side.width} px wide`);
    await shot(page, '15_1366x768');
  });
  await caseT('16 a caliper drag cut off by leaving the subject leaves the next screen\'s mouse working', async () => {
    let { page } = await open(PR, 'FU1');
    const box = await page.locator('#vp-current').boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.keyboard.press('l');
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let s = 1; s <= 6; s++) await page.mouse.move(x + 10 * s, y + 6 * s);
    // The screen is torn down with the button still held (the reader followed a link, the session ended...).
    ({ page } = await open(PR, 'FU1'));
    await page.mouse.up();
    await page.mouse.move(x, y);
    const before = await sop(page);
    await page.mouse.wheel(0, 120);
    await page.waitForFunction((s) => document.querySelector('#vp-current').dataset.sop !== s, before, { timeout: 5000 })
      .catch(() => assert.fail('the mouse wheel no longer scrolls the new subject screen'));
  });
  assert.ok(!failed, 'every case passed');
});
