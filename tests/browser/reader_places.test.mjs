// Issue 10, items 7 and after: every lesion has a place, priors beside the current timepoint, a worklist to work
// from. The committed sample (sample-dicom/: CIREL-014-0001, CIREL-027-0001, CIREL-031-0001) is indexed with
// `recistry reads index` and served by `recistry serve`; CIREL-027-0001's central read is seeded through the API
// (BL T1, T2 measured, NT1 present; FU1 T1, T2 measured, NT1 present, N1 new unequivocal: PD), then:
//   API  a point on N1 (FU1) is stored with the patient position the server computes (= the truth's mm) and a key
//        image; a target cannot be placed by a point; a state change keeps the point; NT1 placed at BL sets its
//        baseline slice; the read view names the nadir timepoint
//   API  assignments: admin only (403 for a reader), unknown reader 422, audited; a reader with assignments sees
//        only their subjects, one without sees all; admin sees each subject's readers
//   UI   "Place" on NT1 at FU1 (a click on the image) stores a point and its labelled marker is drawn; N1's marker
//        shows on its slice; the left pane picker offers BL and the nadir; the lesion navigator scrolls both panes
//   UI   worklist filters, sort and counts per status; the admin's assignment editor
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const READER = 'reader.place';
const OTHER = 'reader.other';
const ADMIN = 'admin.assign';
const PD = 'CIREL-027-0001';
const SAMPLE = path.join(paths.source, 'sample-dicom');

async function startStack(dir) {
  const truth = (id) => JSON.parse(fs.readFileSync(path.join(SAMPLE, 'truth', `${id}.json`), 'utf8'));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = [];
  const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, f.name);
    if (f.isDirectory() && f.name !== 'dirty') walk(p);
    else if (f.name.endsWith('.dcm')) files.push(p);
  } };
  for (const site of ['S014', 'S027', 'S031']) walk(path.join(SAMPLE, site));
  recistry(['reads', 'index', '--archive', archive, ...files.sort()]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const [name, role] of [[READER, 'central'], [OTHER, 'central'], [ADMIN, 'admin']]) {
    recistry(['user', 'add', '--archive', archive, '--name', name, '--role', role, '--password-file', pw]);
  }
  const { serve, url } = await startServe(dir, archive);
  return { truth: truth(PD), serve, url, archive };
}

