// The SMS outbox in 系统管理: outside demo mode with the log sender the
// start log and the console say residents cannot sign in by SMS, and the
// 短信 tab lists the queued sign-in code with a masked phone, never the code.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, desktop, shot } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer({});
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('admin sees that residents cannot sign in by SMS, and the outbox', async () => {
  assert.ok(server.log.some((l) => l.includes('居民无法通过短信登录')), 'start log warns of the log sender');
  const res = await fetch(`${server.url}/api/v1/auth/otp`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ phone: '13912345678' }),
  });
  assert.equal(res.status, 202);
  let code = '';
  for (let i = 0; i < 100 && !code; i++) {
    const m = server.log.join('\n').match(/验证码是 (\d{6})/);
    if (m) code = m[1];
    else await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(code, 'the log sender wrote the code');

  const ctx = await desktop(browser);
  const page = await ctx.newPage();
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'admin-browser-test-1');
  await page.click('[data-test=login]');
  await page.waitForURL(/\/console\/(?!login)/);
  await page.goto(`${server.url}/console/admin`);
  const warning = page.locator('[data-test=sms-warning]');
  await warning.waitFor();
  assert.match(await warning.innerText(), /居民无法通过短信登录/);
  await page.getByRole('tab', { name: '短信' }).click();
  const table = page.locator('[data-test=sms-table]');
  await table.getByText('登录验证码').waitFor();
  const text = await table.innerText();
  assert.match(text, /139\*\*\*\*5678/);
  assert.match(text, /已发送/);
  assert.ok(!(await page.content()).includes(code), 'the page never shows the code');
  await page.waitForLoadState('networkidle');
  await shot(page, 'console-sms-1440');
  await page.setViewportSize({ width: 1366, height: 768 });
  await shot(page, 'console-sms-1366');
  await ctx.close();
});
