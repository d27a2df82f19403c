// The QA page (#/qa, issue 11 "Concordance and reader QC") at a laptop's 1366×768: the committed sample
// subjects read by the site and two central readers (the second differs; one subject triggered), QA logs in,
// opens QA from the top bar, sees site vs final central and switches to R1 vs R2 (figures equal to GET
// /api/concordance), hovers a Bland–Altman point (the tooltip names subject and timepoint), clicks it (the
// subject view opens), and sees the reader QC tables; a central reader has no QA link and gets 403.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, run, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const SAMPLE = path.join(paths.source, 'sample-dicom');

function seed(dir) {
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const bl = fs.readdirSync(SAMPLE).filter((d) => /^S0/.test(d)).flatMap((site) =>
    fs.readdirSync(path.join(SAMPLE, site)).map((subj) => path.join(SAMPLE, site, subj, 'BL'))
      .filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('_0001.dcm')).map((f) => path.join(d, f))));
  recistry(['reads', 'index', '--archive', archive, ...bl]);
  recistry(['registry', 'import', '--archive', archive, path.join(SAMPLE, 'registry.csv')]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const [name, role] of [['qa.page', 'qa'], ['c1', 'central'], ['c2', 'central']])
    recistry(['user', 'add', '--archive', archive, '--name', name, '--role', role, '--password-file', pw]);
  recistry(['adjudication', 'config', '--archive', archive, '--paradigm', 'double', '--reason', 'browser test']);
  recistry(['reads', 'import', '--archive', archive, '--role', 'site', path.join(SAMPLE, 'reads/site.json')]);
  recistry(['reads', 'import', '--archive', archive, '--role', 'central', '--reader', 'c1', path.join(SAMPLE, 'reads/central.json')]);
  const r2 = path.join(dir, 'r2.json');
  run('python3', [path.join(paths.source, 'tests/integration/qa/make_reads.py'), path.join(SAMPLE, 'reads/central.json'), r2]);
  recistry(['reads', 'import', '--archive', archive, '--role', 'central', '--reader', 'c2', r2]);
  return archive;
}

