// The three front ends on the demo district (`serve --demo`), as a
// newcomer first sees them: every page carries the demo ribbon, the demo
// accounts sign in, and each screen shows the seeded year — the cadre's
// to-do list of 丰盛社区, the sub-district's workbench, the demo resident's
// own 丰盛社区10号院旱厕改造 and the public board's funded needs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, phone, desktop, shot } from './harness.mjs';

const PASSWORD = 'minsheng-demo';
let server;
let browser;
const errors = [];

function watch(page) {
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
  });
  return page;
}

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function ribbon(page) {
  return page.evaluate(() => document.documentElement.dataset.demo === '1' &&
    getComputedStyle(document.body, '::after').content.includes('演示数据'));
}

test('the API and every page say demo', async () => {
  const res = await fetch(`${server.url}/api/v1/org`);
  assert.equal(res.headers.get('X-Minsheng-Demo'), '1');
  const ctx = await phone(browser);
  const page = watch(await ctx.newPage());
  for (const path of ['/', '/m/', '/console/login']) {
    await page.goto(server.url + path);
    assert.ok(await ribbon(page), `${path} shows the demo ribbon`);
  }
  await ctx.close();
});

test('the cadre of 丰盛社区 signs in to /m/ and finds the seeded cases', async () => {
  const ctx = await phone(browser);
  const page = watch(await ctx.newPage());
  await page.goto(`${server.url}/m/`);
  await page.getByPlaceholder('街道为您开设的账号').fill('jinrongjie-fengsheng');
  await page.getByPlaceholder('密码', { exact: true }).fill(PASSWORD);
  await page.click('[data-test=login]');
  await page.getByText('我的待办', { exact: true }).first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.getByText(/XC\d{4}-\d{6}/).first().waitFor({ timeout: 20000 });
  await shot(page, 'demo-cadre-todo');
  await ctx.close();
});

test('sub-district staff of 金融街 open the console workbench with queues', async () => {
  const ctx = await desktop(browser);
  const page = watch(await ctx.newPage());
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', 'jinrongjie');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-test=login]');
  await page.getByText('待受理').first().waitFor();
  await page.waitForLoadState('networkidle');
  await shot(page, 'demo-console-workbench');
  await page.goto(`${server.url}/console/lines`);
  await page.waitForLoadState('networkidle');
  await page.getByText(/金融街街道/).first().waitFor();
  await shot(page, 'demo-console-lines');
  await ctx.close();
});

test('the demo resident signs in with the fixed code and sees 丰盛社区10号院旱厕改造; the board shows funded needs', async () => {
  const ctx = await phone(browser);
  const page = watch(await ctx.newPage());
  await page.goto(`${server.url}/me`);
  await page.getByPlaceholder('请输入手机号码').fill('13800000001');
  await page.click('.send-code'); // the server "sends" the fixed demo code
  await page.waitForLoadState('networkidle');
  await page.getByPlaceholder('6位短信验证码').fill('123456');
  await page.click('.sign-in');
  await page.waitForLoadState('networkidle');
  await shot(page, 'demo-resident-signed-in');
  await page.goto(`${server.url}/mine`);
  await page.waitForLoadState('networkidle');
  await shot(page, 'demo-resident-mine');
  await page.getByText(/旱厕/).first().waitFor({ timeout: 20000 });
  await shot(page, 'demo-resident-mine');
  await page.goto(`${server.url}/gongkai?sub_district=jinrongjie`);
  await page.waitForLoadState('networkidle');
  await page.getByText(/已安排|预留|资金/).first().waitFor({ timeout: 20000 });
  await shot(page, 'demo-board');
  await ctx.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(errors, []);
});
