// Starts the real recistry stack for a browser test: an archive (`recistry init`), the ingest daemon fed by
// DCMTK's storescu, a reader account (`recistry user add`) and `recistry serve`, each on a free loopback port,
// in a private temporary directory. Processes are stopped by their own pid when the test ends.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, paths } from './browser.mjs';

export const RECISTRY = process.env.RECISTRY || path.join(paths.build, 'recistry');

/** Runs `recistry ARGS...` to completion; throws with its stderr on a non-zero exit. */
export function recistry(args, opts = {}) {
  const r = spawnSync(RECISTRY, args, { encoding: 'utf8', timeout: 120000, ...opts });
  if (r.error) throw new Error(`recistry ${args[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`recistry ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 6).join(' ')}… exited ${r.status}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (returned) or the time runs out (throws with what). */
export async function waitFor(what, fn, timeoutMs = 30000, stepMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

/** A long-running recistry process with its output kept in a log file. */
export class Daemon {
  constructor(name, args, dir) {
    this.name = name;
    this.logPath = path.join(dir, `${name}.log`);
    const log = fs.openSync(this.logPath, 'w');
    this.proc = spawn(RECISTRY, args, { stdio: ['ignore', log, log], env: { ...process.env, TCP_NODELAY: '1' } });
    fs.closeSync(log);
    this.exited = null;
    this.proc.on('exit', (code, sig) => { this.exited = { code, sig }; });
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  assertAlive() {
    if (this.exited) throw new Error(`${this.name} exited (${JSON.stringify(this.exited)}):\n${this.log()}`);
  }

  async stop() {
    if (this.exited) return this.exited;
    const done = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const r = await done;
    clearTimeout(t);
    return r;
  }
}

/** Writes the INI config shared by `recistry ingest` and `recistry serve`. */
export function writeConfig(file, { archive, dicomPort, httpPort, sites, webRoot }) {
  const lines = [
    '[archive]', `path = ${archive}`, '',
    '[dicom]', 'ae_title = RCY_CORE', `port = ${dicomPort}`, 'bind = 127.0.0.1', 'max_associations = 4', 'stable_age = 1', '',
    '[policy]', 'phi = reject', '',
    '[http]', 'bind = 127.0.0.1', `port = ${httpPort}`, `web_root = ${webRoot}`, '',
  ];
  for (const s of sites) {
    lines.push(`[site:${s.id}]`, `name = ${s.name || s.id}`, `ae_title = ${s.ae}`, 'hosts = 127.0.0.1');
    if (s.subjectPattern) lines.push(`subject_pattern = ${s.subjectPattern}`);
    lines.push('');
  }
  fs.writeFileSync(file, lines.join('\n'));
}

/** Free TCP port on loopback. */
export { freePort };

/** Sends DICOM files with storescu from the given calling AE. */
export function storescu(port, callingAe, files) {
  const args = ['-aet', callingAe, '-aec', 'RCY_CORE', '127.0.0.1', String(port), ...files];
  run('storescu', args, { env: { ...process.env, TCP_NODELAY: '1' }, timeout: 300000 });
}

/** Waits until an HTTP server answers GET url with any status. */
export async function waitHttp(url, timeoutMs = 20000, daemon = null) {
  return waitFor(`HTTP ${url}`, async () => {
    if (daemon) daemon.assertAlive();
    const r = await fetch(url).catch(() => null);
    return r ? r.status : null;
  }, timeoutMs);
}

/** `recistry serve` on ARCHIVE with the built UI, on a free port; resolves once it listens, with the daemon and
 * its base URL. extra: more INI text for the config (e.g. a [dose] section). */
export async function startServe(dir, archive, extra = '') {
  const config = path.join(dir, 'recistry.ini');
  fs.writeFileSync(config, `[archive]\npath = ${archive}\n\n[http]\nbind = 127.0.0.1\nport = 0\nweb_root = ${paths.dist}\n${extra ? '\n' + extra : ''}`);
  const serve = new Daemon('serve', ['serve', '--config', config], dir);
  const url = await waitFor('recistry serve to listen', () => {
    serve.assertAlive();
    const m = serve.log().match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
    return m && m[1];
  }, 20000);
  return { serve, url };
}

/** Logs NAME in over the API (cookie + CSRF token) for seeding and for reading what is stored. The client
 * (method, path, body) resolves with the parsed JSON body (null when empty) and throws on a 4xx/5xx reply;
 * client.raw resolves with {status, body, headers} instead; client.cookie is the session cookie. */
export async function apiLogin(url, name, password) {
  const r = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password }) });
  if (r.status !== 200) throw new Error(`login ${name}: ${r.status} ${await r.text()}`);
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrf_token: csrf } = await r.json();
  const call = async (method, p, body) => {
    const res = await fetch(url + p, { method, headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const parsed = !text ? null : res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const api = async (method, p, body) => {
    const res = await call(method, p, body);
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  api.raw = call;
  api.cookie = cookie;
  return api;
}
