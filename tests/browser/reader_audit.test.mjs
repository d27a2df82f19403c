// The audit-log viewer in the browser (issue 11), on one real stack (two phantom subjects, `recistry reads index`,
// `recistry serve`; changes made through the API by a central reader and an admin): QA reaches the page from the
// top bar and from a subject's worklist row, filters by subject and action, expands a row to see the fields that
// changed (old → new) and the reason, pages with "load older"; a central reader has no way in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const READER = 'reader.audit';

async function startStack(dir) {
  const sample = path.join(dir, 'sample');
  recistry(['sample', '--out', sample, '--subjects', '2', '--timepoints', '2', '--slices', '8', '--seed', '3', '--no-dirty']);
  const truths = fs.readdirSync(path.join(sample, 'truth')).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(sample, 'truth', f), 'utf8')));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = truths.flatMap((truth) => truth.timepoints.flatMap((tp) =>
    fs.readdirSync(path.join(sample, tp.folder)).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(sample, tp.folder, f))));
  recistry(['reads', 'index', '--archive', archive, ...files]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const [name, role] of [[READER, 'central'], ['qa.audit', 'qa'], ['admin.audit', 'admin']])
    recistry(['user', 'add', '--archive', archive, '--name', name, '--role', role, '--password-file', pw]);
  const { serve, url } = await startServe(dir, archive);
  return { truths, serve, url };
}

const meas = (lesion, tp, dx = 0) => {
  const t = lesion.timepoints.find((x) => x.timepoint === tp);
  const [p1, p2] = t.long_axis_endpoints_px;
  return { sop_instance_uid: t.sop_instance_uid, p1, p2: [p2[0] + dx, p2[1]] };
};

