// What a cadre trips over on a working day (issue 23, items 3, 9 and 11),
// on the demo district as the demo cadre of 丰盛社区:
// - finishing a job in a courtyard without signal: 开始办理 → 办结 (with a
//   photo) → 回访 queued in order, each offered after the one before (the
//   server's lookahead), counted as steps; back online the server has each
//   step exactly once, in order;
// - after proposing a catalog item on 现场评估 the case says it waits for
//   the sub-district, not "尚未归类到支出事项";
// - 代居民登记's chips are the requests residents make (旱厕改造, 停车自治 …),
//   not budget items, and show on a first visit to the form with no signal;
// - a position's accuracy is location information, not the resident's text;
//   a deadline in another year shows its year.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { devices } from 'playwright-core';
import { shot } from './harness.mjs';
import { demoCadre, demoCase, newPhone, login, controlled, addPhoto, waitSynced, call, tab, fill, file, casesTitled } from './cadre-lib.mjs';

let env;
before(async () => {
  env = await demoCadre();
});
after(async () => {
  await env?.stop();
});

/** writes counts the phone's step requests by action name. */
async function countSteps(ctx) {
  const seen = {};
  await ctx.route('**/mobile/v1/cases/**', async (route) => {
    const req = route.request();
    const u = new URL(req.url());
    if (req.method() === 'POST' && u.pathname.includes('/actions/')) {
      const a = u.pathname.split('/').pop();
      seen[a] = (seen[a] || 0) + 1;
    }
    await route.continue();
  });
  return seen;
}

const badge = (page) => page.locator('[data-test=sync-badge]').innerText();