test('QA page: concordance pairs, Bland–Altman hover and click, reader QC', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'qa-page-'));
  const archive = seed(dir);
  const { serve, url } = await startServe(dir, archive);
  const { context, close } = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  let failed = false;
  t.after(async () => {
    await close();
    await serve.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${serve.logPath})`);
  });
  const shot = async (page, name) => {
    const p = artifactPath(`qa_page_${name}.png`);
    await page.screenshot({ path: p });
    console.log(`screenshot: ${p}`);
  };
  const text = async (page, sel) => ((await page.locator(sel).textContent()) || '').trim();
  const caseT = (name, fn) => t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
  const login = async (name) => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(url + '/#/login');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#worklist');
    return page;
  };
  const qaApi = await apiLogin(url, 'qa.page', PASSWORD);

  await caseT('site vs final central, then R1 vs R2, with the server figures', async () => {
    const page = await login('qa.page');
    const errors = watchPage(page);
    await page.click('#nav-qa');
    await page.waitForSelector('#qa-page');
    const sc = await qaApi('GET', '/api/concordance?pair=site:central');
    assert.match(await text(page, '#qa-counts'), new RegExp(`^${sc.subjects} paired subject`));
    assert.match(await text(page, '#qa-bor'), new RegExp(`n ${sc.best_overall_response_agreement.n}`));
    assert.ok(await page.locator('#qa-bor td.diag').count() > 0, 'BOR matrix has a shaded diagonal');
    await page.waitForFunction(() => document.querySelector('#ba-sum_mm')?.rcyChart);
    await shot(page, '1_site_central');

    await page.selectOption('#qa-pair', 'r1:r2');
    await page.waitForFunction(() => window.location.hash === '#/qa/r1:r2' && document.querySelector('#qa-discordant'));
    const rr = await qaApi('GET', '/api/concordance?pair=r1:r2');
    assert.match(await text(page, '#qa-counts'), new RegExp(`^${rr.subjects} paired subject`));
    const rows = page.locator('#qa-discordant tbody tr');
    assert.equal(await rows.count(), rr.discordant.length);
    assert.equal(await rows.first().getAttribute('data-subject'), rr.discordant[0].subject_id);
    assert.equal(await rows.first().locator('a.adjudicate-link').getAttribute('href'), `#/adjudicate/${rr.discordant[0].subject_id}`);
    assert.match(await text(page, '#qa-discordant'), /BOR differs/);
    await page.waitForFunction(() => document.querySelector('#ba-sum_mm')?.rcyChart);
    await shot(page, '2_r1_r2');
    assert.deepEqual(errors, []);
    await page.close();
  });

  await caseT('Bland–Altman: hover names subject and timepoint, click opens the subject', async () => {
    const page = await login('qa.page');
    await page.goto(`${url}/#/qa/r1:r2`);
    await page.waitForFunction(() => document.querySelector('#ba-sum_mm')?.rcyChart);
    await page.locator('#ba-sum_mm').scrollIntoViewIfNeeded();
    const rr = await qaApi('GET', '/api/concordance?pair=r1:r2');
    const pt = await page.evaluate(() => {
      const c = document.querySelector('#ba-sum_mm');
      const chart = c.rcyChart;
      const i = chart.data.datasets[0].data.findIndex((p) => p.timepoint !== 'BL');
      const el = chart.getDatasetMeta(0).data[i];
      return { px: el.x, py: el.y, ...chart.data.datasets[0].data[i] };
    });
    const want = rr.bland_altman_sum_mm.points.find((p) => p.subject_id === pt.subject && p.timepoint === pt.timepoint);
    assert.ok(want, 'the plotted point is one of the server points');
    assert.equal(pt.y, want.diff);
    const canvas = page.locator('#ba-sum_mm');
    await canvas.hover({ position: { x: pt.px, y: pt.py } });
    await page.waitForFunction(() => document.querySelector('#ba-sum_mm').rcyChart.tooltip.opacity > 0);
    const title = await page.evaluate(() => document.querySelector('#ba-sum_mm').rcyChart.tooltip.title.join(' '));
    assert.equal(title, `${pt.subject} · ${pt.timepoint}`);
    await shot(page, '3_hover');
    await canvas.click({ position: { x: pt.px, y: pt.py } });
    await page.waitForFunction((h) => window.location.hash === h, `#/subject/${pt.subject}/${pt.timepoint}`);
    await page.close();
  });

  await caseT('reader QC tables show the server figures', async () => {
    const page = await login('qa.page');
    await page.goto(`${url}/#/qa`);
    await page.waitForSelector('#qa-reader-qc');
    const qc = await qaApi('GET', '/api/reader-qc');
    await page.locator('#qa-reader-qc').scrollIntoViewIfNeeded();
    const adj = await text(page, '#qc-adjudication');
    const o = qc.adjudication.overall;
    assert.match(adj, new RegExp(`all subjects${o.triggered}/${o.complete}${(100 * o.rate).toFixed(1)} %`));
    const lv = qc.lesion_variability.overall;
    assert.match(await text(page, '#qc-lesions'), new RegExp(`${lv.mean_difference_mm.toFixed(2).replace('-', '\\-')} mm`));
    await shot(page, '4_reader_qc');
    await page.close();
  });

  await caseT('a central reader: no QA link, 403 on the figures', async () => {
    const page = await login('c1');
    assert.equal(await page.locator('#nav-qa').count(), 0);
    const c1 = await apiLogin(url, 'c1', PASSWORD);
    assert.equal((await c1.raw('GET', '/api/concordance?pair=r1:r2')).status, 403);
    assert.equal((await c1.raw('GET', '/api/reader-qc')).status, 403);
    await page.goto(`${url}/#/qa`);
    await page.waitForSelector('#app .error');
    assert.match(await text(page, '#app .error'), /QA and admin/);
    await page.close();
  });
});