test('audit-log viewer: filters, before/after, load older, QA only', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'reader-audit-'));
  const stack = await startStack(dir);
  const { context, close } = await launchBrowser();
  let failed = false;
  t.after(async () => {
    await close();
    await stack.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${stack.serve.logPath})`);
  });
  const [A, B] = stack.truths;
  const S = A.subject_id;
  const O = B.subject_id;
  const target = (truth) => truth.lesions.find((l) => l.role === 'target' && !l.nodal);

  // The log: on S a target added, measured, BL signed, re-measured with a reason; on O a target added; S's readers.
  const api = await apiLogin(stack.url, READER, PASSWORD);
  const admin = await apiLogin(stack.url, 'admin.audit', PASSWORD);
  const tl = target(A);
  await api('POST', `/api/reads/${S}/lesions`, { lesion_id: 'T1', kind: 'target', organ: tl.organ || 'liver', timepoint: 'BL' });
  await api('PUT', `/api/reads/${S}/timepoints/BL/lesions/T1`, { measurement: meas(tl, 'BL') });
  await api('POST', `/api/reads/${S}/timepoints/BL/sign`, { password: PASSWORD });
  const remeasured = await api('PUT', `/api/reads/${S}/timepoints/BL/lesions/T1`,
    { measurement: meas(tl, 'BL', -6), reason: 'caliper moved to the lesion edge' });
  const after = remeasured.lesions.find((l) => l.lesion_id === 'T1').observations.BL.diameter_mm;
  await api('POST', `/api/reads/${O}/lesions`, { lesion_id: 'T1', kind: 'target', organ: 'liver', timepoint: 'BL' });
  await admin('PUT', '/api/assignments', { subject_id: S, readers: [READER] });

  const login = async (name) => {
    await context.clearCookies();
    const page = await context.newPage();
    const errors = watchPage(page);
    await page.goto(stack.url + '/#/login');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#worklist');
    return { page, errors };
  };
  const shot = async (page, name) => {
    const p = artifactPath(`reader_audit_${name}.png`);
    await page.screenshot({ path: p, fullPage: true });
    console.log(`screenshot: ${p}`);
  };
  const seqs = (page) => page.locator('#audit-table tr.audit-row').evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq)));
  const caseT = (name, fn) => t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  await caseT('a central reader has no audit link and no audit page', async () => {
    const { page } = await login(READER);
    assert.equal(await page.locator('#nav-audit').count(), 0);
    assert.equal(await page.locator('a.audit-link').count(), 0);
    await page.goto(stack.url + '/#/audit');
    await page.waitForSelector('#worklist');
    assert.equal(await page.locator('#audit-table').count(), 0);
    const r = await page.evaluate(async () => (await fetch('/api/audit')).status);
    assert.equal(r, 403);
    await page.close();
  });

  await caseT('QA: the whole log from the top bar, newest first', async () => {
    const { page, errors } = await login('qa.audit');
    await page.click('#nav-audit');
    await page.waitForSelector('#audit-table');
    assert.deepEqual(await seqs(page), [6, 5, 4, 3, 2, 1]);
    const first = page.locator('#audit-table tr.audit-row').first();
    assert.match(await first.textContent(), /admin\.audit.*assignment\.set/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  await caseT("QA: a subject's audit log from its worklist row; filter by action; expand a row", async () => {
    const { page, errors } = await login('qa.audit');
    await shot(page, '0_worklist_links');
    await page.locator(`tr[data-subject="${S}"] a.audit-link`).click();
    await page.waitForSelector('#audit-table');
    assert.equal(new URL(page.url()).hash, `#/audit?subject=${S}`);
    assert.equal(await page.inputValue('#audit-subject'), S);
    assert.deepEqual(await seqs(page), [6, 4, 3, 2, 1]);
    const subjects = await page.locator('#audit-table tr.audit-row td:nth-child(4)').allTextContents();
    assert.ok(subjects.every((s) => s === S), `subjects: ${subjects}`);
    const menu = await page.locator('#audit-action option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(menu, ['', 'assignment.set', 'lesion.add', 'observation.set', 'timepoint.sign']);
    await page.selectOption('#audit-action', 'observation.set');
    await page.waitForFunction(() => decodeURIComponent(location.hash).includes('action=observation.set'));
    await page.waitForSelector('#audit-table');
    assert.deepEqual(await seqs(page), [4, 2]);
    const row = page.locator('#audit-table tr.audit-row[data-seq="4"]');
    assert.match(await row.locator('td.reason').textContent(), /caliper moved to the lesion edge/);
    await row.locator('button.audit-toggle').click();
    const detail = page.locator('#audit-table tr.audit-detail[data-seq="4"]');
    await detail.waitFor();
    const changed = await detail.locator('.audit-changes tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
    const diam = changed.find((c) => c[0] === 'diameter_mm');
    assert.ok(diam, `changed fields: ${JSON.stringify(changed)}`);
    assert.equal(diam[3], String(Number(after.toFixed(2))));
    assert.notEqual(diam[1], diam[3]);
    assert.ok(changed.some((c) => c[0] === 'measurement › p2'), `p2 moved: ${JSON.stringify(changed)}`);
    assert.ok(!changed.some((c) => c[0] === 'measurement › p1'), 'p1 did not move');
    assert.match(await detail.locator('.audit-meta').textContent(), /reason: caliper moved to the lesion edge/);
    await shot(page, '1_subject_expanded');
    await row.locator('button.audit-toggle').click();
    assert.equal(await detail.count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });

  await caseT('QA: load older pages; a bad date says which parameter', async () => {
    const { page, errors } = await login('qa.audit');
    await page.goto(`${stack.url}/#/audit?limit=4`);
    await page.waitForSelector('#audit-table');
    assert.deepEqual(await seqs(page), [6, 5, 4, 3]);
    await page.click('#audit-more');
    await page.waitForFunction(() => document.querySelectorAll('#audit-table tr.audit-row').length === 6);
    assert.deepEqual(await seqs(page), [6, 5, 4, 3, 2, 1]);
    assert.equal(await page.locator('#audit-more').isVisible(), false);
    await shot(page, '2_all_loaded');
    await page.goto(`${stack.url}/#/audit?from=2025-02-30`);
    await page.waitForSelector('#audit-error:not(:empty)');
    assert.match(await page.locator('#audit-error').textContent(), /^from: /);
    assert.deepEqual(errors.filter((e) => !/^400 GET \/api\/audit/.test(e)), []);
    await page.close();
  });
});
