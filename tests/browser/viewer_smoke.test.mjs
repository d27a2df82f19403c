// Viewer test on synthetic images with exact geometry, independent of the archive: the built UI (dist/) is
// served by a small fixture HTTP server that speaks the reader API for one subject (two CT series of
// different slice spacing, each with a spherical lesion at a known place) and records what the UI sends.
// It checks what only the browser can get wrong: Cornerstone renders the DICOM, the wheel scrolls, the two
// viewports stay at the same patient position (not index) although spacings differ, presets apply, and a
// caliper dragged with the mouse reaches the server as image coordinates [col,row] that match the lesion's
// true edges (the server computes mm from those). The end-to-end test with the real server is reader_e2e.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { writeCtSlice } from './lib/ctdicom.mjs';

const ROWS = 256;
const COLS = 256;
const SP = 0.8; // mm
const LESION_BL = { x: 20, y: -10, z: 50, r: 15 };
const LESION_FU = { x: 20, y: -10, z: 50, r: 10 };

function makeSeries(dir, tag, zs, lesion, thickness) {
  const studyUid = `1.2.826.0.1.3680043.9.7777.${tag}.1`;
  const seriesUid = `1.2.826.0.1.3680043.9.7777.${tag}.2`;
  const instances = zs.map((z, k) => {
    const sop = `1.2.826.0.1.3680043.9.7777.${tag}.3.${k + 1}`;
    writeCtSlice({ file: path.join(dir, sop + '.dcm'), studyUid, seriesUid, sopUid: sop, forUid: '1.2.826.0.1.3680043.9.7777.9',
      instanceNumber: k + 1, z, rows: ROWS, cols: COLS, spacing: SP, thickness, lesion });
    return { sop_instance_uid: sop, instance_number: k + 1, position_mm: [-(COLS * SP) / 2, -(ROWS * SP) / 2, z], url: `/wado/instances/${sop}` };
  });
  return { studyUid, series: { series_uid: seriesUid, modality: 'CT', series_number: 2, description: `${tag} axial`,
    slice_thickness_mm: thickness, thumbnail_url: `/api/series/${seriesUid}/thumbnail.png`, instances } };
}

function fixture(dir) {
  const bl = makeSeries(dir, '11', Array.from({ length: 21 }, (_, k) => k * 5), LESION_BL, 5);
  const fu = makeSeries(dir, '12', Array.from({ length: 35 }, (_, k) => -1 + k * 3), LESION_FU, 3);
  const puts = [];
  const read = {
    subject_id: 'S900-0001', role: 'central', reader: 'smoke',
    timepoints: [
      { timepoint: 'BL', date: '2026-01-05', study_uid: bl.studyUid, signed: true, signed_by: 'smoke', signed_at: '2026-01-06T10:00:00Z' },
      { timepoint: 'FU1', date: '2026-03-02', study_uid: fu.studyUid, signed: false },
    ],
    lesions: [{ lesion_id: 'T1', kind: 'target', organ: 'liver', nodal: false,
      baseline: { sop_instance_uid: bl.series.instances[10].sop_instance_uid, slice_position_mm: bl.series.instances[10].position_mm },
      observations: { BL: { diameter_mm: 30, state: null, fragments_mm: null, merged_into: null, measurement: null } } }],
    // A fixed engine answer: the test checks that the panel shows the server's numbers, never its own.
    engine: { subject_id: 'S900-0001', best_overall_response: 'PR', timepoints: [
      { timepoint: 'BL', sum_mm: 30, nadir_mm: 30, change_from_baseline_pct: 0, change_from_nadir_pct: 0, target_response: null,
        non_target_response: null, new_lesions: false, overall_response: null },
      { timepoint: 'FU1', sum_mm: 20, nadir_mm: 30, change_from_baseline_pct: -33.3, change_from_nadir_pct: -33.3,
        target_response: 'PR', non_target_response: 'NONE', new_lesions: false, overall_response: 'PR' }] },
    engine_error: null, warnings: [],
  };
  const worklist = { subjects: [{ subject_id: 'S900-0001', site_id: 'S900', timepoints: [
    { timepoint: 'BL', study_uid: bl.studyUid, date: '2026-01-05', modality: 'CT', status: 'signed', qc: [] },
    { timepoint: 'FU1', study_uid: fu.studyUid, date: '2026-03-02', modality: 'CT', status: 'in_progress',
      qc: [{ code: 'thick_slices', severity: 'warning', message: 'slice thickness 5 mm at baseline' }] }] }] };
  const series = { [bl.studyUid]: { series: [bl.series] }, [fu.studyUid]: { series: [fu.series] } };
  return { bl, fu, puts, read, worklist, series };
}

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png' };