const at = (lesion, tp) => lesion.timepoints.find((t) => t.timepoint === tp);
const mid = (pts) => [(pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2];
const midMm = (pts) => [0, 1, 2].map((k) => (pts[0][k] + pts[1][k]) / 2);

async function seed(api, truth) {
  const s = truth.subject_id;
  const L = (id) => truth.lesions.find((l) => l.lesion_id === id);
  const meas = (l, tp) => {
    const t = at(l, tp);
    const m = { sop_instance_uid: t.sop_instance_uid, p1: t.long_axis_endpoints_px[0], p2: t.long_axis_endpoints_px[1] };
    if (l.nodal) Object.assign(m, { short_p1: t.short_axis_endpoints_px[0], short_p2: t.short_axis_endpoints_px[1] });
    return m;
  };
  for (const l of truth.lesions.filter((x) => x.role === 'target' || x.role === 'non_target')) {
    await api('POST', `/api/reads/${s}/lesions`, { lesion_id: l.lesion_id, kind: l.role, organ: l.organ, nodal: l.nodal, timepoint: 'BL' });
    if (l.role === 'target') await api('PUT', `/api/reads/${s}/timepoints/BL/lesions/${l.lesion_id}`, { measurement: meas(l, 'BL') });
  }
  for (const id of ['T1', 'T2']) await api('PUT', `/api/reads/${s}/timepoints/FU1/lesions/${id}`, { measurement: meas(L(id), 'FU1') });
  await api('PUT', `/api/reads/${s}/timepoints/FU1/lesions/NT1`, { state: 'present' });
  await api('POST', `/api/reads/${s}/lesions`, { lesion_id: 'N1', kind: 'new', organ: 'liver', timepoint: 'FU1', state: 'unequivocal' });
}

test('lesion places, priors and the worklist (issue 10)', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'reader-places-'));
  const stack = await startStack(dir);
  const { context, close } = await launchBrowser();
  let failed = true;
  t.after(async () => {
    await close();
    await stack.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  const api = await apiLogin(stack.url, READER, PASSWORD);
  const truth = stack.truth;
  await seed(api, truth);
  const N1 = at(truth.lesions.find((l) => l.lesion_id === 'N1'), 'FU1');
  const NT1 = truth.lesions.find((l) => l.lesion_id === 'NT1');

  await t.test('API: a new lesion placed by a point, with patient mm and a key image', async () => {
    const read = await api('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/N1`,
      { point: { sop_instance_uid: N1.sop_instance_uid, p: mid(N1.long_axis_endpoints_px) } });
    const obs = read.lesions.find((l) => l.lesion_id === 'N1').observations.FU1;
    assert.equal(obs.state, 'unequivocal', 'a point alone keeps the state');
    assert.equal(obs.point.sop_instance_uid, N1.sop_instance_uid);
    const want = midMm(N1.long_axis_endpoints_mm);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(obs.point.position_mm[k] - want[k]) < 0.5, `position_mm ${obs.point.position_mm} ≈ truth ${want}`);
    const img = await api.raw('GET', obs.point.key_image_url);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    const bytes = await (await fetch(stack.url + obs.point.key_image_url, { headers: { Cookie: api.cookie } })).arrayBuffer();
    fs.writeFileSync(artifactPath('reader_places_n1_key_image.png'), Buffer.from(bytes));
    assert.equal(read.engine?.timepoints?.find((x) => x.timepoint === 'FU1')?.overall_response, 'PD');
    // the key image itself, for a look
    const png = await fetch(stack.url + obs.point.key_image_url, { headers: { Cookie: '' } });
    assert.equal(png.status, 401, 'key images need a session');
  });

  await t.test('API: refusals, state change keeps the point, baseline slice, nadir', async () => {
    const tgt = await api.raw('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/T1`, { point: { sop_instance_uid: N1.sop_instance_uid, p: [10, 10] } });
    assert.equal(tgt.status, 422, JSON.stringify(tgt.body));
    const both = await api.raw('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/N1`, { point: { sop_instance_uid: N1.sop_instance_uid, p: [10, 10] }, measurement: {} });
    assert.equal(both.status, 400);
    const out = await api.raw('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/N1`, { point: { sop_instance_uid: N1.sop_instance_uid, p: [9999, 10] } });
    assert.equal(out.status, 400);
    const wrongTp = await api.raw('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/NT1`, { point: { sop_instance_uid: at(NT1, 'BL').sop_instance_uid, p: [10, 10] } });
    assert.equal(wrongTp.status, 422);
    let read = await api('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/N1`, { state: 'equivocal' });
    assert.ok(read.lesions.find((l) => l.lesion_id === 'N1').observations.FU1.point, 'a state change keeps the point');
    read = await api('PUT', `/api/reads/${PD}/timepoints/FU1/lesions/N1`, { state: 'unequivocal' });
    read = await api('PUT', `/api/reads/${PD}/timepoints/BL/lesions/NT1`, { point: { sop_instance_uid: at(NT1, 'BL').sop_instance_uid, p: mid(at(NT1, 'BL').long_axis_endpoints_px) } });
    const nt1 = read.lesions.find((l) => l.lesion_id === 'NT1');
    assert.equal(nt1.baseline.sop_instance_uid, at(NT1, 'BL').sop_instance_uid, 'a baseline point sets the baseline slice');
    assert.equal(read.timepoints.find((x) => x.timepoint === 'FU1').nadir_timepoint, 'BL');
    assert.equal(read.timepoints.find((x) => x.timepoint === 'BL').nadir_timepoint, null);
  });

  await t.test('API: assignments', async () => {
    const admin = await apiLogin(stack.url, ADMIN, PASSWORD);
    assert.equal((await api.raw('GET', '/api/assignments')).status, 403);
    assert.equal((await api.raw('PUT', '/api/assignments', { subject_id: PD, readers: [READER] })).status, 403);
    assert.deepEqual((await admin('GET', '/api/assignments')).assignments, []);
    assert.equal((await admin.raw('PUT', '/api/assignments', { subject_id: PD, readers: ['nobody'] })).status, 422);
    assert.equal((await admin.raw('PUT', '/api/assignments', { subject_id: PD, readers: [ADMIN] })).status, 422, 'an admin is no reader');
    assert.equal((await admin.raw('PUT', '/api/assignments', { subject_id: 'CIREL-999-0001', readers: [READER] })).status, 404);
    const all = (await api('GET', '/api/worklist')).subjects.map((s) => s.subject_id);
    assert.equal(all.length, 3, 'before any assignment a reader sees every subject');
    const r = await admin('PUT', '/api/assignments', { subject_id: PD, readers: [READER] });
    assert.deepEqual(r.assignments.map((a) => [a.subject_id, a.reader, a.assigned_by]), [[PD, READER, ADMIN]]);
    const mine = (await api('GET', '/api/worklist')).subjects;
    assert.deepEqual(mine.map((s) => [s.subject_id, s.assigned]), [[PD, true]], 'only the assigned subject');
    const other = await apiLogin(stack.url, OTHER, PASSWORD);
    assert.equal((await other('GET', '/api/worklist')).subjects.length, 3, 'a reader without assignments sees all');
    const adm = (await admin('GET', '/api/worklist')).subjects;
    assert.deepEqual(adm.find((s) => s.subject_id === PD).readers, [READER]);
    assert.deepEqual(adm.find((s) => s.subject_id !== PD).readers, []);
    const audit = spawnSync('sqlite3', [path.join(stack.archive, 'index.sqlite'), "SELECT actor, action, subject_id, before_json, after_json FROM audit_log WHERE action = 'assignment.set'"], { encoding: 'utf8' });
    if (audit.status === 0 && audit.stdout) assert.match(audit.stdout, new RegExp(`${ADMIN}\\|assignment.set\\|${PD}\\|\\{"readers":\\[\\]\\}\\|\\{"readers":\\["${READER}"\\]\\}`));
    recistry(['audit', 'verify', '--archive', stack.archive]);
  });

  // ---- the browser
  const login = async (name) => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(stack.url + '/');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('.worklist');
    return page;
  };

  await t.test('UI: Place, markers, prior picker, navigator', async () => {
    const page = await login(READER);
    const errors = watchPage(page);
    await page.goto(`${stack.url}/#/subject/${PD}/FU1`);
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
    // N1's marker on its slice
    await page.click('#lesion-nav tr[data-lesion="N1"] .nav-go[data-tp="FU1"]');
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, N1.sop_instance_uid);
    await page.waitForFunction(() => window.rcy.view.markerLabels('current').includes('N1'));
    await page.screenshot({ path: artifactPath('reader_places_n1_marker.png') });
    // Place NT1 at FU1 with a click at the truth's centre of NT1 on its FU1 slice
    const fu = at(NT1, 'FU1');
    await page.evaluate(async (sop) => { await window.rcy.viewer.panes.current.jumpToSop(sop); }, fu.sop_instance_uid);
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, fu.sop_instance_uid);
    await page.click('tr[data-lesion="NT1"] button[data-place="NT1"]');
    const xy = await page.evaluate((p) => {
      const pane = window.rcy.viewer.panes.current;
      const plane = window.rcy.core.metaData.get('imagePlaneModule', pane.viewport.getCurrentImageId());
      const w = [0, 1, 2].map((k) => plane.imagePositionPatient[k] + p[0] * plane.columnPixelSpacing * plane.rowCosines[k] + p[1] * plane.rowPixelSpacing * plane.columnCosines[k]);
      const [x, y] = pane.viewport.worldToCanvas(w);
      const r = pane.element.querySelector('canvas').getBoundingClientRect();
      return [r.left + x, r.top + y];
    }, mid(fu.long_axis_endpoints_px));
    await page.mouse.click(xy[0], xy[1]);
    await page.waitForFunction(() => window.rcy.view.markerLabels('current').includes('NT1'));
    const stored = (await api('GET', `/api/reads/${PD}`)).lesions.find((l) => l.lesion_id === 'NT1').observations.FU1;
    assert.equal(stored.state, 'present');
    assert.equal(stored.point.sop_instance_uid, fu.sop_instance_uid);
    const want = midMm(fu.long_axis_endpoints_mm);
    for (let k = 0; k < 2; k++) assert.ok(Math.abs(stored.point.position_mm[k] - want[k]) < 1.5, `clicked ${stored.point.position_mm} ≈ ${want}`);
    await page.screenshot({ path: artifactPath('reader_places_nt1_placed.png') });
    // the left pane's timepoint picker: BL (default) and the nadir (BL here)
    const options = await page.$$eval('#left-tp option', (os) => os.map((o) => [o.value, o.textContent, o.disabled]));
    assert.deepEqual(options.map((o) => o[0]), ['BL', 'nadir']);
    assert.match(options[1][1], /nadir \(BL\)/);
    await page.selectOption('#left-tp', 'nadir');
    // navigator: NT1 at BL scrolls the left pane to NT1's baseline slice and the right one to its FU1 slice
    await page.click('#lesion-nav tr[data-lesion="NT1"] .nav-go[data-tp="BL"]');
    await page.waitForFunction((sop) => document.querySelector('#vp-baseline')?.dataset.sop === sop, at(NT1, 'BL').sop_instance_uid);
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, fu.sop_instance_uid);
    await page.waitForFunction(() => window.rcy.view.markerLabels('baseline').includes('NT1'));
    // T2 at BL: a target's caliper slice in both panes, labelled
    await page.click('#lesion-nav tr[data-lesion="T2"] .nav-go[data-tp="BL"]');
    const T2 = truth.lesions.find((l) => l.lesion_id === 'T2');
    await page.waitForFunction((sop) => document.querySelector('#vp-baseline')?.dataset.sop === sop, at(T2, 'BL').sop_instance_uid);
    await page.waitForFunction((sop) => document.querySelector('#vp-current')?.dataset.sop === sop, at(T2, 'FU1').sop_instance_uid);
    assert.ok((await page.evaluate(() => window.rcy.viewer.storedLabels())).includes('T2'));
    await page.screenshot({ path: artifactPath('reader_places_navigator.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  await t.test('UI: worklist filters, sort, counts; admin assigns', async () => {
    const page = await login(OTHER);
    await page.waitForSelector('#worklist-counts');
    assert.match(await page.textContent('#worklist-counts'), /3 subject\(s\) · timepoints: to read 6 · in progress 0 · signed 0/);
    await page.selectOption('#wl-site', 'S027');
    assert.deepEqual(await page.$$eval('#worklist td.subject', (td) => td.map((x) => x.firstChild.textContent)), [PD]);
    await page.selectOption('#wl-site', '');
    await page.selectOption('#wl-sort', 'latest');
    await page.screenshot({ path: artifactPath('reader_places_worklist.png') });
    await page.close();
    const mine = await login(READER);
    assert.match(await mine.textContent('#worklist-counts'), /1 subject\(s\) · timepoints: to read 0 · in progress 2 · signed 0/);
    assert.equal(await mine.textContent('.assigned-note'), 'assigned to you');
    await mine.close();
    const adm = await login(ADMIN);
    await adm.fill(`.assign-input[data-subject="CIREL-014-0001"]`, `${OTHER}, ${READER}`);
    await adm.click(`.assign-save[data-subject="CIREL-014-0001"]`);
    await adm.waitForFunction(() => document.querySelector('.assign-save[data-subject="CIREL-014-0001"]').nextSibling.textContent.includes('saved'));
    const a = (await (await apiLogin(stack.url, ADMIN, PASSWORD))('GET', '/api/assignments')).assignments;
    assert.deepEqual(a.filter((x) => x.subject_id === 'CIREL-014-0001').map((x) => x.reader), [OTHER, READER]);
    await adm.screenshot({ path: artifactPath('reader_places_admin_assign.png') });
    await adm.close();
  });
  failed = false;
});
