// The TARE cohort page (#/dose-cohort, issue 14 "in the UI"): a server whose [dose] cohort_dir is a generated
// cohort (`recistry sample --tare-cohort 40`); QA follows "TARE cohort" in the top bar and sees the per-tumour
// AUC and Youden threshold equal to GET /api/dose-response's (and to `recistry dose-response --json`'s: the
// server runs the same code), the four kinds of plot drawn with the server's points (scatter, ROC, Bland–Altman
// per compartment, Kaplan–Meier by dose group), the tables, and the Youden dose groups on request. A central
// reader and a site user have no link and get 403; a server without cohort_dir answers 404 naming the key;
// bad parameters 400. Screenshots at 1366×768 and 1920×1080.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const USERS = [
  { name: 'qa.cohort', role: 'qa' },
  { name: 'reader.cohort', role: 'central' },
  { name: 'site.cohort', role: 'site', site: 'S014' },
];

test('TARE cohort page: the server figures, four plots, refusals', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'dose-cohort-'));
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const u of USERS)
    recistry(['user', 'add', '--archive', archive, '--name', u.name, '--role', u.role, ...(u.site ? ['--site', u.site] : []), '--password-file', pw]);
  const cohort = path.join(dir, 'tare-cohort');
  recistry(['sample', '--tare-cohort', '40', '--out', cohort]);
  const { serve, url } = await startServe(dir, archive, `[dose]\ncohort_dir = ${cohort}\n`);
  // A second server without cohort_dir: the 404 that names the key.
  const bareDir = path.join(dir, 'bare');
  fs.mkdirSync(bareDir);
  const bare = await startServe(bareDir, archive);
  let failed = false;
  // One browser for every case (a launch costs seconds on this machine); the second size by setViewportSize.
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  t.after(async () => {
    await browser.close();
    await serve.stop();
    await bare.serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${serve.logPath})`);
  });
  const caseT = (name, fn) => t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
  const text = async (page, sel) => ((await page.locator(sel).first().textContent()) || '').trim();
  const qaApi = await apiLogin(url, 'qa.cohort', PASSWORD);
  const doc = await qaApi('GET', '/api/dose-response');
  // The CLI on the same tables gives the same document (the server calls the same functions; defaults equal).
  const cli = JSON.parse(recistry(['dose-response', '--cohort', cohort, '--json']));
  assert.deepEqual(doc, cli, 'GET /api/dose-response equals recistry dose-response --json');
  const rocT = doc.dose_response.per_tumour.roc;
  assert.ok(rocT && typeof rocT.auc === 'number' && typeof rocT.youden_threshold_gy === 'number', 'the per-tumour ROC was computed');

  const login = async (context, name) => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(url + '/#/login');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#worklist-counts'); /* the archive has no images: no worklist rows */
    return page;
  };
  /* The drawn elements of a chart's datasets of one rcyKind (or all), with finite pixel positions. */
  const drawn = (page, id, kind) => page.evaluate(([sel, k]) => {
    const c = document.querySelector(sel).rcyChart;
    let n = 0;
    c.data.datasets.forEach((d, i) => {
      if (k && d.rcyKind !== k) return;
      n += c.getDatasetMeta(i).data.filter((e) => Number.isFinite(e.x) && Number.isFinite(e.y)).length;
    });
    return n;
  }, [`#${id}`, kind || null]);

  for (const vp of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
    await caseT(`QA at ${vp.width}x${vp.height}: figures equal the API's, four plots drawn`, async () => {
      const page = await login(browser.context, 'qa.cohort');
      await page.setViewportSize(vp);
      const errors = watchPage(page);
      await page.click('#nav-dose-cohort');
      await page.waitForSelector('#dose-cohort-page');
      assert.equal(await text(page, '#dc-auc'), rocT.auc.toFixed(3));
      assert.equal(await text(page, '#dc-youden'), rocT.youden_threshold_gy.toFixed(1));
      assert.match(await text(page, '#dc-counts'), new RegExp(`^${doc.n_patients} patients, ${doc.n_tumours} tumours`));
      // The table's per-tumour row: the same AUC and threshold, and the logistic b1 and 50 % dose.
      const row = page.locator('#dc-binary tr[data-analysis="per_tumour"]');
      assert.match(await row.locator('[data-key="auc"]').textContent(), new RegExp(`^${rocT.auc.toFixed(3)} `));
      assert.match(await row.locator('[data-key="youden"]').textContent(), new RegExp(`^${rocT.youden_threshold_gy.toFixed(1)} `));
      const lg = doc.dose_response.per_tumour.logistic;
      assert.match(await row.locator('[data-key="b1"]').textContent(), new RegExp(`^${lg.b1.toFixed(4)} `));
      assert.equal(await row.locator('[data-key="dose50"]').textContent(), lg.dose50_gy.toFixed(1));
      for (const c of doc.concordance) {
        assert.match(await page.locator(`#dc-concordance tr[data-compartment="${c.compartment}"] [data-key="ccc"]`).textContent(),
          new RegExp(`^${c.ccc.toFixed(3)} `));
      }
      // The plots: each a canvas with its chart and the server's points drawn.
      await page.waitForFunction(() => document.querySelector('#dc-km')?.rcyChart);
      assert.equal(await drawn(page, 'dc-scatter', 'points'), doc.dose_vs_change.length);
      assert.ok(doc.dose_vs_change.length > 20, 'the scatter has the tumours with a % change');
      const nRoc = doc.dose_response.per_tumour.roc.points.length + doc.dose_response.per_patient.roc.points.length;
      assert.equal(await drawn(page, 'dc-roc', 'roc'), nRoc);
      assert.equal(await drawn(page, 'dc-roc', 'youden'), 2);
      assert.ok(doc.concordance.length >= 2, 'the generated cohort has two compartments');
      for (const c of doc.concordance) {
        const n = await page.evaluate((id) => {
          const ch = document.getElementById(id).rcyChart;
          return ch.getDatasetMeta(0).data.filter((e) => Number.isFinite(e.x) && Number.isFinite(e.y)).length;
        }, `dc-ba-${c.compartment}`);
        assert.equal(n, c.points.length, `Bland–Altman ${c.compartment}`);
      }
      const kmPts = doc.ttp.groups.reduce((s, g) => s + 1 + g.km.points.filter((p) => p.surv !== null).length, 0);
      assert.equal(await drawn(page, 'dc-km', 'curve'), kmPts);
      assert.match(await text(page, '#dc-logrank'), new RegExp(`p ${doc.ttp.logrank.p < 0.001 ? '< 0.001' : doc.ttp.logrank.p.toFixed(3)}`));
      const p1 = artifactPath(`dose_cohort_${vp.width}x${vp.height}_top.png`);
      await page.screenshot({ path: p1 });
      await page.locator('#dc-binary').scrollIntoViewIfNeeded();
      const p2 = artifactPath(`dose_cohort_${vp.width}x${vp.height}_tables.png`);
      await page.screenshot({ path: p2 });
      console.log(`screenshots: ${p1} ${p2}`);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  await caseT('Youden dose groups on request', async () => {
    const y = await qaApi('GET', '/api/dose-response?threshold_gy=youden');
    assert.equal(y.ttp.threshold_source, 'youden');
    assert.equal(y.ttp.threshold_gy, doc.dose_response.per_patient.roc.youden_threshold_gy);
    const page = await login(browser.context, 'qa.cohort');
    await page.goto(`${url}/#/dose-cohort`);
    await page.waitForSelector('#dc-threshold');
    await page.selectOption('#dc-threshold', 'youden');
    await page.waitForFunction(() => window.location.hash === '#/dose-cohort?threshold=youden' && document.querySelector('#dc-km')?.rcyChart);
    const label = `≥ ${y.ttp.threshold_gy.toFixed(0)} Gy`;
    assert.equal(await text(page, '#dc-ttp tr[data-group="above"] th'), label);
    await page.close();
  });

  await caseT('refusals: central reader and site user 403, no cohort 404, bad parameters 400', async () => {
    for (const name of ['reader.cohort', 'site.cohort']) {
      const c = await apiLogin(url, name, PASSWORD);
      const r = await c.raw('GET', '/api/dose-response');
      assert.equal(r.status, 403, name);
      assert.match(r.body.error, /QA and admin/);
    }
    const page = await login(browser.context, 'reader.cohort');
    assert.equal(await page.locator('#nav-dose-cohort').count(), 0, 'a central reader has no TARE cohort link');
    await page.goto(`${url}/#/dose-cohort`); /* the route falls back to the worklist for them */
    await page.waitForSelector('#worklist-counts');
    assert.equal(await page.locator('#dose-cohort-page').count(), 0);
    await page.close();
    const b = await apiLogin(bare.url, 'qa.cohort', PASSWORD);
    const r404 = await b.raw('GET', '/api/dose-response');
    assert.equal(r404.status, 404);
    assert.match(r404.body.error, /cohort_dir/);
    for (const q of ['bootstrap=5001', 'bootstrap=-1', 'seed=x', 'threshold_gy=abc', 'threshold_gy=-5']) {
      assert.equal((await qaApi.raw('GET', `/api/dose-response?${q}`)).status, 400, q);
    }
    // Parameters reach the analysis: no bootstrap, no CIs; a given threshold is used.
    const nb = await qaApi('GET', '/api/dose-response?bootstrap=0&threshold_gy=150&seed=7');
    assert.equal(nb.options.bootstrap, 0);
    assert.equal(nb.options.seed, 7);
    assert.equal(nb.ttp.threshold_gy, 150);
    assert.equal(nb.ttp.threshold_source, 'given');
    assert.equal(nb.dose_response.per_tumour.bootstrap, undefined);
    assert.equal(nb.dose_response.per_tumour.roc.auc, rocT.auc);
  });

  await caseT('the cache follows the tables: a rewritten patients.csv is seen', async () => {
    const before = await qaApi('GET', '/api/dose-response?bootstrap=0');
    const f = path.join(cohort, 'patients.csv');
    const lines = fs.readFileSync(f, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(f, lines.slice(0, -1).join('\n') + '\n'); /* one patient fewer (with its tumours: refused) */
    const tf = path.join(cohort, 'tumours.csv');
    const last = lines[lines.length - 1].split(',')[0];
    const tl = fs.readFileSync(tf, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(tf, tl.filter((l, i) => i === 0 || l.split(',')[0] !== last).join('\n') + '\n');
    for (const c of ['toxicity.csv', 'concordance.csv']) {
      const cf = path.join(cohort, c);
      const cl = fs.readFileSync(cf, 'utf8').trimEnd().split('\n');
      fs.writeFileSync(cf, cl.filter((l, i) => i === 0 || l.split(',')[0] !== last).join('\n') + '\n');
    }
    const after = await qaApi('GET', '/api/dose-response?bootstrap=0');
    assert.equal(after.n_patients, before.n_patients - 1);
  });
});
