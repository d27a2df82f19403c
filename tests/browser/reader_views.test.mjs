// Issue 10 defects 12, 8, 16 and the registry view, in the browser, on one real stack (the phantom's
// partial-response CT subject, `recistry reads index`, `recistry serve`; reads seeded through the API):
//   12 the response panel: "not yet measured" / "—" at baseline (never NE or 0.0 %), ETS, DpR, time to nadir,
//      progression and hepatic progression as the engine returns them, an unconfirmed PR marked
//   8  the baseline non-target menu offers only "present"; a node measured with Length is refused before
//      anything is sent, and Bidirectional is selected
//   16 QA's worklist shows the status of the reads that exist; QA's read picker lists them
//   R  registry data: QA sees them read-only, an admin changes them with a reason
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const READER = 'reader.views';
const S = 'CIREL-014-0001';

async function startStack(dir) {
  const sample = path.join(dir, 'sample');
  recistry(['sample', '--out', sample, '--subjects', '1', '--timepoints', '2', '--slices', '12', '--seed', '1', '--no-dirty']);
  const truth = JSON.parse(fs.readFileSync(path.join(sample, 'truth', `${S}.json`), 'utf8'));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const files = truth.timepoints.flatMap((tp) =>
    fs.readdirSync(path.join(sample, tp.folder)).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(sample, tp.folder, f)));
  recistry(['reads', 'index', '--archive', archive, ...files]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const [name, role] of [[READER, 'central'], ['qa.views', 'qa'], ['admin.views', 'admin']]) {
    recistry(['user', 'add', '--archive', archive, '--name', name, '--role', role, '--password-file', pw]);
  }
  const { serve, url } = await startServe(dir, archive);
  return { truth, serve, url };
}

const meas = (lesion, tp) => {
  const t = lesion.timepoints.find((x) => x.timepoint === tp);
  return { sop_instance_uid: t.sop_instance_uid, p1: t.long_axis_endpoints_px[0], p2: t.long_axis_endpoints_px[1] };
};

