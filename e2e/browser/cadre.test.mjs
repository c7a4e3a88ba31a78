// The cadre app (/m/) in headless Chromium on a phone, against the real
// server on the demo district (the demo cadre of 丰盛社区 and its seeded
// cases): filing offline with a photo and reopening the app offline from
// the service worker; a filing whose answers are lost after the server
// acted; assess → start → complete → 满意 on a seeded case with each step
// once in the timeline; a 4000×3000 photo stored at ≤ 2000 px; no
// JavaScript errors; a screenshot of every screen
// (e2e/browser/screenshots/cadre-*.png). Each test works on its own case.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from './harness.mjs';
import { demoCadre, file, demoCase, newPhone, login, controlled, fill, addPhoto, waitSynced, casesTitled, call, tab, signIn, CADRE, PASSWORD } from './cadre-lib.mjs';

let env;
before(async () => {
  env = await demoCadre();
});
after(async () => {
  await env?.stop();
});

test('a case filed offline with a 4000×3000 photo survives an offline reload and reaches the server once', async () => {
  const ctx = await newPhone(env);
  const page = await ctx.newPage();
  await login(env, page, { before: () => shot(page, 'cadre-00-login') });
  await controlled(page);
  await waitSynced(page);
  await page.locator('[data-test=case-row]').first().waitFor();
  await shot(page, 'cadre-01-todo');

  await ctx.setOffline(true);
  await fill(page, '丰盛胡同10号院旱厕改造');
  await addPhoto(page, '[data-test=photos]', 4000, 3000);
  await page.getByText(/草稿已保存/).waitFor();
  await shot(page, 'cadre-02-file');
  await file(page);
  await page.getByText('已保存到本机，联网发送成功后显示二维码').waitFor();
  await shot(page, 'cadre-03-qr-pending');

  await page.reload(); // offline: the shell must come from the service worker
  // The filing with its photo is one step (two requests).
  await page.locator('[data-test=sync-badge]', { hasText: '1 条待发送' }).first().waitFor();
  await tab(page, '我的待办');
  await page.getByText('丰盛胡同10号院旱厕改造').waitFor();
  await shot(page, 'cadre-04-todo-offline');
  await tab(page, '我的');
  await page.locator('[data-test=outbox-item]').first().waitFor();
  await shot(page, 'cadre-05-me-outbox');

  await ctx.setOffline(false); // the online event sends the outbox
  await waitSynced(page);
  const found = await casesTitled(env, '丰盛胡同10号院旱厕改造');
  assert.equal(found.length, 1, 'exactly one case');
  const full = await call(env, 'GET', `/api/v1/cases/${found[0].id}`, env.staffToken);
  assert.equal(full.photos.length, 1, 'exactly one photo');
  assert.ok(Math.max(full.photos[0].width, full.photos[0].height) <= 2048, `stored ${full.photos[0].width}×${full.photos[0].height}, want ≤ 2048 px (static/lib/photo.js)`);
  assert.ok(Math.max(full.photos[0].width, full.photos[0].height) >= 1900, 'compressed to about 2048 px, not much smaller');

  await page.goto(`${env.server.url}/m/case/${found[0].id}/qr`);
  await page.locator('[data-test=qr] svg').waitFor();
  await shot(page, 'cadre-06-qr');
  await ctx.close();
});

