// Helpers shared by the cadre app's browser tests (cadre*.test.mjs): the
// demo district's server, the demo cadre of 丰盛社区 on a phone, photos
// made in the page, the sub-district's view of the cases through the API.
import { startServer, launch, phone } from './harness.mjs';

export const COMMUNITY = 'jinrongjie-fengsheng';
export const CADRE = 'jinrongjie-fengsheng'; // the demo cadre of 丰盛社区
export const STAFF = 'jinrongjie'; // the demo sub-district staff of 金融街
export const PASSWORD = 'minsheng-demo';

/**
 * demoCadre starts the server on a copy of the demo district and a
 * browser; errors collects every JavaScript error a page logs.
 */
export async function demoCadre() {
  const env = { errors: [], startedAt: Date.now() };
  env.server = await startServer({ demo: true });
  env.browser = await launch();
  env.staffToken = await signIn(env, STAFF, PASSWORD);
  env.stop = async () => {
    await env.browser?.close();
    await env.server?.stop();
  };
  return env;
}

export async function call(env, method, path, token, body) {
  const res = await fetch(env.server.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function signIn(env, username, password) {
  return (await call(env, 'POST', '/api/v1/auth/login', '', { username, password })).access_token;
}

/** casesTitled lists 丰盛社区's cases with this title, as the sub-district sees them. */
export async function casesTitled(env, title) {
  const res = await call(env, 'GET', `/api/v1/cases?community=${COMMUNITY}&limit=100`, env.staffToken);
  return res.items.filter((c) => c.title === title);
}

/**
 * demoCase finds a seeded case of 丰盛社区 in this state (the sub-district's
 * view) — one the demo made, not one a test of this file filed since.
 */
export async function demoCase(env, status) {
  const res = await call(env, 'GET', `/api/v1/cases?community=${COMMUNITY}&limit=100`, env.staffToken);
  const c = res.items.find((x) => x.status === status && Date.parse(x.filed_at) < env.startedAt);
  if (!c) throw new Error(`the demo district has no ${status} case in ${COMMUNITY}`);
  return call(env, 'GET', `/api/v1/cases/${c.id}`, env.staffToken);
}

/** newPhone is a phone context whose pages report JavaScript errors to env.errors. */
export async function newPhone(env, { blockServiceWorkers = false } = {}) {
  const ctx = blockServiceWorkers
    ? await env.browser.newContext({ ...(await import('playwright-core')).devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'block' })
    : await phone(env.browser);
  ctx.on('page', (page) => {
    page.on('pageerror', (e) => env.errors.push(`${page.url()}: ${e}`));
    page.on('console', (m) => {
      // A request the test cut on purpose logs a network error, and a
      // refused one its status; that is not the app's.
      if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_FAILED/.test(m.text())) env.errors.push(`${page.url()}: ${m.text()}`);
    });
  });
  return ctx;
}

/** photo makes a w×h JPEG in the page (a gradient, so it compresses like a photo). */
export async function photo(page, w, h) {
  const b64 = await page.evaluate(async ([w, h]) => {
    const c = new OffscreenCanvas(w, h);
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, '#8a6d3b');
    grad.addColorStop(1, '#3b5d8a');
    g.fillStyle = grad;
    g.fillRect(0, 0, w, h);
    for (let i = 0; i < 200; i++) {
      g.fillStyle = `hsl(${i * 7} 40% 50%)`;
      g.fillRect((i * 97) % w, (i * 53) % h, 80, 60);
    }
    const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, [w, h]);
  return { name: `IMG_${w}x${h}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') };
}

/** login signs the demo cadre in on /m/ and waits for 我的待办. */
export async function login(env, page, { before } = {}) {
  await page.goto(`${env.server.url}/m/`);
  await page.locator('[data-test=login]').waitFor();
  if (before) await before();
  await page.getByPlaceholder('街道为您开设的账号').fill(CADRE);
  await page.getByPlaceholder('密码', { exact: true }).fill(PASSWORD);
  await page.locator('[data-test=login]').click();
  await page.getByText('我的待办', { exact: true }).first().waitFor();
}

/** controlled waits until the service worker controls the page (the shell works offline). */
export async function controlled(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 }).catch(async () => {
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  });
}

/** fill types a filing on 代居民登记 (area 城市管理) without sending it. */
export async function fill(page, title, { address = '丰盛胡同10号院' } = {}) {
  await page.locator('.van-tabbar-item', { hasText: '代居民登记' }).click();
  await page.locator('[data-test=area]').click();
  await page.locator('.van-action-sheet__item', { hasText: '城市管理' }).click();
  await page.getByPlaceholder('如：10号院旱厕改造').fill(title);
  await page.getByPlaceholder('居民反映的情况').fill('院内旱厕地面不平，需人工清掏，老人如厕不便');
  await page.getByPlaceholder('如：丰盛胡同10号院').fill(address);
  await page.getByPlaceholder('可不填').first().fill('张大爷');
}

/** addPhoto takes a photo on the uploader under sel and waits until it is compressed. */
export async function addPhoto(page, sel, w, h) {
  const before = await page.locator(`${sel} .van-uploader__preview`).count();
  await page.locator(`${sel} input[type=file]`).setInputFiles(await photo(page, w, h));
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(`${sel} .van-uploader__preview`).length > n && !document.querySelector(`${sel} .van-uploader__mask`), [sel, before], { timeout: 30000 });
}

/**
 * waitSynced waits until the badge has said nothing waits for half a
 * second on end (30 s at most). Right after a tap the badge can still read
 * 已同步 for the moment before the new item is queued; a badge that stays
 * 已同步 for 500 ms has seen it queued and sent.
 */
export async function waitSynced(page) {
  await page.evaluate(() => { window.__syncedSince = 0; });
  await page.waitForFunction(() => {
    const synced = /已同步/.test(document.querySelector('[data-test=sync-badge]')?.textContent || '');
    const now = Date.now();
    if (!synced) window.__syncedSince = 0;
    else if (!window.__syncedSince) window.__syncedSince = now;
    return synced && now - window.__syncedSince >= 500;
  }, null, { timeout: 30000, polling: 100 });
}

/** tab opens a tab of the tab bar. */
export async function tab(page, name) {
  await page.locator('.van-tabbar-item', { hasText: name }).last().click();
}

/** idbKeys lists the app's IndexedDB keys starting with prefix. */
export function idbKeys(page, prefix) {
  return page.evaluate((prefix) => new Promise((resolve, reject) => {
    const open = indexedDB.open('minsheng-m');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('kv').objectStore('kv').getAllKeys();
      req.onsuccess = () => {
        resolve(req.result.filter((k) => typeof k === 'string' && k.startsWith(prefix)));
        open.result.close();
      };
      req.onerror = () => reject(req.error);
    };
  }), prefix);
}

/** file taps 登记 and waits for the QR page the app opens next (before any other tap). */
export async function file(page) {
  await page.locator('[data-test=file-submit]').click();
  await page.locator('[data-test=qr-done]').waitFor();
}