test('response panel, menus, QA statuses, registry (issue 10: 12, 8, 16, R)', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'reader-views-'));
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
  const truth = stack.truth;
  const puts = [];
  const login = async (name) => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(stack.url + '/#/login');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#worklist');
    return page;
  };
  // The reader's cases share the tab the reader logged in with: each opens the subject as a reader does, from
  // the worklist by its address, so the subject screen is built again from what the server has now (the cases
  // change the read through the API in between) without a new renderer and WebGL context each time.
  let readerTab = null;
  const open = async (tp) => {
    const page = readerTab;
    await page.evaluate(() => { window.location.hash = '#/worklist'; });
    await page.waitForSelector('#worklist');
    assert.equal(await page.evaluate(() => window.rcy), undefined, 'the subject screen was torn down');
    await page.evaluate((h) => { window.location.hash = h; }, `#/subject/${S}/${tp}`);
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('#vp-current')?.dataset.sop);
    return page;
  };
  const shot = async (page, name) => {
    const p = artifactPath(`reader_views_${name}.png`);
    await page.screenshot({ path: p });
    console.log(`screenshot: ${p}`);
  };
  const text = async (page, sel) => ((await page.locator(sel).textContent()) || '').trim();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const caseT = (name, fn) => t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
  readerTab = await login(READER);
  watchPage(readerTab);
  readerTab.on('request', (r) => { if (r.method() === 'PUT') puts.push(r.url()); });

  await caseT('12a a baseline with nothing measured says so (no NE, no 0.0 %)', async () => {
    await api('POST', `/api/reads/${S}/lesions`, { lesion_id: 'NT1', kind: 'non_target', organ: 'liver', timepoint: 'BL' });
    const page = await open('BL');
    const panel = await text(page, '#response');
    assert.doesNotMatch(panel, /\bNE\b|0\.0 %/, `panel: ${panel}`);
    assert.match(await text(page, '#resp-sod'), /not yet measured/);
    assert.match(await text(page, '#resp-bor'), /—/);
    await shot(page, '1_baseline_empty');
  });

  await caseT('8a the baseline non-target menu offers only what the server accepts', async () => {
    const page = await open('BL');
    await page.locator('tr[data-lesion="NT1"] .state').click();
    const offered = await page.locator('.state-menu [data-value]').evaluateAll((els) => els.map((e) => e.dataset.value));
    assert.deepEqual(offered, ['present']);
    await page.keyboard.press('Escape');
  });

  await caseT('8b a node measured with Length is refused before anything is sent; Bidirectional is selected', async () => {
    await api('POST', `/api/reads/${S}/lesions`, { lesion_id: 'T9', kind: 'target', organ: 'lymph node', nodal: true, timepoint: 'BL' });
    const page = await open('BL');
    await page.locator('tr[data-lesion="T9"] button.measure').click();
    await page.keyboard.press('l'); // the reader switches to Length
    const box = await page.locator('#vp-current').boundingBox();
    const n = puts.length;
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.52, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => /lymph node/.test(document.querySelector('#message')?.textContent || ''), null, { timeout: 10000 });
    const msg = await text(page, '#message');
    assert.match(msg, /Bidirectional/);
    assert.doesNotMatch(msg, /short_p1/);
    await sleep(500);
    assert.equal(puts.length, n, 'nothing was sent');
    assert.equal(await page.locator('.modal-overlay').count(), 0, 'no reason asked');
    await shot(page, '2_node_length_refused');
    await api('DELETE', `/api/reads/${S}/lesions/T9`);
  });

  await caseT('12b baseline measured: change "—", BOR "—"; FU1: PR unconfirmed, ETS, DpR, nadir, progression', async () => {
    for (const l of truth.lesions.filter((x) => x.role === 'target')) {
      await api('POST', `/api/reads/${S}/lesions`, { lesion_id: l.lesion_id, kind: 'target', organ: l.organ, nodal: l.nodal, timepoint: 'BL' });
      await api('PUT', `/api/reads/${S}/timepoints/BL/lesions/${l.lesion_id}`, { measurement: meas(l, 'BL') });
    }
    let page = await open('BL');
    assert.equal(await text(page, '#resp-chg-bl'), '— (baseline)');
    assert.match(await text(page, '#resp-bor'), /^— /);
    assert.doesNotMatch(await text(page, '#response'), /\bNE\b|0\.0 %/);
    await api('POST', `/api/reads/${S}/timepoints/BL/sign`, { password: PASSWORD });
    for (const l of truth.lesions.filter((x) => x.role === 'target')) {
      await api('PUT', `/api/reads/${S}/timepoints/FU1/lesions/${l.lesion_id}`, { measurement: meas(l, 'FU1') });
    }
    const read = await api('PUT', `/api/reads/${S}/timepoints/FU1/lesions/NT1`, { state: 'present' });
    const eng = read.engine;
    const fu = eng.timepoints.find((x) => x.timepoint === 'FU1');
    assert.equal(fu.overall_response, 'PR', 'the phantom subject is a partial response');
    page = await open('FU1');
    assert.equal(await text(page, '#resp-overall'), 'PR (unconfirmed)');
    assert.match(await text(page, '#resp-bor'), new RegExp(`^${eng.best_overall_response}.*PR not confirmed`));
    const pct = (v) => `${v > 0 ? '+' : ''}${v.toFixed(1)} %`;
    assert.ok(eng.early_tumour_shrinkage, 'engine ETS');
    assert.ok((await text(page, '#resp-ets')).startsWith(`${pct(eng.early_tumour_shrinkage.change_pct)} at FU1`));
    const dpr = eng.depth_of_response;
    assert.equal(await text(page, '#resp-dpr'), `${Math.abs(dpr.pct).toFixed(1)} % ${dpr.pct >= 0 ? 'shrinkage' : 'growth'} at ${dpr.timepoint}`);
    assert.match(await text(page, '#resp-ttn'), new RegExp(`${eng.depth_of_response.time_to_nadir_days} days|—`));
    assert.equal(await text(page, '#resp-progression'), 'none');
    assert.equal(await text(page, '#resp-hepatic'), 'none');
    await shot(page, '3_followup_response');
  });

  await caseT('16 QA: worklist statuses of the existing reads, read picker, registry read-only', async () => {
    await readerTab.close(); // the next logins replace the reader's session cookie
    const page = await login('qa.views');
    const bl = await text(page, `tr[data-subject="${S}"][data-timepoint="BL"] .read-statuses`);
    const fu = await text(page, `tr[data-subject="${S}"][data-timepoint="FU1"] .read-statuses`);
    assert.equal(bl, `central (${READER}): signed`);
    assert.equal(fu, `central (${READER}): in progress`);
    assert.doesNotMatch(await text(page, '#worklist'), /to read/);
    await shot(page, '4_qa_worklist');
    await page.goto(`${stack.url}/#/subject/${S}/FU1`);
    await page.waitForSelector('#pick-read', { timeout: 30000 });
    await page.waitForSelector('tr[data-lesion="T1"]', { timeout: 30000 });
    assert.match(await page.locator('#pick-read option').first().textContent(), new RegExp(`central \\(${READER}\\)`));
    await page.goto(`${stack.url}/#/registry/${S}`);
    await page.waitForSelector('#registry-form');
    assert.ok(await page.locator('#reg-treatment_start').isDisabled(), 'QA cannot edit');
    assert.equal(await page.locator('#reg-save').count(), 0);
    await page.close();
  });

  await caseT('R an admin edits registry data with a reason; the server checks the rules', async () => {
    const page = await login('admin.views');
    await page.locator(`tr[data-subject="${S}"] a.registry-link`).click();
    await page.waitForSelector('#registry-form');
    await page.fill('#reg-treatment_start', '2025-01-10');
    await page.selectOption('#reg-indication', 'salvage');
    await page.selectOption('#reg-liver-only', 'yes');
    await page.fill('#reg-death_date', '2024-12-01');
    await page.click('#reg-save');
    await page.waitForSelector('#registry-message .error');
    assert.match(await text(page, '#registry-message'), /reason is required/);
    await page.fill('#reg-reason', 'CRF page 3 received');
    await page.click('#reg-save');
    await page.waitForFunction(() => /death_date/.test(document.querySelector('#registry-message')?.textContent || ''));
    await page.fill('#reg-death_date', '');
    await page.fill('#reg-last_contact_date', '2025-06-01');
    await page.fill('#reg-reason', 'CRF page 3 received');
    await page.click('#reg-save');
    await page.waitForFunction(() => /Saved/.test(document.querySelector('#registry-message')?.textContent || ''));
    assert.match(await text(page, '#registry-updated'), /admin\.views/);
    await shot(page, '5_admin_registry');
    await page.close();
  });
});
