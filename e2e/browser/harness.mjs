// Browser-test harness: builds the real binary once, starts it on a fresh
// data directory and a free loopback port, and launches Debian's Chromium
// through playwright-core (docs/ARCHITECTURE.md: no browser download works here).
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, devices } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = path.join(repo, 'e2e', 'browser', 'screenshots');
let binary = '';

/** build compiles cmd/minsheng once per test process. */
export function build() {
  if (binary) return binary;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minsheng-bin-'));
  binary = path.join(dir, 'minsheng');
  execFileSync('go', ['build', '-o', binary, './cmd/minsheng'], { cwd: repo, stdio: 'inherit' });
  return binary;
}

/**
 * demoTemplate seeds the demo district once (`minsheng seed --demo`, about
 * a minute) into a directory kept for the binary it was made with; test
 * files copy it instead of seeding again.
 */
export function demoTemplate() {
  // MINSHENG_DEMO_TEMPLATE names a data dir already made by `minsheng seed
  // --demo` (with a "seeded" file in it), reused while iterating on the
  // front ends: every static file is embedded, so each edit reseeds otherwise.
  if (process.env.MINSHENG_DEMO_TEMPLATE) return process.env.MINSHENG_DEMO_TEMPLATE;
  const bin = build();
  const sum = crypto.createHash('sha256').update(fs.readFileSync(bin)).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `minsheng-demo-${sum}`);
  if (fs.existsSync(path.join(dir, 'seeded'))) return dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'minsheng-demo-seeding-'));
  execFileSync(bin, ['seed', '--demo'], { env: { ...process.env, MINSHENG_DATA: tmp }, stdio: 'ignore' });
  fs.writeFileSync(path.join(tmp, 'seeded'), sum);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}

/**
 * startServer runs `minsheng serve` (plus args) on a new data dir — a copy
 * of the demo district with demo: true — and resolves when it listens;
 * stop() kills it and removes the directory.
 */
export async function startServer({ args = [], env = {}, demo = false } = {}) {
  const bin = build();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'minsheng-data-'));
  if (demo) {
    fs.cpSync(demoTemplate(), data, { recursive: true, filter: (src) => !fs.lstatSync(src).isSocket() });
    fs.rmSync(path.join(data, 'seeded'));
    args = ['--demo', ...args];
  }
  const child = spawn(bin, ['serve', ...args], {
    env: {
      ...process.env, MINSHENG_DATA: data, MINSHENG_ADDR: '127.0.0.1:0',
      MINSHENG_ADMIN_PASSWORD: 'admin-browser-test-1', MINSHENG_LOG_LEVEL: 'info', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within 60 s:\n${log.join('\n')}`)), 60000);
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        log.push(line);
        try {
          const rec = JSON.parse(line);
          if (rec.msg === 'listening') {
            clearTimeout(timer);
            resolve(rec.addr);
          }
        } catch {
          /* not JSON: a printed banner */
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log.join('\n')}`)));
  });
  return {
    url: `http://${addr}`,
    data,
    log,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 10000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

/** launch starts headless Chromium with the flags this machine needs. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** phone is a context like a resident's or cadre's phone. */
export function phone(browser) {
  return browser.newContext({ ...devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
}

/** desktop is a context like a finance officer's screen. */
export function desktop(browser) {
  return browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
}

/** shot saves a full-page screenshot under e2e/browser/screenshots/. */
export async function shot(page, name) {
  fs.mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  // Transitions (Element Plus tabs, Vant toasts) are finished first, so a
  // shot shows the state the user sees, not a frame of its animation.
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/** importMap is the apps' import map as the server serves it. */
export async function importMap(base) {
  const res = await fetch(`${base}/lib/importmap.json`);
  if (!res.ok) throw new Error(`importmap.json: HTTP ${res.status}`);
  return res.text();
}

/**
 * testPage serves html at base+path to this page only (the server does not
 * have it), so a check runs on the server's origin with its real files.
 */
export async function testPage(page, base, pathName, html) {
  await page.route(`${base}${pathName}`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}${pathName}`);
  return errors;
}