function serve(dir, fx) {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (code, obj) => { res.writeHead(code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const p = url.pathname;
      if (p === '/api/me') return json(200, { user: { name: 'smoke', role: 'central', site: null }, csrf_token: 'tok' });
      if (p === '/api/worklist') return json(200, fx.worklist);
      let m;
      if ((m = p.match(/^\/api\/studies\/([^/]+)\/series$/))) return json(200, fx.series[decodeURIComponent(m[1])] || { series: [] });
      if ((m = p.match(/^\/wado\/instances\/([^/]+)$/))) {
        const f = path.join(dir, decodeURIComponent(m[1]).replace(/[^0-9.]/g, '') + '.dcm');
        if (!fs.existsSync(f)) return json(404, { error: 'no such instance' });
        res.writeHead(200, { 'Content-Type': 'application/dicom' });
        return res.end(fs.readFileSync(f));
      }
      if (p === '/api/reads/S900-0001' && req.method === 'GET') return json(200, fx.read);
      if ((m = p.match(/^\/api\/reads\/S900-0001\/timepoints\/([^/]+)\/lesions\/([^/]+)$/)) && req.method === 'PUT') {
        if (req.headers['x-csrf-token'] !== 'tok') return json(403, { error: 'missing CSRF token' });
        const b = JSON.parse(body);
        fx.puts.push({ timepoint: m[1], lesion: m[2], body: b });
        const l = fx.read.lesions.find((x) => x.lesion_id === m[2]);
        // Echo what was stored (the real server also computes diameter_mm; this fixture does not pretend to).
        l.observations[m[1]] = { diameter_mm: null, state: b.state || null, fragments_mm: null, merged_into: null,
          measurement: b.measurement ? { ...b.measurement, key_image_url: null } : null };
        return json(200, fx.read);
      }
      if (p.startsWith('/api/')) return json(404, { error: `no fixture for ${req.method} ${p}` });
      const rel = p === '/' ? 'index.html' : p.slice(1);
      const f = path.join(paths.dist, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
      if (!f.startsWith(paths.dist) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { 'Content-Type': MIME[path.extname(f)] || 'application/octet-stream' });
      res.end(fs.readFileSync(f));
    });
  });
}

