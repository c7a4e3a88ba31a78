// One failed outbox item does not block the rest (docs/ARCHITECTURE.md, field-app lessons
// and 4), on the demo district: with no signal the demo cadre of 丰盛社区
// records a 满意 verdict on one seeded case, completes another (with an
// after-photo) whose version the sub-district moves on meanwhile, and
// files a new case. Back online, the verdict and the filing arrive, the
// completion is refused (409) and shown with the server's reason and
// 修改 / 放弃, nothing was sent twice; 修改 sends it on the new version.
// A transient refusal (429 with Retry-After) is retried by itself, after
// the time the server asked for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from './harness.mjs';
import { demoCadre, file, demoCase, newPhone, login, controlled, fill, addPhoto, waitSynced, casesTitled, call, tab } from './cadre-lib.mjs';

let env;
before(async () => {
  env = await demoCadre();
});
after(async () => {
  await env?.stop();
});

/** writes counts the phone's writes to the mobile API by "METHOD kind". */
async function countWrites(ctx) {
  const seen = {};
  await ctx.route('**/mobile/v1/cases/**', async (route) => {
    const req = route.request();
    if (req.method() !== 'GET') {
      const u = new URL(req.url());
      const kind = u.pathname.includes('/actions/') ? `action ${u.pathname.split('/').pop()}` : u.pathname.includes('/photos/') ? 'photo' : 'create';
      const k = `${req.method()} ${kind}`;
      seen[k] = (seen[k] || 0) + 1;
    }
    await route.continue();
  });
  return seen;
}

const events = (c, action) => c.timeline.filter((e) => e.action === action).length;

