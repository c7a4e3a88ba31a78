// The cadre app (/m/) in headless Chromium on a phone, against the real
// server: filing offline with a photo and reopening the app offline from
// the service worker; a filing whose answers are lost after the server
// acted; assess → start → complete → 满意 with each step once in the
// timeline; a 4000×3000 photo stored at ≤ 2000 px; no JavaScript errors;
// a screenshot of every screen (e2e/browser/screenshots/cadre-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, phone, shot } from './harness.mjs';

const COMMUNITY = 'jinrongjie-fengsheng';
let server;
let browser;
const errors = [];
const staff = {};

async function call(method, path, token, body) {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function signIn(username, password) {
  return (await call('POST', '/api/v1/auth/login', '', { username, password })).access_token;
}

/** casesTitled lists the community's cases with this title, as the sub-district sees them. */
async function casesTitled(title) {
  const res = await call('GET', `/api/v1/cases?community=${COMMUNITY}&limit=100`, staff.token);
  return res.items.filter((c) => c.title === title);
}

async function newPhone({ blockServiceWorkers = false } = {}) {
  const ctx = await phone(browser);
  if (blockServiceWorkers) {
    await ctx.close();
    const c = await browser.newContext({ ...(await import('playwright-core')).devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'block' });
    return watch(c);
  }
  return watch(ctx);
}

function watch(ctx) {
  ctx.on('page', (page) => {
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e}`));
    page.on('console', (m) => {
      // A request the test cut on purpose logs a network error; that is not the app's.
      if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_FAILED/.test(m.text())) errors.push(`${page.url()}: ${m.text()}`);
    });
  });
  return ctx;
}

/** photo makes a w×h JPEG in the page (a gradient, so it compresses like a photo). */
async function photo(page, w, h) {
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

async function login(page, username, screenshot = '') {
  await page.goto(`${server.url}/m/`);
  if (screenshot) {
    await page.locator('[data-test=login]').waitFor();
    await shot(page, screenshot);
  }
  await page.getByPlaceholder('街道为您开设的账号').fill(username);
  await page.getByPlaceholder('密码', { exact: true }).fill(`${username}-password`);
  await page.locator('[data-test=login]').click();
  await page.getByText('我的待办', { exact: true }).first().waitFor();
}

async function fill(page, title) {
  await page.locator('.van-tabbar-item', { hasText: '代居民登记' }).click();
  await page.locator('[data-test=area]').click();
  await page.locator('.van-action-sheet__item', { hasText: '城市管理' }).click();
  await page.getByPlaceholder('如：10号院旱厕改造').fill(title);
  await page.getByPlaceholder('居民反映的情况').fill('院内旱厕地面不平，需人工清掏，老人如厕不便');
  await page.getByPlaceholder('如：丰盛胡同10号院').fill('丰盛胡同10号院');
  await page.getByPlaceholder('可不填').first().fill('张大爷');
}

/** waitSynced waits until the badge says nothing waits. */
async function waitSynced(page) {
  await page.waitForFunction(() => /已同步/.test(document.querySelector('[data-test=sync-badge]')?.textContent || ''), null, { timeout: 30000 });
}

before(async () => {
  server = await startServer();
  browser = await launch();
  const admin = await signIn('admin', 'admin-browser-test-1');
  await call('POST', '/api/v1/users', admin, { username: 'wangfang', password: 'wangfang-password', name: '王芳', role: 'cadre', scope: COMMUNITY });
  await call('POST', '/api/v1/users', admin, { username: 'zhoujie', password: 'zhoujie-password', name: '周洁', role: 'subdistrict', scope: 'jinrongjie' });
  staff.token = await signIn('zhoujie', 'zhoujie-password');
  const cadre = await call('GET', '/api/v1/me', await signIn('wangfang', 'wangfang-password'));
  staff.cadreId = cadre.id;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a case filed offline with a 4000×3000 photo survives an offline reload and reaches the server once', async () => {
  const ctx = await newPhone();
  const page = await ctx.newPage();
  await login(page, 'wangfang', 'cadre-00-login');
  await shot(page, 'cadre-01-todo-empty');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 }).catch(async () => {
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  });

  await ctx.setOffline(true);
  await fill(page, '丰盛胡同10号院旱厕改造');
  await page.locator('[data-test=photos] input[type=file]').setInputFiles(await photo(page, 4000, 3000));
  await page.locator('.van-uploader__preview').waitFor();
  await page.waitForFunction(() => !document.querySelector('.van-uploader__mask'), null, { timeout: 20000 });
  await page.getByText(/草稿已保存/).waitFor();
  await shot(page, 'cadre-02-file');
  await page.locator('[data-test=file-submit]').click();
  await page.getByText('已保存到本机，联网发送成功后显示二维码').waitFor();
  await shot(page, 'cadre-03-qr-pending');

  await page.reload(); // offline: the shell must come from the service worker
  await page.locator('[data-test=sync-badge]', { hasText: '2 条待发送' }).first().waitFor();
  await page.locator('.van-tabbar-item', { hasText: '我的待办' }).click();
  await page.getByText('丰盛胡同10号院旱厕改造').waitFor();
  await shot(page, 'cadre-04-todo-offline');
  await page.locator('.van-tabbar-item', { hasText: '我的' }).last().click();
  await page.locator('[data-test=outbox-item]').first().waitFor();
  await shot(page, 'cadre-05-me-outbox');

  await ctx.setOffline(false); // the online event sends the outbox
  await waitSynced(page);
  const found = await casesTitled('丰盛胡同10号院旱厕改造');
  assert.equal(found.length, 1, 'exactly one case');
  const full = await call('GET', `/api/v1/cases/${found[0].id}`, staff.token);
  assert.equal(full.photos.length, 1, 'exactly one photo');
  assert.ok(Math.max(full.photos[0].width, full.photos[0].height) <= 2000, `stored ${full.photos[0].width}×${full.photos[0].height}, want ≤ 2000 px`);
  assert.ok(Math.max(full.photos[0].width, full.photos[0].height) >= 1900, 'compressed to about 2000 px, not much smaller');
  staff.caseId = found[0].id;

  await page.goto(`${server.url}/m/case/${found[0].id}/qr`);
  await page.locator('[data-test=qr] svg').waitFor();
  await shot(page, 'cadre-06-qr');
  await ctx.close();
});

test('answers lost after the server acted: still one case, one photo', async () => {
  const ctx = await newPhone({ blockServiceWorkers: true });
  const cut = { PUT: 0 };
  await ctx.route('**/mobile/v1/cases/**', async (route) => {
    const req = route.request();
    if (req.method() === 'PUT' && cut.PUT < 2) {
      cut.PUT++;
      await route.fetch(); // the server files it …
      await route.abort('failed'); // … and the phone never hears back
      return;
    }
    await route.continue();
  });
  const page = await ctx.newPage();
  await login(page, 'wangfang');
  await fill(page, '砖塔胡同停车自治');
  await page.locator('[data-test=photos] input[type=file]').setInputFiles(await photo(page, 1200, 900));
  await page.waitForFunction(() => document.querySelector('.van-uploader__preview') && !document.querySelector('.van-uploader__mask'), null, { timeout: 20000 });
  await page.locator('[data-test=file-submit]').click();
  await page.locator('.van-tabbar-item', { hasText: '我的' }).last().click();
  await page.locator('[data-test=outbox-item]').first().waitFor();
  await page.getByText(/稍后重试：网络连接失败/).first().waitFor();
  await page.locator('[data-test=sync-now]').click(); // the case: answered from the first filing
  await page.getByText(/稍后重试：网络连接失败/).first().waitFor(); // the photo's answer is lost too
  await page.locator('[data-test=sync-now]').click();
  await waitSynced(page);
  assert.equal(cut.PUT, 2, 'the case and the photo each lost one answer');
  const found = await casesTitled('砖塔胡同停车自治');
  assert.equal(found.length, 1, 'exactly one case');
  const full = await call('GET', `/api/v1/cases/${found[0].id}`, staff.token);
  assert.equal(full.photos.length, 1, 'exactly one photo');

  // A wrongly taken photo is deleted before completion.
  await page.goto(`${server.url}/m/case/${found[0].id}`);
  await page.locator('.photo-del').first().click();
  await shot(page, 'cadre-17-delete-photo');
  await page.locator('.van-dialog__confirm').click();
  await waitSynced(page);
  const after = await call('GET', `/api/v1/cases/${found[0].id}`, staff.token);
  assert.equal(after.photos.length, 0, 'the photo is gone');
  await ctx.close();
});

test('assess, start, complete with an after-photo, 满意: each step once in the timeline', async () => {
  let c = await call('GET', `/api/v1/cases/${staff.caseId}`, staff.token);
  c = await call('POST', `/api/v1/cases/${c.id}/accept`, staff.token, { version: c.version });
  c = await call('POST', `/api/v1/cases/${c.id}/assign`, staff.token, { version: c.version, cadre_id: staff.cadreId });

  const ctx = await newPhone();
  const page = await ctx.newPage();
  await login(page, 'wangfang');
  await waitSynced(page);
  await shot(page, 'cadre-07-todo');
  await page.locator('[data-test=case-row]', { hasText: '丰盛胡同10号院旱厕改造' }).click();
  await page.locator('[data-test=act-assess]').waitFor();
  await shot(page, 'cadre-08-case');

  await page.locator('[data-test=act-assess]').click();
  await page.getByPlaceholder('0.00').fill('12000.50');
  await page.getByText('1200050 分').waitFor();
  await shot(page, 'cadre-09-assess');
  await page.locator('[data-test=assess-submit]').click();
  await waitSynced(page);

  await page.locator('[data-test=act-start]').click();
  await shot(page, 'cadre-10-start');
  await page.locator('[data-test=work-submit]').click();
  await waitSynced(page);

  await page.locator('[data-test=act-complete]').click();
  await page.getByPlaceholder('0.00').fill('11800');
  await page.locator('[data-test=work-photos] input[type=file]').setInputFiles(await photo(page, 1600, 1200));
  await page.waitForFunction(() => document.querySelector('.van-uploader__preview') && !document.querySelector('.van-uploader__mask'), null, { timeout: 20000 });
  await shot(page, 'cadre-11-complete');
  await page.locator('[data-test=work-submit]').click();
  await waitSynced(page);

  await page.locator('[data-test=act-verdict]').click();
  await page.locator('[data-test=verdict-satisfied]').click();
  await shot(page, 'cadre-12-verdict');
  await page.locator('[data-test=verdict-submit]').click();
  await waitSynced(page);
  await page.getByText('已关闭').first().waitFor();
  await shot(page, 'cadre-13-closed');

  const full = await call('GET', `/api/v1/cases/${staff.caseId}`, staff.token);
  assert.equal(full.status, 'closed');
  for (const a of ['assess', 'start', 'complete', 'verdict']) {
    assert.equal(full.timeline.filter((e) => e.action === a).length, 1, `one ${a} in the timeline`);
  }
  assert.equal(full.actual_cost_fen, 1180000);
  assert.equal(full.assessment.estimate_fen, 1200050);
  assert.equal(full.photos.filter((p) => p.tag === 'after').length, 1, 'one after-photo');

  await page.locator('.van-tabbar-item', { hasText: '通知' }).click();
  await page.locator('[data-test=notice]').first().waitFor();
  await shot(page, 'cadre-14-notices');
  await page.locator('.van-tabbar-item', { hasText: '我的' }).last().click();
  await shot(page, 'cadre-15-me');
  await ctx.close();
});

test('signing out with items waiting warns 本机待发送 N 条', async () => {
  const ctx = await newPhone();
  const page = await ctx.newPage();
  await login(page, 'wangfang');
  await waitSynced(page);
  await ctx.setOffline(true);
  await fill(page, '大院胡同路灯不亮');
  await page.locator('[data-test=photos] input[type=file]').setInputFiles(await photo(page, 800, 600));
  await page.waitForFunction(() => document.querySelector('.van-uploader__preview') && !document.querySelector('.van-uploader__mask'), null, { timeout: 20000 });
  await page.waitForTimeout(800); // the autosave's debounce
  await page.reload(); // the draft, its photo included, survives closing the app
  await page.locator('.van-tabbar-item', { hasText: '代居民登记' }).click();
  await page.locator('.van-uploader__preview').waitFor();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '大院胡同路灯不亮');
  assert.equal(await page.locator('.van-uploader__preview').count(), 1);
  await page.locator('[data-test=file-submit]').click();
  await page.locator('.van-tabbar-item', { hasText: '我的' }).last().click();
  await page.locator('[data-test=logout]').click();
  await page.getByText('本机待发送 2 条').waitFor();
  await shot(page, 'cadre-16-logout-warning');
  await page.getByText('先同步').click();
  await ctx.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(errors, []);
});