test('viewer: render, wheel scroll, position sync, presets, caliper in image coordinates', async (t) => {
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), `the UI is not built (${paths.dist}); run scripts/build-ui.sh`);
  const dir = fs.mkdtempSync(path.join(fs.mkdirSync(paths.tmp, { recursive: true }) || paths.tmp, 'viewer-smoke-'));
  const fx = fixture(dir);
  const server = serve(dir, fx);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const { context, close } = await launchBrowser();
  t.after(async () => { await close(); server.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  const page = await context.newPage();
  const errors = watchPage(page);

  await page.goto(`${base}/#/subject/S900-0001/FU1`);
  await page.waitForSelector('.subject-view[data-ready], #app[data-ready="1"]', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#vp-current')?.dataset.sop && document.querySelector('#vp-baseline')?.dataset.sop);

  // Scroll the follow-up with the wheel until it shows z = 50 (index 17): the baseline must follow to z = 50
  // (its index 10), not to index 17.
  const cur = page.locator('#vp-current');
  const box = await cur.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const idx = async (pane) => Number(await page.locator(`#vp-${pane}`).getAttribute('data-index'));
  for (let guard = 0; guard < 60 && (await idx('current')) !== 17; guard++) {
    const before = await idx('current');
    await page.mouse.wheel(0, before < 17 ? 100 : -100);
    await page.waitForFunction((b) => Number(document.querySelector('#vp-current').dataset.index) !== b, before, { timeout: 5000 });
  }
  assert.equal(await idx('current'), 17, 'wheel scrolling reaches the lesion slice');
  await page.waitForFunction(() => document.querySelector('#vp-baseline').dataset.index === '10', null, { timeout: 5000 });
  assert.equal(await page.locator('#vp-current').getAttribute('data-sop'), fx.fu.series.instances[17].sop_instance_uid);

  // Keyboard: ↓ one slice (the baseline follows by position), ↑ back; 3 = lung preset.
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('#vp-current').dataset.index === '18');
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction(() => document.querySelector('#vp-current').dataset.index === '17');
  await page.waitForFunction(() => document.querySelector('#vp-baseline').dataset.index === '10');
  await page.keyboard.press('3');
  const lung = await page.evaluate(() => window.rcy.viewer.panes.baseline.viewport.getProperties().voiRange);
  assert.ok(Math.abs(lung.lower - (-600 - 750)) < 1.5 && Math.abs(lung.upper - (-600 + 750)) < 1.5, `lung preset W1500/L-600 → ${JSON.stringify(lung)}`);

  await page.click('button[data-preset="liver"]');
  const voi = await page.evaluate(() => window.rcy.viewer.panes.current.viewport.getProperties().voiRange);
  assert.ok(Math.abs(voi.lower - (90 - 75)) < 1.5 && Math.abs(voi.upper - (90 + 75)) < 1.5, `liver preset W150/L90 → ${JSON.stringify(voi)}`);

  // Measure T1 along x through the lesion centre: drag from its left edge to its right edge.
  await page.click('tr[data-lesion="T1"] button.measure');
  const L = LESION_FU;
  const ends = await page.evaluate(([a, b]) => {
    const vp = window.rcy.viewer.panes.current.viewport;
    const r = vp.element.getBoundingClientRect();
    return [a, b].map((w) => { const c = vp.worldToCanvas(w); return [r.left + c[0], r.top + c[1]]; });
  }, [[L.x - L.r, L.y, L.z], [L.x + L.r, L.y, L.z]]);
  await page.mouse.move(ends[0][0], ends[0][1]);
  await page.mouse.down();
  for (let s = 1; s <= 10; s++) await page.mouse.move(ends[0][0] + ((ends[1][0] - ends[0][0]) * s) / 10, ends[0][1] + ((ends[1][1] - ends[0][1]) * s) / 10);
  await page.mouse.up();
  await page.waitForFunction(() => /T1 measured/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 10000 });

  assert.equal(fx.puts.length, 1, 'one PUT for one caliper');
  const { timepoint, lesion, body } = fx.puts[0];
  assert.equal(timepoint, 'FU1');
  assert.equal(lesion, 'T1');
  assert.equal(body.measurement.sop_instance_uid, fx.fu.series.instances[17].sop_instance_uid);
  // Expected image coordinates of the edges (pixel centres at integers): col = (x - x0) / spacing.
  const x0 = -(COLS * SP) / 2;
  const y0 = -(ROWS * SP) / 2;
  const exp1 = [(L.x - L.r - x0) / SP, (L.y - y0) / SP];
  const exp2 = [(L.x + L.r - x0) / SP, (L.y - y0) / SP];
  const near = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  // One screen pixel is about 0.4 image pixel at this zoom; allow 1 image pixel for the mouse path.
  assert.ok(near(body.measurement.p1, exp1) < 1, `p1 ${body.measurement.p1} vs ${exp1}`);
  assert.ok(near(body.measurement.p2, exp2) < 1, `p2 ${body.measurement.p2} vs ${exp2}`);
  const mm = near(body.measurement.p1, body.measurement.p2) * SP;
  assert.ok(Math.abs(mm - 2 * L.r) < 1, `caliper length ${mm.toFixed(2)} mm vs ${2 * L.r}`);

  // The response panel shows the server's engine numbers.
  assert.equal((await page.locator('#resp-overall').textContent()).trim(), 'PR');
  assert.equal((await page.locator('#resp-chg-bl').textContent()).trim(), '-33.3 %');
  assert.equal((await page.locator('#resp-bor').textContent()).trim(), 'PR');
  assert.match(await page.locator('#warnings').textContent(), /slice thickness 5 mm/);

  const shot = artifactPath('viewer_smoke.png');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);
  // The fixture serves no thumbnails (the real server renders them; reader_e2e loads them).
  assert.deepEqual(errors.filter((e) => !/^404 GET .*thumbnail\.png$|favicon/.test(e)), [], 'no page errors');
});