test('a refused item waits with its reason while the others arrive, each once; 修改 sends it again', async () => {
  const done = await demoCase(env, 'completed'); // awaits the return visit
  const working = await demoCase(env, 'in_progress'); // awaits 办结
  assert.equal(events(done, 'verdict'), 0);
  const afterBefore = working.photos.filter((p) => p.tag === 'after').length;

  const ctx = await newPhone(env);
  const writes = await countWrites(ctx);
  const page = await ctx.newPage();
  await login(env, page);
  await controlled(page);
  await waitSynced(page);

  await ctx.setOffline(true);
  // 1. The verdict on the completed case.
  await page.goto(`${env.server.url}/m/case/${done.id}`);
  await page.locator('[data-test=act-verdict]').click();
  await page.locator('[data-test=verdict-satisfied]').click();
  await page.locator('[data-test=verdict-submit]').click();
  await page.locator('[data-test=timeline-step]', { hasText: '本机 · 回访：满意（待发送）' }).waitFor();
  // 2. 办结 of the case in progress, with an after-photo …
  await page.goto(`${env.server.url}/m/case/${working.id}`);
  await page.locator('[data-test=act-complete]').click();
  await page.getByPlaceholder('0.00').fill('3600');
  await addPhoto(page, '[data-test=work-photos]', 1600, 1200);
  await page.locator('[data-test=work-submit]').click();
  await page.locator('[data-test=timeline-step]', { hasText: '本机 · 办结（待发送）' }).waitFor();
  // … while the sub-district reclassifies it: the phone's version is stale.
  await call(env, 'POST', `/api/v1/cases/${working.id}/catalog-item`, env.staffToken, { version: working.version, item_code: working.catalog_item });
  // 3. A new filing.
  await fill(page, '丰盛胡同3号院楼道堆物');
  await file(page);
  await page.getByText('已保存到本机，联网发送成功后显示二维码').waitFor();
  await tab(page, '我的');
  // The tab reads the outbox from IndexedDB once it opens: wait for its list
  // (a count taken at once saw 0 items on a slow machine), then count.
  await page.waitForFunction(() => document.querySelectorAll('[data-test=outbox-item]').length >= 4, null, { timeout: 10000 }).catch(() => {});
  assert.equal(await page.locator('[data-test=outbox-item]').count(), 4, 'verdict, photo, 办结, filing');

  await ctx.setOffline(false); // the online event sends the outbox
  await page.locator('[data-test=outbox-item][data-failed="1"]').waitFor({ timeout: 30000 });
  await page.waitForFunction(() => document.querySelectorAll('[data-test=outbox-item]').length === 1, null, { timeout: 30000 });
  const failed = page.locator('[data-test=outbox-item][data-failed="1"]');
  assert.match(await failed.textContent(), /操作：办结.*未能发送：数据已被他人修改，请刷新后重试/);
  await failed.locator('[data-test=outbox-revise]').waitFor();
  await failed.locator('[data-test=outbox-discard]').waitFor();
  await page.locator('[data-test=sync-badge]', { hasText: '1 条失败' }).first().waitFor();
  await shot(page, 'cadre-22-outbox-failed');

  const closed = await call(env, 'GET', `/api/v1/cases/${done.id}`, env.staffToken);
  assert.equal(closed.status, 'closed', 'the verdict arrived');
  assert.equal(events(closed, 'verdict'), 1, 'one verdict in the timeline');
  const filed = await casesTitled(env, '丰盛胡同3号院楼道堆物');
  assert.equal(filed.length, 1, 'the filing arrived once');
  let w = await call(env, 'GET', `/api/v1/cases/${working.id}`, env.staffToken);
  assert.equal(w.status, 'in_progress', 'the stale 办结 did not go through');
  assert.equal(events(w, 'complete'), 0);
  assert.equal(w.photos.filter((p) => p.tag === 'after').length, afterBefore + 1, 'its after-photo arrived once');
  assert.deepEqual(writes, { 'POST action verdict': 1, 'PUT photo': 1, 'POST action complete': 1, 'PUT create': 1 }, 'every item was sent once');

  // The case says so too, and offers no second 办结 meanwhile.
  await page.goto(`${env.server.url}/m/case/${working.id}`);
  await page.locator('[data-test=case-failed]').waitFor();
  assert.equal(await page.locator('[data-test=act-complete]').count(), 0);
  await shot(page, 'cadre-23-case-failed');

  // 修改: the form comes back with what was entered; sent on the new version.
  await tab(page, '我的');
  await page.locator('[data-test=outbox-revise]').click();
  await page.locator('[data-test=work-submit]').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-test=cost] input')?.value === '3600'); // what was entered
  await page.getByPlaceholder('0.00').fill('3650');
  await page.locator('[data-test=work-submit]').click();
  await waitSynced(page);
  w = await call(env, 'GET', `/api/v1/cases/${working.id}`, env.staffToken);
  assert.equal(w.status, 'completed');
  assert.equal(events(w, 'complete'), 1, 'one 办结 in the timeline');
  assert.equal(w.actual_cost_fen, 365000);
  assert.equal(writes['POST action complete'], 2, 'the refused one and the corrected one');
  await ctx.close();
});

test('a 429 is retried by itself after the Retry-After the server gave, and a 5xx after a backoff', async () => {
  const ctx = await newPhone(env);
  const tries = [];
  await ctx.route('**/mobile/v1/cases/*', async (route) => {
    const req = route.request();
    if (req.method() !== 'PUT') return route.continue();
    tries.push(Date.now());
    if (tries.length === 1) {
      return route.fulfill({ status: 429, headers: { 'Retry-After': '6', 'Content-Type': 'application/json' }, body: JSON.stringify({ error: { code: 'rate_limited', message: '请求过于频繁，请稍后再试' } }) });
    }
    if (tries.length === 2) {
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: '服务暂时不可用，请稍后重试' } }) });
    }
    return route.continue();
  });
  const page = await ctx.newPage();
  await login(env, page);
  await waitSynced(page);
  await fill(page, '丰盛胡同7号院雨水倒灌');
  await file(page);
  await tab(page, '我的');
  await page.getByText(/稍后重试：请求过于频繁，请稍后再试（\d\d:\d\d:\d\d 自动重试）/).waitFor();
  await shot(page, 'cadre-24-outbox-retry');
  await page.getByText(/稍后重试：服务暂时不可用/).waitFor({ timeout: 15000 });
  await waitSynced(page); // nobody tapped 立即同步
  assert.equal(tries.length, 3);
  assert.ok(tries[1] - tries[0] >= 5900, `the second try ${tries[1] - tries[0]} ms after the 429, want ≥ 6 s (Retry-After)`);
  assert.ok(tries[2] - tries[1] >= 4900, `the third try ${tries[2] - tries[1]} ms after the 503, want ≥ 5 s (backoff)`);
  assert.equal((await casesTitled(env, '丰盛胡同7号院雨水倒灌')).length, 1, 'one case');
  await ctx.close();
});

