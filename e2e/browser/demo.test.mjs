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

test('the console map of 金融街 shows the seeded cases where they were filed', async () => {
  // What the API holds: 金融街's cases, most filed with a position.
  const { access_token: token } = await (await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'jinrongjie', password: PASSWORD }),
  })).json();
  let all = [];
  let cursor = '';
  do {
    const res = await fetch(`${server.url}/api/v1/cases?limit=100&cursor=${encodeURIComponent(cursor)}`, { headers: { Authorization: `Bearer ${token}` } });
    const out = await res.json();
    all = all.concat(out.items);
    cursor = out.next_cursor || '';
  } while (cursor);
  const placed = all.filter((c) => c.location?.lat != null);
  assert.ok(placed.length > 0 && placed.length >= all.length * 0.7, `most seeded cases carry a position: ${placed.length} of ${all.length}`);
  assert.ok(placed.every((c) => c.location.datum === 'wgs84'), 'in WGS-84');

  const ctx = await desktop(browser);
  const page = watch(await ctx.newPage());
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', 'jinrongjie');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-test=login]');
  await page.waitForURL(/\/console\/(?!login)/);
  await page.goto(`${server.url}/console/map`);
  // The count reads 0 until the cases are loaded: wait for the number the API gives.
  const count = page.locator('[data-test="map-count"]');
  await count.filter({ hasText: new RegExp(`地图上 ${placed.length} 件`) }).waitFor({ timeout: 10000 }).catch(() => {});
  const text = await count.innerText();
  assert.match(text, new RegExp(`地图上 ${placed.length} 件`), `the map places the cases with a position: ${text}`);
  if (placed.length < all.length) assert.match(text, new RegExp(`另有 ${all.length - placed.length} 件登记时无位置`), text);
  // Once the map has fitted them (the zoom settles), clusters and single
  // markers add up to the cases placed.
  const onMap = () => page.locator('[data-test="case-map"]').evaluate((el) =>
    [...el.querySelectorAll('.ms-cluster')].reduce((n, e) => n + Number(e.dataset.count), 0) + el.querySelectorAll('.ms-pin').length);
  await page.waitForFunction((n) => {
    const el = document.querySelector('[data-test="case-map"]');
    return [...el.querySelectorAll('.ms-cluster')].reduce((s, e) => s + Number(e.dataset.count), 0) + el.querySelectorAll('.ms-pin').length === n;
  }, placed.length, { timeout: 5000 }).catch(() => {});
  assert.equal(await onMap(), placed.length, 'clusters and markers add up to the cases placed');
  await page.waitForTimeout(300);
  await shot(page, 'demo-console-map');
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

async function api(path, token) {
  const res = await fetch(server.url + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

async function staffToken(username) {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
  });
  return (await res.json()).access_token;
}

// Issue 23 item 14: a demo that looks real — every sub-district has its own
// cases and rates, and the personnel and running lines are executed month
// by month, so December's execution looks like December's.
test('finance sees 15 sub-districts with cases and rates of their own, and budgets executed by the month', async () => {
  const finance = await staffToken('finance');
  const org = await api('/api/v1/org');
  const year = new Date().getFullYear();
  const rates = await api(`/api/v1/reports/rates?from=${year}-01-01&to=${year + 1}-01-01`, finance);
  assert.equal(rates.sub_districts.length, 15);
  const figures = new Set();
  for (const u of rates.sub_districts) {
    for (const key of ['response', 'resolution', 'satisfaction', 'first_satisfaction']) {
      assert.ok(u[key].den > 0, `${u.name} ${key}: measured (${u[key].text})`);
    }
    figures.add(`${u.resolution.text} ${u.satisfaction.text} ${u.first_satisfaction.text}`);
  }
  assert.ok(figures.size >= 12, `解决率/满意率/一次满意率 differ: ${[...figures].join(' | ')}`);
  assert.ok(!org.sub_districts.some((sd) => sd.communities.some((c) => c.name.includes('演示'))), 'no invented community');

  // The year's execution: the wage lines (ZH-01-01) have had a payment a
  // month up to now, so they are spent about (paydays past) / 12.
  const paydays = (() => {
    const now = new Date();
    let n = 0;
    for (let m = 0; m < 12; m++) if (new Date(year, m, 10, 10) <= now) n++;
    return n;
  })();
  let page = '';
  const wages = [];
  do {
    const res = await api(`/api/v1/budget/lines?year=${year}&limit=100${page ? `&cursor=${encodeURIComponent(page)}` : ''}`, finance);
    wages.push(...res.items.filter((l) => l.item_code === 'ZH-01-01'));
    page = res.next_cursor || '';
  } while (page);
  assert.equal(wages.length, 15, 'a wage line per sub-district');
  for (const l of wages) {
    const budget = l.approved_fen + l.adjusted_fen;
    const share = l.spent_fen / budget;
    assert.ok(Math.abs(share - paydays / 12) < 0.04, `${l.sub_district} wages: spent ${(share * 100).toFixed(1)}% after ${paydays} paydays`);
  }

  const ctx = await desktop(browser);
  const pg = watch(await ctx.newPage());
  await pg.goto(`${server.url}/console/login`);
  await pg.fill('input[name=username]', 'finance');
  await pg.fill('input[name=password]', PASSWORD);
  await pg.click('[data-test=login]');
  await pg.waitForURL(/\/console\/lines/);
  await pg.goto(`${server.url}/console/reports`);
  await pg.locator('[data-test=rates-table] .el-table__row').first().waitFor();
  await pg.waitForLoadState('networkidle');
  await shot(pg, 'demo-console-rates-15');
  // The sub-districts' rows (the communities' follow them).
  const names = org.sub_districts.map((sd) => sd.name);
  const rows = (await pg.locator('[data-test=rates-table] .el-table__row').allInnerTexts())
    .filter((r) => !r.includes('社区') && names.some((n) => r.trim().startsWith(n)));
  assert.equal(rows.length, 15, `the rates table lists the 15 sub-districts: ${rows.join(' | ')}`);
  assert.deepEqual(rows.filter((r) => r.includes('—')), [], 'no sub-district without figures');
  await pg.click('.el-tabs__item:has-text("按批复执行与调整")');
  await pg.locator('.el-tab-pane:visible .el-table__row').first().waitFor();
  await pg.waitForTimeout(300);
  await shot(pg, 'demo-console-execution');
  await ctx.close();

  // Two public boards of sub-districts the old demo left empty.
  const phoneCtx = await phone(browser);
  const board = watch(await phoneCtx.newPage());
  const shown = [];
  for (const code of ['guanganmenwai', 'desheng']) {
    await board.goto(`${server.url}/gongkai?sub_district=${code}`);
    await board.locator('[data-test=rates] [data-rate=resolution] .v').waitFor();
    await board.waitForLoadState('networkidle');
    const values = await board.locator('[data-test=rates] [data-rate] .v').allInnerTexts();
    assert.equal(values.length, 3);
    for (const v of values) assert.match(v, /^\d+\.\d%$/, `${code}'s board shows measured rates: ${values}`);
    shown.push(values.join(' '));
    await shot(board, `demo-board-${code}`);
  }
  assert.notEqual(shown[0], shown[1], 'two sub-districts, two sets of figures');
  await phoneCtx.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(errors, []);
});
