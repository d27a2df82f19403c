// dicomweb-client (the DICOMweb library OHIF uses, from npm) run in Chromium against recistry and Orthanc:
// searchForStudies, searchForSeries, retrieveInstanceMetadata and retrieveInstanceFrames must give the same
// results from both. Called by tests/integration/dicomweb_orthanc.sh with both servers loaded alike.
// Usage: node dicomweb_client_check.mjs RECISTRY_ROOT AUTH ORTHANC_ROOT STUDY SERIES SOP
// AUTH: USER:PASSWORD (HTTP Basic on every request) or session:TOKEN:CSRF (the workstation's cookie, as OHIF
// served from recistry's origin would send it).
// Chromium runs without web security: the page talks to two origins, as OHIF would through one proxy.
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const [rRoot, auth, oRoot, study, series, sop] = process.argv.slice(2);
const web = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../readers/web');
const require = createRequire(path.join(web, 'package.json'));
const { chromium } = require('playwright-core');
const bundle = require.resolve('dicomweb-client/build/dicomweb-client.js');

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rcy-dwc-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.RCY_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-web-security', '--no-first-run', '--disable-background-networking'],
});
let failed = false;
try {
  if (auth.startsWith('session:'))
    await context.addCookies([{ name: 'rcy_session', value: auth.split(':')[1], url: rRoot.replace(/\/dicomweb$/, '/') }]);
  const page = await context.newPage();
  await page.goto(rRoot.replace(/\/dicomweb$/, '/') + 'api/me').catch(() => {});
  await page.addScriptTag({ path: bundle });
  const result = await page.evaluate(async ({ rRoot, auth, oRoot, study, series, sop }) => {
    const { DICOMwebClient } = window.DICOMwebClient.api;
    const mine = new DICOMwebClient({ url: rRoot, headers: auth.startsWith('session:') ? {} : { Authorization: 'Basic ' + btoa(auth) } });
    const ref = new DICOMwebClient({ url: oRoot });
    const uid = (o, tag) => o[tag].Value[0];
    const run = async (c) => {
      const studies = (await c.searchForStudies()).map((s) => uid(s, '0020000D')).sort();
      const byPatient = (await c.searchForStudies({ queryParams: { PatientID: 'CIREL-014-*' } }))
        .map((s) => uid(s, '0020000D')).sort();
      const seriesList = (await c.searchForSeries({ studyInstanceUID: study }))
        .map((s) => [uid(s, '0020000E'), String(uid(s, '00201209'))]).sort();
      const meta = await c.retrieveInstanceMetadata({ studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop });
      const m = meta[0];
      const picked = ['00080016', '00080018', '00100020', '00280010', '00280011', '00280100', '00200013', '00200032']
        .map((t) => JSON.stringify(m[t] && m[t].Value));
      const frames = await c.retrieveInstanceFrames({ studyInstanceUID: study, seriesInstanceUID: series,
        sopInstanceUID: sop, frameNumbers: [1] });
      const bytes = new Uint8Array(frames[0]);
      let sum = 0;
      for (const b of bytes) sum = (sum * 31 + b) >>> 0;
      return { studies, byPatient, seriesList, picked, pixelDataBulk: !!(m['7FE00010'] && m['7FE00010'].BulkDataURI),
        frameBytes: bytes.length, frameHash: sum };
    };
    return { mine: await run(mine), ref: await run(ref) };
  }, { rRoot, auth, oRoot, study, series, sop });
  for (const k of Object.keys(result.ref)) {
    const a = JSON.stringify(result.mine[k]), b = JSON.stringify(result.ref[k]);
    if (a !== b) {
      console.log(`FAIL: dicomweb-client ${k}: recistry ${a} Orthanc ${b}`);
      failed = true;
    }
  }
  if (!failed)
    console.log(`ok - dicomweb-client in Chromium: ${result.mine.studies.length} studies, ${result.mine.byPatient.length} by PatientID wildcard, ` +
      `${result.mine.seriesList.length} series, metadata and a ${result.mine.frameBytes}-byte frame identical from recistry and Orthanc`);
} catch (e) {
  console.log('FAIL: dicomweb-client: ' + (e && e.stack ? e.stack : e));
  failed = true;
} finally {
  await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