test('a filing refused as invalid: its photo waits with it; 修改 brings both back as a draft, 放弃 drops another', async () => {
  const ctx = await newPhone(env);
  const refused = { n: 0 };
  await ctx.route('**/mobile/v1/cases/*', async (route) => {
    const req = route.request();
    // Refused as the server would an address outside the community, and a duplicate.
    const body = req.method() === 'PUT' ? req.postData() || '' : '';
    if (body.includes('别处胡同1号') || body.includes('重复登记')) {
      refused.n++;
      return route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid', message: '请检查填写的内容', fields: { address: '地址不在本社区' } } }) });
    }
    return route.continue();
  });
  const page = await ctx.newPage();
  await login(env, page);
  await waitSynced(page);
  await fill(page, '丰盛胡同9号院墙体开裂', { address: '别处胡同1号' });
  await addPhoto(page, '[data-test=photos]', 1200, 900);
  await file(page);
  await tab(page, '我的');
  const failed = page.locator('[data-test=outbox-item][data-failed="1"]');
  await failed.waitFor();
  assert.match(await failed.textContent(), /登记：丰盛胡同9号院墙体开裂.*未能发送：请检查填写的内容（地址不在本社区）。点「修改」更正后再发送/);
  await page.locator('[data-test=outbox-item]', { hasText: '等待本案件前一条处理后再发送' }).waitFor(); // its photo
  await shot(page, 'cadre-25-filing-refused');

  await failed.locator('[data-test=outbox-revise]').click();
  await page.locator('[data-test=photos] .van-uploader__preview').waitFor();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '丰盛胡同9号院墙体开裂');
  assert.equal(await page.getByPlaceholder('如：丰盛胡同10号院').inputValue(), '别处胡同1号');
  await page.getByPlaceholder('如：丰盛胡同10号院').fill('丰盛胡同9号院');
  await file(page);
  await page.locator('[data-test=qr] svg').waitFor({ timeout: 30000 }); // sent: the resident's code shows
  await waitSynced(page);
  const found = await casesTitled(env, '丰盛胡同9号院墙体开裂');
  assert.equal(found.length, 1, 'one case');
  const full = await call(env, 'GET', `/api/v1/cases/${found[0].id}`, env.staffToken);
  assert.equal(full.location.address, '丰盛胡同9号院');
  assert.equal(full.photos.length, 1, 'its photo, once');

  // 放弃: another refused filing leaves the phone with its photo, after a confirmation.
  await fill(page, '丰盛胡同9号院重复登记');
  await addPhoto(page, '[data-test=photos]', 800, 600);
  await file(page);
  await tab(page, '我的');
  await failed.waitFor();
  await failed.locator('[data-test=outbox-discard]').click();
  await page.getByText('「登记：丰盛胡同9号院重复登记」及其照片不会再发送').waitFor();
  await page.locator('.van-dialog__confirm').click();
  await page.locator('[data-test=outbox-item]').first().waitFor({ state: 'detached' });
  await tab(page, '我的待办');
  await page.locator('[data-test=case-row]').first().waitFor();
  assert.equal(await page.locator('[data-test=case-row]', { hasText: '丰盛胡同9号院重复登记' }).count(), 0, 'gone from the phone');
  assert.equal((await casesTitled(env, '丰盛胡同9号院重复登记')).length, 0, 'never filed');
  assert.equal(refused.n, 2);
  await ctx.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(env.errors, []);
});
