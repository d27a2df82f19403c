// The endpoints page (#/endpoints, issue 12) at a laptop's 1366×768, on a generated cohort (scripts/demo-cohort.py:
// tiny DICOM instances indexed with `recistry reads index`, registry, site reads and a central reader's reads):
// QA opens Endpoints from the top bar; the response and survival tables show GET /api/endpoints's figures (which
// equal `recistry endpoints --json`); each Kaplan–Meier curve has one step per event time of the server's curve
// and a censor tick per censoring time; hovering a waterfall bar names the subject, clicking it opens the subject;
// the spider and swimmer are drawn. An empty archive and a one-subject archive give a page without errors. A
// central reader has no Endpoints link and gets 403.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, paths, artifactPath, watchPage } from './lib/browser.mjs';
import { recistry, run, startServe, apiLogin, RECISTRY } from './lib/stack.mjs';

const PASSWORD = 'correct horse battery staple 42';
const N = 150;

function seed(dir, n) {
  const archive = path.join(dir, 'archive');
  recistry(['init', '--archive', archive]);
  const pw = path.join(dir, 'password');
  fs.writeFileSync(pw, PASSWORD + '\n', { mode: 0o600 });
  for (const [name, role] of [['qa.ep', 'qa'], ['c1', 'central']])
    recistry(['user', 'add', '--archive', archive, '--name', name, '--role', role, '--password-file', pw]);
  if (n > 0) {
    const cohort = path.join(dir, 'cohort');
    run('python3', [path.join(paths.source, 'scripts/demo-cohort.py'), cohort, String(n), '5']);
    const dicom = path.join(cohort, 'dicom');
    recistry(['reads', 'index', '--archive', archive, ...fs.readdirSync(dicom).map((f) => path.join(dicom, f))]);
    recistry(['registry', 'import', '--archive', archive, path.join(cohort, 'registry.csv')]);
    recistry(['reads', 'import', '--archive', archive, '--role', 'site', path.join(cohort, 'site.json')]);
    recistry(['reads', 'import', '--archive', archive, '--role', 'central', '--reader', 'c1', path.join(cohort, 'central.json')]);
  }
  return archive;
}

const GROUP_ROW = (reader, g) => `#ep-response-${reader} tr[data-group="${g}"]`;
const fmt = (v, d = 1) => (v === null ? '—' : Number(v).toFixed(d));

