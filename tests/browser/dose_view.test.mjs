// The dose view (issue 14) over the TARE phantom (`recistry sample --tare`, subject CIREL-014-0971: CT and 90Y PET
// on one grid), indexed with `recistry reads index`; the phantom's label maps of the Y90 study are the server's
// [dose] voi_dir. A central reader opens the subject, follows the Dose tab and sees the dose fused over the CT:
// a pixel at the hottest voxel is coloured (and grey again at opacity 0), a body pixel without dose is grey,
// the colour bar runs from blue (0 Gy) to red (top) and is labelled in Gy, the DVH has a curve per compartment
// and the table's tumour mean dose is the API's (and the phantom's analytic LDM mean). The API's JSON, the grid
// and its headers are checked; a site user of another site gets 404, one of the subject's own site 403 (the
// tumours are the central read's), QA 200, and a central reader 403 once another central reader's segmentation
// of the subject is stored (blinding).
// First and cached request times are printed. Screenshots at 1366×768 and 1920×1080 go to $RCY_TEST_TMP
// (dose_view-*.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, watchPage } from './lib/browser.mjs';
import { recistry, run, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const S = 'CIREL-014-0971';
const USERS = [
  { name: 'reader.dose', role: 'central' },
  { name: 'qa.dose', role: 'qa' },
  { name: 'site.other', role: 'site', site: 'S027' },
  { name: 'site.own', role: 'site', site: 'S014' },
];

function walk(d, out = []) {
  for (const f of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, f.name);
    if (f.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

async function startStack(dir) {
  const archive = path.join(dir, 'archive');
  const phantom = path.join(dir, 'phantom');
  recistry(['init', '--archive', archive]);
  recistry(['sample', '--tare', '--phantom', 'accuracy', '--out', phantom]);
  // Both studies, as a real subject has them: the work-up (CT + MAA SPECT) and the treatment (CT + 90Y PET);
  // the run takes the latest PT series and its CT, and the MAA it finds must not stop it.
  const subjectDir = path.join(phantom, 'S014', S);
  assert.ok(fs.existsSync(path.join(subjectDir, 'Y90')), `the phantom has no ${subjectDir}/Y90`);
  const files = walk(subjectDir).filter((f) => /\.dcm$/i.test(f)).sort();
  recistry(['reads', 'index', '--archive', archive, ...files]);
  // [dose] voi_dir/<subject>/<voi>.nrrd: the phantom's label maps of that study (its tumours too: this archive
  // has no central read with segmentations).
  const voiDir = path.join(dir, 'voi');
  fs.mkdirSync(path.join(voiDir, S), { recursive: true });
  const vois = path.join(phantom, 'tare', S, 'Y90');
  for (const f of fs.readdirSync(vois).filter((f) => f.endsWith('.nrrd'))) fs.copyFileSync(path.join(vois, f), path.join(voiDir, S, f));
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const u of USERS) {
    recistry(['user', 'add', '--archive', archive, '--name', u.name, '--role', u.role, ...(u.site ? ['--site', u.site] : []), '--password-file', pw]);
  }
  const thresholds = path.join(paths.source, 'config', 'dose-thresholds.ini');
  const { serve, url } = await startServe(dir, archive, `[dose]\nvoi_dir = ${voiDir}\nthresholds = ${thresholds}\n`);
  const truth = JSON.parse(fs.readFileSync(path.join(phantom, 'tare', `${S}.json`), 'utf8'));
  return { serve, url, archive, truth };
}

/** The canvas pixel [r, g, b] of the dose viewport at world point w (after the view shows w's slice). */
async function pixelAt(page, w) {
  return page.evaluate(async (p) => {
    const v = window.rcyDose.view;
    v.showWorld(p);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const canvas = v.els.vp.querySelector('canvas');
    const [x, y] = v.viewport.worldToCanvas(p);
    const sx = canvas.width / canvas.clientWidth, sy = canvas.height / canvas.clientHeight;
    const d = canvas.getContext('2d').getImageData(Math.round(x * sx), Math.round(y * sy), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, w);
}
const chroma = (c) => Math.max(...c) - Math.min(...c);

test('dose view: fused dose over CT, colour bar, DVH, compartments; access', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'dose-view-'));
  const shot = (name) => path.join(paths.tmp, `dose_view-${name}.png`);
  const stack = await startStack(dir);
  const { context, close } = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  let failed = true;
  t.after(async () => {
    await close();
    await stack.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  const api = await apiLogin(stack.url, USERS[0].name, PASSWORD);

  // ---- the API: computed once, then from memory
  let t0 = performance.now();
  const dose = await api('GET', `/api/dose/${S}`);
  const firstMs = performance.now() - t0;
  t0 = performance.now();
  const again = await api('GET', `/api/dose/${S}`);
  const cachedMs = performance.now() - t0;
  console.log(`GET /api/dose/${S}: first ${firstMs.toFixed(0)} ms (run ${(dose.computed_s * 1000).toFixed(0)} ms), cached ${cachedMs.toFixed(0)} ms`);
  assert.equal(again.computed_at, dose.computed_at, 'the second request is answered from the cache');
  const g = dose.grid;
  const nvox = g.size[0] * g.size[1] * g.size[2];
  assert.equal(dose.ct.sop_instance_uids.length, g.size[2], 'one CT SOP Instance UID per grid slice');
  assert.ok(dose.ct.sop_instance_uids.every((u) => typeof u === 'string' && u.length > 0));
  const raw = await fetch(`${stack.url}/api/dose/${S}/volume`, { headers: { Cookie: api.cookie } });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'application/octet-stream');
  assert.equal(raw.headers.get('x-grid-size'), g.size.join(' '));
  const gy = new Float32Array(await raw.arrayBuffer());
  assert.equal(gy.length, nvox, 'the volume has nx*ny*nz Float32');
  let hot = 0;
  for (let p = 1; p < nvox; p++) if (gy[p] > gy[hot]) hot = p;
  assert.ok(Math.abs(gy[hot] - g.max_gy) < 1e-3 * g.max_gy, `grid.max_gy ${g.max_gy} is the volume's maximum ${gy[hot]}`);
  const ctRaw = await fetch(`${stack.url}/api/dose/${S}/ct`, { headers: { Cookie: api.cookie } });
  assert.equal(ctRaw.status, 200);
  const hu = new Int16Array(await ctRaw.arrayBuffer());
  assert.equal(hu.length, nvox);
  const tumour = dose.compartments.find((c) => c.kind === 'tumour');
  assert.ok(tumour, `a tumour compartment: ${dose.compartments.map((c) => c.name)}`);
  // Voxel index -> world (the JSON's geometry), as the screen does it.
  const world = (p) => {
    const ijk = [p % g.size[0], Math.floor(p / g.size[0]) % g.size[1], Math.floor(p / (g.size[0] * g.size[1]))];
    return [0, 1, 2].map((r) => g.origin_mm[r] + [0, 1, 2].reduce((s, c) => s + g.direction[3 * r + c] * ijk[c] * g.spacing_mm[c], 0));
  };
  // A soft-tissue voxel whose dose is under the screen's default floor (transparent there: 2 % of the colour
  // range), on the hottest slice when there is one, for the grey pixel; away from the edge of the dose.
  const kHot = Math.floor(hot / (g.size[0] * g.size[1]));
  const floorGy = 0.02 * g.max_gy;
  const coldAt = (p) => gy[p] < 0.5 * floorGy && hu[p] > -200 && hu[p] < 200 && gy[p + 1] < 0.5 * floorGy && gy[p - 1] < 0.5 * floorGy;
  let cold = -1;
  for (let p = kHot * g.size[0] * g.size[1] + 1; p < (kHot + 1) * g.size[0] * g.size[1] - 1 && cold < 0; p++) if (coldAt(p)) cold = p;
  for (let p = 1; p < nvox - 1 && cold < 0; p++) if (coldAt(p)) cold = p;

  // ---- access: another site 404, own site 403 (central data), QA 200
  const other = await apiLogin(stack.url, 'site.other', PASSWORD);
  assert.equal((await other.raw('GET', `/api/dose/${S}`)).status, 404, 'a site user of another site: 404');
  assert.equal((await other.raw('GET', `/api/dose/${S}/volume`)).status, 404);
  const own = await apiLogin(stack.url, 'site.own', PASSWORD);
  assert.equal((await own.raw('GET', `/api/dose/${S}`)).status, 403, 'a site user of the subject\'s site: 403');
  const qa = await apiLogin(stack.url, 'qa.dose', PASSWORD);
  assert.equal((await qa.raw('GET', `/api/dose/${S}`)).status, 200, 'QA sees the dose');
  assert.equal((await api.raw('GET', '/api/dose/CIREL-014-9999')).status, 404, 'no such subject: 404');
  // Blinding: the run takes every central (and adjudicator) segmentation of the subject, so a central reader is
  // refused once another reader's is stored; their own, or a site read's, does not matter. Rows only (the run
  // skips a SEG it cannot read; the access rule looks at the rows).
  const db = path.join(stack.archive, 'recistry.db');
  const sql = (q) => run('sqlite3', [db, q]);
  sql(`INSERT INTO segmentations VALUES ('2.25.1', '${S}', 'central', '${USERS[0].name}'), ('2.25.2', '${S}', 'site', 'site')`);
  assert.equal((await api.raw('GET', `/api/dose/${S}`)).status, 200, 'own and site segmentations: the central reader sees the dose');
  sql(`INSERT INTO segmentations VALUES ('2.25.3', '${S}', 'central', 'reader.second')`);
  const blinded = await api.raw('GET', `/api/dose/${S}/volume`);
  assert.equal(blinded.status, 403, 'another central reader\'s segmentation: 403');
  assert.match(blinded.body.error, /blinded/);
  assert.equal((await qa.raw('GET', `/api/dose/${S}`)).status, 200, 'QA still sees it');
  sql(`DELETE FROM segmentations WHERE subject_id = '${S}'`);

  // ---- the screen
  const page = await context.newPage();
  await page.goto(stack.url + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', USERS[0].name);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('.worklist');
  const errors = watchPage(page);
  await page.goto(`${stack.url}/#/subject/${S}`);
  await page.waitForSelector('#dose-tab', { timeout: 30000 });
  await page.click('#dose-tab');
  await page.waitForSelector('#dose-view');
  await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });

  await t.test('the fused image: colour at the hottest voxel, grey where there is no dose', async () => {
    const hotPx = await pixelAt(page, world(hot));
    assert.ok(chroma(hotPx) > 60, `the hottest voxel's pixel is coloured: rgb ${hotPx}`);
    assert.ok(cold >= 0, `a soft-tissue voxel under ${floorGy.toFixed(1)} Gy exists`);
    const coldPx = await pixelAt(page, world(cold));
    assert.ok(chroma(coldPx) < 16 && Math.max(...coldPx) > 20, `a body voxel under the floor (${gy[cold].toFixed(1)} Gy) is grey (CT only): rgb ${coldPx}`);
    // The slider takes the dose away: the hot pixel is then the CT's grey.
    await page.locator('#dose-opacity').fill('0');
    const off = await pixelAt(page, world(hot));
    assert.ok(chroma(off) < 16, `opacity 0: the hot pixel is grey: rgb ${off}`);
    await page.locator('#dose-opacity').fill('100');
    const full = await pixelAt(page, world(hot));
    await page.locator('#dose-opacity').fill('60');
    const on = await pixelAt(page, world(hot));
    assert.ok(chroma(on) > 60, `opacity 60 %: coloured again: rgb ${on}`);
    // The opacity on screen is the slider's: 60 % of the way from the CT's grey to the opaque colour.
    let ch = 0;
    for (let i = 1; i < 3; i++) if (Math.abs(full[i] - off[i]) > Math.abs(full[ch] - off[ch])) ch = i;
    const seen = (on[ch] - off[ch]) / (full[ch] - off[ch]);
    assert.ok(Math.abs(seen - 0.6) < 0.06, `opacity on screen ${seen.toFixed(3)} for 60 % (grey ${off}, opaque ${full}, 60 % ${on})`);
    const slice = await page.textContent('#dose-slice');
    assert.match(slice, new RegExp(`slice ${kHot + 1} / ${g.size[2]}`), slice);
    assert.equal(await page.getAttribute('#dose-viewport', 'data-sop'), dose.ct.sop_instance_uids[kHot], 'the slice shown is that CT instance');
    // Scrolling: the wheel and the arrow keys move one slice.
    const box = await page.locator('#dose-viewport').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 120);
    await page.waitForFunction((k) => document.querySelector('#dose-viewport').dataset.slice !== String(k), kHot, { timeout: 5000 });
    const k1 = Number(await page.getAttribute('#dose-viewport', 'data-slice'));
    assert.equal(Math.abs(k1 - kHot), 1, `one wheel step is one slice: ${kHot} -> ${k1}`);
    await page.evaluate(() => document.activeElement?.blur()); // the opacity slider had the keys
    // ↑ undoes a wheel step down, as in the subject screen (both move through the viewport's own slice order).
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction((k) => document.querySelector('#dose-viewport').dataset.slice === String(k), kHot, { timeout: 5000 });
  });

  await t.test('colour bar in Gy, DVH curves, compartment table', async () => {
    const bar = await page.evaluate(() => {
      const c = document.querySelector('#dose-colourbar');
      const ctx = c.getContext('2d');
      const k = c.width / c.clientWidth;
      const px = (y) => [...ctx.getImageData(Math.round(18 * k), Math.round(y * k), 1, 1).data].slice(0, 3);
      // The bar runs from y 26 (top of the range) to height - 12 (0 Gy); 10 % above 0 Gy is over the floor.
      const y0 = c.clientHeight - 12, y1 = 26;
      return { w: c.clientWidth, h: c.clientHeight, top: px(y1 + 4), bottom: px(y0 - 0.1 * (y0 - y1)), upper: Number(c.dataset.upperGy) };
    });
    assert.ok(bar.w > 40 && bar.h > 150, `colour bar ${bar.w}x${bar.h}`);
    assert.ok(bar.top[0] > 120 && bar.top[2] < 60, `top of the bar is red: ${bar.top}`);
    assert.ok(bar.bottom[2] > 120 && bar.bottom[0] < 60, `bottom of the bar is blue: ${bar.bottom}`);
    assert.ok(bar.upper >= g.max_gy && bar.upper <= 2.5 * g.max_gy, `colour range up to ${bar.upper} Gy for a maximum of ${g.max_gy}`);
    const withDvh = dose.compartments.filter((c) => Array.isArray(c.dvh) ? c.dvh.length : c.dvh);
    const dvh = await page.evaluate(() => {
      const ch = document.querySelector('#dose-dvh').rcyChart;
      return ch.data.datasets.map((d) => ({ label: d.label, n: d.data.length, x: ch.options.scales.x.title.text }));
    });
    assert.equal(dvh.length, withDvh.length, `one DVH curve per compartment: ${dvh.map((d) => d.label)}`);
    assert.ok(dvh.every((d) => d.n > 1 && d.x === 'dose (Gy)'));
    const mean = await page.textContent(`#dose-table tr[data-compartment="${tumour.name}"] td[data-metric="mean_gy"]`);
    assert.equal(mean, tumour.mean_gy.toFixed(1), `the table's ${tumour.name} mean dose is the API's`);
    // The flags of [dose] thresholds (config/dose-thresholds.ini): listed as the API has them, badges on their rows.
    assert.ok(dose.flags.length >= 1, 'the EANM table raises a flag on this phantom (lungs 32.8 Gy >= 30 Gy)');
    const flagged = await page.$$eval('#dose-flags li', (lis) => lis.map((li) => li.dataset.compartment));
    assert.deepEqual(flagged, dose.flags.map((f) => f.compartment));
    for (const f of dose.flags) {
      assert.equal(await page.locator(`#dose-table tr[data-compartment="${f.compartment}"] .badge.${f.severity}`).count(), 1, `${f.compartment}: a ${f.severity} badge`);
    }
    const rows = await page.$$eval('#dose-table tbody tr', (trs) => trs.map((tr) => tr.dataset.compartment));
    assert.deepEqual(rows, dose.compartments.map((c) => c.name));
    // End to end (archive -> run -> server -> table): the phantom's analytic LDM mean (noise 5 %, no blur).
    const truthT = stack.truth.studies.Y90.compartments.find((c) => c.name === tumour.name);
    console.log(`${tumour.name}: table ${mean} Gy, phantom truth ${truthT.ldm_mean_gy.toFixed(1)} Gy`);
    assert.ok(Math.abs(tumour.mean_gy - truthT.ldm_mean_gy) < 0.02 * truthT.ldm_mean_gy, `${tumour.name} ${tumour.mean_gy} vs truth ${truthT.ldm_mean_gy}`);
  });

  await t.test('screenshots at 1366x768 and 1920x1080', async () => {
    await page.evaluate((p) => window.rcyDose.view.showWorld(p), world(hot));
    await page.waitForTimeout(300);
    await page.screenshot({ path: shot('1366x768') });
    for (const [w, h] of [[1366, 768], [1920, 1080]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(600);
      await page.screenshot({ path: shot(`${w}x${h}`) });
      // Nothing of the screen lies outside the window or under another part: the viewport and the side panel fit.
      const box = await page.evaluate(() => {
        const r = (s) => document.querySelector(s).getBoundingClientRect();
        return { vp: r('#dose-viewport'), side: r('.dose-side'), bar: r('#dose-colourbar'), W: innerWidth, H: innerHeight };
      });
      assert.ok(box.vp.width > 300 && box.vp.height > 300, `${w}x${h}: viewport ${box.vp.width}x${box.vp.height}`);
      assert.ok(box.side.right <= box.W + 1 && box.vp.right <= box.side.left + 1, `${w}x${h}: side panel beside the image`);
      assert.ok(box.bar.bottom <= box.H && box.bar.right <= box.side.left + 1, `${w}x${h}: colour bar visible`);
    }
    const hotPx = await pixelAt(page, world(hot));
    assert.ok(chroma(hotPx) > 60, `after resizing, still coloured: ${hotPx}`);
  });

  assert.deepEqual(errors, [], `no page errors or failed requests: ${errors.join('; ')}`);
  failed = false;
});
