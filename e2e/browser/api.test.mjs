// The shared API client (static/lib/api.js) against the real server in a
// real browser: sign-in, the error shape, one refresh for many requests
// that find their token expired (the server revokes a refresh family
// reused twice, so a second refresh would sign the user out), the same
// Idempotency-Key on the retry after a refresh, and offline errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, phone, importMap, testPage } from './harness.mjs';

let server;
let browser;
let ctx;
let page;
before(async () => {
  server = await startServer();
  browser = await launch();
  ctx = await phone(browser);
  page = await ctx.newPage();
  const map = await importMap(server.url);
  const html = `<!doctype html><meta charset="utf-8"><script type="importmap">${map}</script>
<script type="module">import * as api from 'minsheng/api'; window.api = api; window.client = api.createClient();</script>`;
  const errors = await testPage(page, server.url, '/__check/api.html', html);
  await page.waitForFunction(() => window.client);
  assert.deepEqual(errors, []);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a wrong password is an ApiError in the server shape', async () => {
  const e = await page.evaluate(async () => {
    try {
      await client.login('admin', 'wrong-password');
      return null;
    } catch (err) {
      return { name: err.name, status: err.status, code: err.code, message: err.message, rid: err.requestId, retryable: err.retryable };
    }
  });
  assert.equal(e.name, 'ApiError');
  assert.equal(e.status, 401);
  assert.equal(e.code, 'unauthorized');
  assert.match(e.message, /[\u4e00-\u9fff]/, 'the message is Chinese');
  assert.ok(e.rid, 'the request id is kept for support');
  assert.equal(e.retryable, false);
});

test('sign-in stores the session and authenticates requests', async () => {
  const me = await page.evaluate(async () => {
    await client.login('admin', 'admin-browser-test-1');
    return client.get('/api/v1/me');
  });
  assert.equal(me.role, 'admin');
  assert.ok(await page.evaluate(() => JSON.parse(localStorage.getItem('minsheng.session')).refresh_token));
});

test('six requests with an expired token share one refresh, and writes keep their key', async () => {
  const refreshes = [];
  const keys = [];
  const onRequest = (req) => {
    if (req.url().endsWith('/api/v1/auth/refresh')) refreshes.push(req.url());
    const k = req.headers()['idempotency-key'];
    if (req.url().endsWith('/api/v1/auth/logout') && k) keys.push(k);
  };
  page.on('request', onRequest);
  const out = await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem('minsheng.session'));
    s.access_token = 'expired.' + s.access_token.split('.')[1] + '.x';
    localStorage.setItem('minsheng.session', JSON.stringify(s));
    const mes = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client.get('/api/v1/me')));
    return mes.map((m) => m.role);
  });
  page.off('request', onRequest);
  assert.deepEqual(out, ['admin', 'admin', 'admin', 'admin', 'admin', 'admin']);
  assert.equal(refreshes.length, 1, 'one refresh for all six');
  // The rotated refresh token still works: the family was not revoked.
  const again = await page.evaluate(async () => (await client.refresh()).user.role);
  assert.equal(again, 'admin');
  assert.equal(keys.length, 0);
});

test('a retried write after a refresh carries the same Idempotency-Key', async () => {
  const seen = [];
  const onRequest = (req) => {
    if (req.method() === 'POST' && req.url().endsWith('/api/v1/users')) seen.push(req.headers()['idempotency-key']);
  };
  page.on('request', onRequest);
  const status = await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem('minsheng.session'));
    s.access_token = 'expired';
    localStorage.setItem('minsheng.session', JSON.stringify(s));
    try {
      await client.post('/api/v1/users', { username: 'x' }, { idempotencyKey: 'browser-key-0001' });
      return 0;
    } catch (err) {
      return err.status; // the body is incomplete: 400 after the retry
    }
  });
  page.off('request', onRequest);
  assert.equal(status, 400);
  assert.deepEqual(seen, ['browser-key-0001', 'browser-key-0001']);
});

test('offline is a network error that keeps the key for the retry', async () => {
  await ctx.setOffline(true);
  const e = await page.evaluate(async () => {
    try {
      await client.post('/api/v1/auth/logout', { refresh_token: 'x' }, { idempotencyKey: 'offline-key-0001' });
      return null;
    } catch (err) {
      return { code: err.code, offline: err.offline, retryable: err.retryable, key: err.idempotencyKey, message: err.message };
    }
  });
  await ctx.setOffline(false);
  assert.deepEqual(e, { code: 'network', offline: true, retryable: true, key: 'offline-key-0001', message: '网络连接失败，请检查网络后重试' });
});

test('logout forgets the session', async () => {
  const s = await page.evaluate(async () => {
    await client.logout();
    return client.session;
  });
  assert.equal(s, null);
});