test('endpoints page: tables, Kaplan–Meier, waterfall hover and click, spider, swimmer', async (t) => {
  assert.ok(fs.existsSync(RECISTRY), `RECISTRY=${RECISTRY} does not exist (build first)`);
  assert.ok(fs.existsSync(path.join(paths.dist, 'index.html')), 'the UI is not built: scripts/build-ui.sh');
  fs.mkdirSync(paths.tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.tmp, 'endpoints-page-'));
  const archive = seed(dir, N);
  const { serve, url } = await startServe(dir, archive);
  const { context, close } = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  const extra = [];
  let failed = false;
  t.after(async () => {
    await close();
    await serve.stop();
    for (const s of extra) await s.stop();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (serve log: ${serve.logPath})`);
  });
  const shot = async (page, name, opts = {}) => {
    const p = artifactPath(`endpoints_page_${name}.png`);
    await page.screenshot({ path: p, ...opts });
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
  const login = async (base, name) => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(base + '/#/login');
    await page.waitForSelector('#login-form');
    await page.fill('#login-name', name);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    /* an empty archive's worklist has no table: wait for the top bar's log-out and the login form to go */
    await page.waitForFunction(() => !document.querySelector('#login-form') && document.querySelector('#topbar button'));
    return page;
  };
  const qaApi = await apiLogin(url, 'qa.ep', PASSWORD);
  const drawn = (page) => page.waitForFunction(() => ['site', 'central'].every((r) =>
    document.querySelector(`#waterfall-${r}`)?.rcyChart && document.querySelector(`#km-os-${r}`)?.rcyChart &&
    document.querySelector(`#swimmer-${r}`)?.rcyChart && document.querySelector(`#spider-${r}`)?.rcyChart), null, { timeout: 60000 });

  // Cases 2 and 3 look at the page case 1 drew (the charts are read, hovered and clicked, not redrawn): a new
  // login and a second and third drawing of 150 subjects' charts would prove nothing more. After a failure the
  // next case starts from its own login.
  let drawnPage = null;
  const endpointsPage = async () => {
    if (drawnPage) {
      const page = drawnPage;
      drawnPage = null;
      return page;
    }
    const page = await login(url, 'qa.ep');
    await page.goto(`${url}/#/endpoints`);
    await drawn(page);
    return page;
  };

  await caseT('the figures are the server\'s (= the CLI\'s)', async () => {
    const page = await login(url, 'qa.ep');
    const errors = watchPage(page);
    await page.click('#nav-endpoints');
    await page.waitForSelector('#endpoints-page', { timeout: 60000 });
    await drawn(page);
    await shot(page, '1_top');
    for (const reader of ['site', 'central']) {
      const doc = await qaApi('GET', `/api/endpoints?reader=${reader}&by=indication`);
      const cli = JSON.parse(recistry(['endpoints', '--archive', archive, '--reader', reader, '--by', 'indication', '--json']));
      assert.deepEqual(doc, cli, `${reader}: GET /api/endpoints equals recistry endpoints --json`);
      assert.equal(doc.groups[0].n, N);
      assert.ok(doc.groups.length > 2, 'several indications');
      for (const g of doc.groups) {
        const row = GROUP_ROW(reader, g.group);
        assert.equal(await text(page, `${row} td[data-key=n]`), String(g.n));
        for (const k of ['orr', 'dcr']) {
          assert.equal(await text(page, `${row} td[data-key=${k}]`), `${fmt(g[k].pct)} (${fmt(g[k].ci95_pct[0])}–${fmt(g[k].ci95_pct[1])})`);
          assert.equal(await page.locator(`${row} td[data-key=${k}]`).getAttribute('title'), `${g[k].count}/${g[k].n} subjects`);
        }
        for (const k of ['ets20', 'ets30']) assert.equal(await text(page, `${row} [data-key=${k}]`), g[k].pct === null ? '—' : fmt(g[k].pct));
        if (g.dpr.n) assert.equal(await text(page, `${row} td[data-key=dpr]`), `${fmt(g.dpr.median_pct)} (${fmt(g.dpr.q1_pct)}–${fmt(g.dpr.q3_pct)})`);
        for (const key of ['pfs', 'hpfs', 'os']) {
          const krow = `#km-table-${key}-${reader} tr[data-group="${g.group}"]`;
          assert.equal(await text(page, `${krow} td[data-key=events]`), `${g[key].events}/${g[key].n}`);
          const med = await text(page, `${krow} td[data-key=median]`);
          if (g[key].median_days === null) assert.equal(med, 'not reached');
          else assert.ok(med.startsWith(fmt(g[key].median_days / 30.4375)), `${key} ${g.group} median ${med}`);
          for (const l of g[key].landmarks) {
            assert.equal(await text(page, `${krow} td[data-key=surv${l.months}]`), l.surv === null ? '—' : fmt(100 * l.surv));
            if (g.group !== 'all') assert.equal(await text(page, `#km-risk-${key}-${reader} tr[data-group="${g.group}"] td[data-key=risk${l.months}]`), String(l.n_risk));
          }
        }
      }
      for (const key of ['pfs', 'hpfs', 'os']) {
        const lr = doc.logrank[key];
        assert.match(await text(page, `#logrank-${key}-${reader}`), new RegExp(`χ² ${fmt(lr.chisq, 2)}, df ${lr.df}`));
      }
    }
    assert.deepEqual(errors, []);
    drawnPage = page;
  });

  await caseT('Kaplan–Meier: one step per event time, a tick per censoring time', async () => {
    const page = await endpointsPage();
    for (const reader of ['site', 'central']) {
      const doc = await qaApi('GET', `/api/endpoints?reader=${reader}&by=indication`);
      for (const key of ['pfs', 'hpfs', 'os']) {
        const drawnCurves = await page.evaluate((id) => document.querySelector(id).rcyChart.data.datasets.map((d) => ({
          kind: d.rcyKind, label: d.label, stepped: d.stepped, ys: d.data.map((p) => p.y) })), `#km-${key}-${reader}`);
        const curves = drawnCurves.filter((d) => d.kind === 'curve');
        assert.equal(curves.length, doc.groups.length - 1, 'one curve per indication');
        doc.groups.slice(1).forEach((g, i) => {
          const c = curves[i];
          assert.equal(c.stepped, 'before');
          const steps = c.ys.filter((y, j) => j > 0 && y !== c.ys[j - 1]).length;
          const events = g[key].curve.filter((p) => p.n_event > 0 && p.surv !== null).length;
          assert.equal(steps, events, `${reader} ${key} ${g.group}: steps`);
          const ticks = drawnCurves.find((d) => d.kind === 'censor' && d.label === `${c.label} censored`).ys.length;
          assert.equal(ticks, g[key].curve.filter((p) => p.n_censor > 0 && p.surv !== null).length);
        });
      }
    }
    await page.locator('#km-pfs-central').scrollIntoViewIfNeeded();
    await shot(page, '2_km_pfs');
    await page.locator('#km-os-central').scrollIntoViewIfNeeded();
    await shot(page, '3_km_os');
    drawnPage = page;
  });

  await caseT('waterfall: hover names the subject, click opens it; spider and swimmer drawn', async () => {
    const page = await endpointsPage();
    const subj = (await qaApi('GET', '/api/endpoints/subjects?reader=central')).subjects;
    const withValue = subj.filter((s) => s.best_change_pct !== null);
    const canvas = page.locator('#waterfall-central');
    await canvas.scrollIntoViewIfNeeded();
    const bars = await page.evaluate(() => document.querySelector('#waterfall-central').rcyChart.rcyBars.length);
    assert.equal(bars, withValue.length, 'one bar per subject with a value');
    const pt = await page.evaluate(() => {
      const chart = document.querySelector('#waterfall-central').rcyChart;
      const i = Math.floor(chart.rcyBars.length * 0.8); /* a shrinking subject, bar below zero */
      const ds = chart.data.datasets.findIndex((d) => d.rcyKind === 'bars' && d.data[i] !== null);
      const el = chart.getDatasetMeta(ds).data[i];
      return { px: el.x, py: (el.y + el.base) / 2, ...chart.rcyBars[i] };
    });
    const want = withValue.find((s) => s.subject_id === pt.subject);
    assert.ok(want, 'the bar is a server subject');
    assert.equal(pt.value, want.best_change_pct);
    assert.equal(pt.bor, want.best_overall_response);
    await canvas.hover({ position: { x: pt.px, y: pt.py } });
    await page.waitForFunction(() => document.querySelector('#waterfall-central').rcyChart.tooltip.opacity > 0);
    const title = await page.evaluate(() => document.querySelector('#waterfall-central').rcyChart.tooltip.title.join(' '));
    assert.equal(title, pt.subject);
    await shot(page, '4_waterfall_hover');
    const spiderLines = await page.evaluate(() => document.querySelector('#spider-central').rcyChart.data.datasets.filter((d) => d.rcyKind === 'subject').length);
    assert.equal(spiderLines, subj.filter((s) => s.timepoints.slice(1).some((x) => x.change_from_baseline_pct !== null)).length);
    const swimRows = await page.evaluate(() => document.querySelector('#swimmer-central').rcyChart.data.labels.length);
    assert.equal(swimRows, subj.length);
    await page.locator('#spider-central').scrollIntoViewIfNeeded();
    await shot(page, '5_spider');
    await page.locator('#swimmer-central').scrollIntoViewIfNeeded();
    await shot(page, '6_swimmer');
    await canvas.scrollIntoViewIfNeeded();
    const pos = await page.evaluate((s) => {
      const chart = document.querySelector('#waterfall-central').rcyChart;
      const i = chart.rcyBars.findIndex((b) => b.subject === s);
      const ds = chart.data.datasets.findIndex((d) => d.rcyKind === 'bars' && d.data[i] !== null);
      const el = chart.getDatasetMeta(ds).data[i];
      return { x: el.x, y: (el.y + el.base) / 2 };
    }, pt.subject);
    await canvas.click({ position: pos });
    const read = want.read;
    assert.equal(read.role, 'central');
    await page.waitForFunction((h) => window.location.hash === h, `#/subject/${pt.subject}/${pt.timepoint}?role=central&reader=${read.reader}`);
    /* the read the waterfall shows: its change from baseline at that timepoint is the bar's value */
    await page.waitForFunction((v) => (document.querySelector("#resp-chg-bl")?.textContent || "").includes(v), `${want.best_change_pct.toFixed(1)} %`);
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 }); // images shown, before the screenshot
    await shot(page, '9_subject_opened');
    await page.close();
  });

  await caseT('an empty archive and a one-subject archive: no errors', async () => {
    for (const n of [0, 1]) {
      const d = path.join(dir, `n${n}`);
      fs.mkdirSync(d);
      const a = seed(d, n);
      const s = await startServe(d, a);
      extra.push(s.serve);
      const page = await login(s.url, 'qa.ep');
      const errors = watchPage(page);
      await page.goto(`${s.url}/#/endpoints`);
      await page.waitForSelector('#endpoints-page');
      assert.equal(await text(page, `${GROUP_ROW('central', 'all')} td[data-key=n]`), String(n));
      if (n === 1) await page.waitForFunction(() => document.querySelector('#km-os-central')?.rcyChart);
      await shot(page, `7_n${n}`);
      if (n === 1) {
        await page.locator('#waterfall-central').scrollIntoViewIfNeeded().catch(() => {});
        await shot(page, '8_n1_waterfall');
      }
      assert.deepEqual(errors, []);
      await page.close();
    }
  });

  await caseT('a page left while it loads never draws over the next one', async () => {
    // The endpoints' answers are held until the reader has moved on to the worklist; then they arrive. Before
    // route() knew which navigation was the latest, the endpoints page was drawn over the worklist here.
    const page = await login(url, 'qa.ep');
    const errors = watchPage(page);
    let release;
    const held = new Promise((r) => { release = r; });
    const isEndpoints = (u) => new URL(u).pathname.startsWith('/api/endpoints');
    await page.route(isEndpoints, async (r) => { await held; await r.continue(); });
    await page.click('#nav-endpoints');
    await page.waitForSelector('#app p.loading');
    await page.click('#nav-worklist');
    await page.waitForSelector('#app section.worklist');
    const answered = Promise.all(['site', 'central'].flatMap((reader) => [
      `/api/endpoints?reader=${reader}&`, `/api/endpoints/subjects?reader=${reader}`]).map((want) =>
      page.waitForResponse((r) => r.url().includes(want))));
    release();
    await answered;
    // Drawing the endpoints page once its data is in takes well under this on the test machine; a bounded wait
    // is the only way to see that something does NOT happen.
    await page.waitForTimeout(1000);
    assert.equal(await page.locator('#endpoints-page').count(), 0, 'the endpoints page was drawn over the worklist');
    assert.equal(await page.locator('#app section.worklist').count(), 1);
    assert.ok(new URL(page.url()).hash.startsWith('#/worklist'));
    await shot(page, '10_left_while_loading');
    await page.unroute(isEndpoints);
    assert.deepEqual(errors, []);
    await page.close();
  });

  await caseT('a central reader: no Endpoints link, 403', async () => {
    const page = await login(url, 'c1');
    assert.equal(await page.locator('#nav-endpoints').count(), 0);
    const c1 = await apiLogin(url, 'c1', PASSWORD);
    assert.equal((await c1.raw('GET', '/api/endpoints?reader=site')).status, 403);
    assert.equal((await c1.raw('GET', '/api/endpoints/subjects?reader=central')).status, 403);
    await page.close();
  });
});