/** errorsOf reports the page's JavaScript errors to env.errors (as newPhone does). */
function errorsOf(ctx) {
  ctx.on('page', (page) => {
    page.on('pageerror', (e) => env.errors.push(`${page.url()}: ${e}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_FAILED/.test(m.text())) env.errors.push(`${page.url()}: ${m.text()}`);
    });
  });
  return ctx;
}

test('offline: 开始办理 → 办结 with a photo → 回访 queue in order and arrive once each', async () => {
  // A new request of 丰盛社区, accepted and assigned to the demo cadre.
  const cadreId = (await demoCase(env, 'in_progress')).assigned_to;
  let c = await demoCase(env, 'submitted');
  c = await call(env, 'POST', `/api/v1/cases/${c.id}/accept`, env.staffToken, { version: c.version });
  c = await call(env, 'POST', `/api/v1/cases/${c.id}/assign`, env.staffToken, { version: c.version, cadre_id: cadreId });
  assert.equal(c.status, 'assigned');

  const ctx = await newPhone(env);
  const steps = await countSteps(ctx);
  const page = await ctx.newPage();
  await login(env, page);
  await controlled(page);
  await waitSynced(page);

  // 现场评估 online, proposing the first suggested catalog item.
  await page.goto(`${env.server.url}/m/case/${c.id}`);
  await page.locator('[data-test=act-assess]').click();
  await page.locator('.van-radio').first().waitFor();
  const item = (await page.locator('.van-radio-group .van-cell__title').first().innerText()).split('\n')[0].trim();
  await page.getByPlaceholder('0.00').fill('1200');
  await page.locator('[data-test=assess-submit]').click();
  await waitSynced(page);
  await page.locator('[data-test=act-start]').waitFor();
  const funding = await page.locator('[data-test=funding]').innerText();
  assert.match(funding, new RegExp(`已建议「${item}」，待街道确认`), funding);
  assert.doesNotMatch(funding, /尚未归类/);

  // In the courtyard, no signal.
  await ctx.setOffline(true);
  await page.locator('[data-test=act-start]').click();
  await page.locator('[data-test=work-submit]').click();
  await page.locator('[data-test=timeline-step]', { hasText: '本机 · 开始办理（待发送）' }).waitFor();
  assert.match(await page.locator('[data-test=status]').innerText(), /办理中（本机）/);
  // The next step is offered at once (before: nothing until it was sent).
  await page.locator('[data-test=act-complete]').click();
  await page.getByPlaceholder('0.00').fill('1180');
  await addPhoto(page, '[data-test=work-photos]', 1600, 1200);
  await page.locator('[data-test=work-submit]').click();
  await page.locator('[data-test=timeline-step]', { hasText: '本机 · 办结（待发送）' }).waitFor();
  assert.match(await page.locator('[data-test=status]').innerText(), /已办结（本机）/);
  assert.equal(await page.locator('.van-cell', { hasText: '办结时限' }).count(), 0, 'no deadline runs after 办结');
  // 开始办理, and 办结 with its photo: two steps, not three requests.
  await page.waitForFunction(() => /2 条待发送/.test(document.querySelector('[data-test=sync-badge]')?.textContent || ''), null, { timeout: 5000 });
  await shot(page, 'cadre-trips-offline-chain');
  // The return visit, still offline.
  await page.locator('[data-test=act-verdict]').click();
  await page.locator('[data-test=verdict-satisfied]').click();
  await page.locator('[data-test=verdict-submit]').click();
  await page.locator('[data-test=timeline-step]', { hasText: '本机 · 回访：满意（待发送）' }).waitFor();
  assert.match(await badge(page), /3 条待发送/);
  assert.equal(await page.locator('.actions-bar button').count(), 0, 'nothing more to do on a closed case');
  await tab(page, '我的');
  await page.locator('[data-test=pending]').waitFor();
  assert.match(await page.locator('[data-test=pending]').innerText(), /3 条/);
  await shot(page, 'cadre-trips-offline-me');

  await ctx.setOffline(false);
  await waitSynced(page);
  const got = await call(env, 'GET', `/api/v1/cases/${c.id}`, env.staffToken);
  const order = got.timeline.map((e) => e.action).filter((a) => ['assess', 'start', 'complete', 'verdict'].includes(a));
  assert.deepEqual(order, ['assess', 'start', 'complete', 'verdict'], 'each step once, in order');
  assert.equal(got.status, 'closed');
  assert.equal(got.actual_cost_fen, 118000);
  assert.equal(got.photos.filter((p) => p.tag === 'after').length, 1);
  assert.deepEqual(steps, { assess: 1, start: 1, complete: 1, verdict: 1 }, 'each step sent once');
  await page.goto(`${env.server.url}/m/case/${c.id}`);
  await page.locator('[data-test=status]', { hasText: '已关闭' }).waitFor();
  await shot(page, 'cadre-trips-after-sync');
  await ctx.close();
  assert.deepEqual(env.errors, []);
});

test('代居民登记 offers residents\' requests, on a first visit with no signal', async () => {
  // iPhone SE: the smallest phone the cadres carry.
  const ctx = errorsOf(await env.browser.newContext({ ...devices['iPhone SE'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' }));
  const page = await ctx.newPage();
  await login(env, page);
  await controlled(page);
  await waitSynced(page);
  // One online visit to the app (not to the form); then no signal, the app
  // opened again from the home screen.
  await ctx.setOffline(true);
  await page.goto(`${env.server.url}/m/`);
  await page.getByText('我的待办', { exact: true }).first().waitFor();
  await tab(page, '代居民登记');
  await page.locator('[data-test=area]').click();
  await page.locator('.van-action-sheet__item', { hasText: '城市管理' }).click();
  await page.locator('[data-test=request-chip]').first().waitFor({ timeout: 5000 });
  const chips = await page.locator('[data-test=request-chip]').allInnerTexts();
  for (const want of ['旱厕改造', '停车自治', '楼道照明', '下水道堵塞']) assert.ok(chips.includes(want), `${want} in ${chips}`);
  for (const budget of ['社区工作者薪酬', '办公经费', '招录']) assert.ok(!chips.some((x) => x.includes(budget)), `budget item ${budget} offered: ${chips}`);
  await page.locator('[data-test=request-chip]', { hasText: '停车自治' }).click();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '停车自治');
  await shot(page, 'cadre-trips-se-chips-offline');
  // 民生保障: the care station.
  await page.locator('[data-test=area]').click();
  await page.locator('.van-action-sheet__item', { hasText: '民生保障' }).click();
  await page.locator('[data-test=request-chip]', { hasText: '养老驿站' }).waitFor();
  await ctx.close();
  assert.deepEqual(env.errors, []);
});

test('the GPS accuracy is location information; a deadline in another year shows its year', async () => {
  const ctx = errorsOf(await env.browser.newContext({
    ...devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    geolocation: { latitude: 39.9127, longitude: 116.3542, accuracy: 15 }, permissions: ['geolocation'],
  }));
  const page = await ctx.newPage();
  await login(env, page);
  await controlled(page);
  await waitSynced(page);
  const title = '丰盛胡同12号院下水道堵塞';
  await fill(page, title, { address: '丰盛胡同12号院' });
  await page.getByText('现场定位', { exact: true }).click();
  await page.getByText('已定位，精度约 15 米（WGS-84）').waitFor();
  await file(page);
  await waitSynced(page);
  const [filed] = await casesTitled(env, title);
  assert.ok(filed, 'filed');
  const full = await call(env, 'GET', `/api/v1/cases/${filed.id}`, env.staffToken);
  assert.equal(full.description, '院内旱厕地面不平，需人工清掏，老人如厕不便', 'the resident\'s words, nothing appended');
  assert.equal(full.location.accuracy_m, 15);
  assert.equal(full.location.datum, 'wgs84');
  await page.goto(`${env.server.url}/m/case/${filed.id}`);
  const where = await page.locator('[data-test=address]').innerText();
  assert.match(where, /现场定位，精度约 15 米，WGS-84/, where);
  await shot(page, 'cadre-trips-location');

  // The phone's calendar has moved on to 2027: the 2026 deadline of the
  // case in progress says its year.
  const working = await demoCase(env, 'in_progress');
  const due = new Date(working.deadline.due_at);
  await page.clock.setFixedTime(new Date(Date.UTC(due.getUTCFullYear() + 1, 1, 1, 2)));
  await page.goto(`${env.server.url}/m/case/${working.id}`);
  const line = await page.locator('.van-cell', { hasText: '截止' }).innerText();
  const y = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(due);
  assert.match(line, new RegExp(`截止 ${y}/`), line);
  await shot(page, 'cadre-trips-deadline-year');
  await ctx.close();
  assert.deepEqual(env.errors, []);
});
