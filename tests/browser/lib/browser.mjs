// Launches Debian's Chromium headless (chromium-headless-shell when installed) through playwright-core with the
// flags this machine needs (no sandbox as root, no GPU, no background network: the machine's closed network
// refuses those connections) and a fresh profile; and small helpers shared by the browser tests (artifact dir, free port, waiting for a URL).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';

const SOURCE = process.env.RCY_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const BUILD = process.env.RCY_BUILD_DIR || path.join(SOURCE, 'build');
export const paths = {
  source: SOURCE,
  build: BUILD,
  web: path.join(SOURCE, 'readers/web'),
  dist: path.join(SOURCE, 'readers/web/dist'),
  artifacts: path.join(BUILD, 'test-artifacts'),
  tmp: process.env.RCY_TEST_TMP || path.join(BUILD, 'test-tmp'),
};

// playwright-core is a devDependency of readers/web (installed by scripts/build-ui.sh with npm ci).
const require = createRequire(path.join(paths.web, 'package.json'));

/** viewport: the window size (default 1600×900); reader_e2e reads at a laptop's 1366×768. */
export async function launchBrowser({ viewport = { width: 1600, height: 900 } } = {}) {
  const { chromium } = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rcy-chromium-'));
  // Debian's chromium-headless-shell (the same Chromium, built without the browser UI: what Playwright itself
  // runs headless) when installed: the same renderer and WebGL on SwiftShader, but its start, each page without
  // images and its idle time cost about half the CPU of the full browser in headless mode.
  const exe = process.env.RCY_CHROMIUM || ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((f) => fs.existsSync(f));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function artifactPath(name) {
  fs.mkdirSync(paths.artifacts, { recursive: true });
  return path.join(paths.artifacts, name);
}

/**
 * Collects page errors, console errors and HTTP responses ≥ 400 (as "STATUS METHOD PATH") so a test can fail on
 * the unexpected ones and print them. The browser's own "Failed to load resource" console line is left out:
 * the response list names the URL.
 */
export function watchPage(page, log) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
    if (log) log(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  return errors;
}