test('answers lost after the server acted: still one case, one photo', async () => {
  const ctx = await newPhone(env, { blockServiceWorkers: true });
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
  await login(env, page);
  await fill(page, '砖塔胡同停车自治');
  await addPhoto(page, '[data-test=photos]', 1200, 900);
  await file(page);
  await tab(page, '我的');
  await page.locator('[data-test=outbox-item]').first().waitFor();
  await page.getByText(/稍后重试：网络连接失败/).first().waitFor();
  await page.locator('[data-test=sync-now]').click(); // the case: answered from the first filing
  await page.getByText(/稍后重试：网络连接失败/).first().waitFor(); // the photo's answer is lost too
  await page.locator('[data-test=sync-now]').click();
  await waitSynced(page);
  assert.equal(cut.PUT, 2, 'the case and the photo each lost one answer');
  const found = await casesTitled(env, '砖塔胡同停车自治');
  assert.equal(found.length, 1, 'exactly one case');
  const full = await call(env, 'GET', `/api/v1/cases/${found[0].id}`, env.staffToken);
  assert.equal(full.photos.length, 1, 'exactly one photo');

  // A wrongly taken photo is deleted before completion.
  await page.goto(`${env.server.url}/m/case/${found[0].id}`);
  await page.locator('.photo-del').first().click();
  await shot(page, 'cadre-17-delete-photo');
  await page.locator('.van-dialog__confirm').click();
  // The deletion goes through the outbox: the badge may still read 已同步
  // before the deletion is queued, so wait for the server to have it
  // (30 s, the badge's own bound), then for the phone to be synced.
  let after;
  for (const until = Date.now() + 30000; ;) {
    after = await call(env, 'GET', `/api/v1/cases/${found[0].id}`, env.staffToken);
    if (after.photos.length === 0 || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(after.photos.length, 0, 'the photo is gone');
  await waitSynced(page);
  await ctx.close();
});

test('a seeded case: assess, start, complete with an after-photo, 满意; each step once in the timeline', async () => {
  // The sub-district accepts a resident's fresh demo case and assigns it
  // to the demo cadre, as it would in the console.
  let c = await demoCase(env, 'submitted');
  const cadre = await call(env, 'GET', '/api/v1/me', await signIn(env, CADRE, PASSWORD));
  c = await call(env, 'POST', `/api/v1/cases/${c.id}/accept`, env.staffToken, { version: c.version });
  c = await call(env, 'POST', `/api/v1/cases/${c.id}/assign`, env.staffToken, { version: c.version, cadre_id: cadre.id });

  const ctx = await newPhone(env);
  const page = await ctx.newPage();
  await login(env, page);
  await waitSynced(page);
  await shot(page, 'cadre-07-todo');
  await page.locator('[data-test=case-row]', { hasText: c.number }).click();
  await page.locator('[data-test=act-assess]').waitFor();
  await shot(page, 'cadre-08-case');

  await page.locator('[data-test=act-assess]').click();
  await page.getByPlaceholder('0.00').fill('12000.50');
  await page.locator('[data-test=amount]', { hasText: '12,000.50 元' }).waitFor(); // how the phone read what was typed
  await shot(page, 'cadre-09-assess');
  await page.locator('[data-test=assess-submit]').click();
  await waitSynced(page);

  await page.locator('[data-test=act-start]').click();
  await shot(page, 'cadre-10-start');
  await page.locator('[data-test=work-submit]').click();
  await waitSynced(page);

  await page.locator('[data-test=act-complete]').click();
  await page.getByPlaceholder('0.00').fill('11800');
  await addPhoto(page, '[data-test=work-photos]', 1600, 1200);
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

  const full = await call(env, 'GET', `/api/v1/cases/${c.id}`, env.staffToken);
  assert.equal(full.status, 'closed');
  for (const a of ['assess', 'start', 'complete', 'verdict']) {
    assert.equal(full.timeline.filter((e) => e.action === a).length, 1, `one ${a} in the timeline`);
  }
  assert.equal(full.actual_cost_fen, 1180000);
  assert.equal(full.assessment.estimate_fen, 1200050);
  assert.equal(full.photos.filter((p) => p.tag === 'after').length, 1, 'one after-photo');

  await tab(page, '通知');
  await page.locator('[data-test=notice]').first().waitFor();
  await shot(page, 'cadre-14-notices');
  await tab(page, '我的');
  await shot(page, 'cadre-15-me');
  await ctx.close();
});

test('signing out with items waiting warns 本机待发送 N 条', async () => {
  const ctx = await newPhone(env);
  const page = await ctx.newPage();
  await login(env, page);
  await waitSynced(page);
  await ctx.setOffline(true);
  await fill(page, '大院胡同路灯不亮');
  await addPhoto(page, '[data-test=photos]', 800, 600);
  await page.waitForTimeout(800); // the autosave's debounce
  await page.reload(); // the draft, its photo included, survives closing the app
  await page.locator('.van-uploader__preview').waitFor();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '大院胡同路灯不亮');
  assert.equal(await page.locator('.van-uploader__preview').count(), 1);
  await file(page);
  await tab(page, '我的');
  await page.locator('[data-test=logout]').click();
  await page.getByText('本机待发送 1 条').waitFor(); // the filing with its photo: one step
  await page.waitForTimeout(500); // the dialog's animation, for the screenshot
  await shot(page, 'cadre-16-logout-warning');
  await page.getByText('先同步').click();
  await ctx.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(env.errors, []);
});
