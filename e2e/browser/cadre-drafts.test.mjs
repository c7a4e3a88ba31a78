// 代居民登记 keeps several drafts (docs/ARCHITECTURE.md, field-app lessons): the demo cadre
// of 丰盛社区 starts two filings, is interrupted, reloads the app with no
// signal, finds both listed (area, title, time), resumes one with its
// photo, deletes the other and files the first; filing removes the draft
// and the server holds the case once with its photo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { shot } from './harness.mjs';
import { demoCadre, file, newPhone, login, controlled, fill, addPhoto, waitSynced, casesTitled, call, tab, idbKeys } from './cadre-lib.mjs';

let env;
before(async () => {
  env = await demoCadre();
});
after(async () => {
  await env?.stop();
});

async function draftSaved(page) {
  await page.waitForTimeout(800); // the autosave's debounce
  await page.getByText(/草稿已保存/).waitFor();
}

test('several drafts survive an offline reload; resume, delete, and filing one removes it', async () => {
  const ctx = await newPhone(env);
  const page = await ctx.newPage();
  await login(env, page);
  await controlled(page);
  await waitSynced(page);

  await fill(page, '丰盛胡同12号院下水道返味');
  await addPhoto(page, '[data-test=photos]', 1600, 1200);
  await draftSaved(page);
  await page.locator('[data-test=draft-new]').click(); // called to the next courtyard
  await page.getByText('填写内容会自动保存为草稿').waitFor();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '', 'a new, empty form');
  await page.locator('[data-test=draft]').first().waitFor();
  await page.getByPlaceholder('如：10号院旱厕改造').fill('砖塔胡同路灯不亮');
  await page.getByPlaceholder('如：丰盛胡同10号院').fill('砖塔胡同23号');
  await draftSaved(page);

  await ctx.setOffline(true);
  await page.reload(); // offline: the shell from the service worker, the drafts from IndexedDB
  await page.getByText('草稿已保存').waitFor();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '砖塔胡同路灯不亮', 'the draft being written is open again');
  await tab(page, '我的待办');
  await tab(page, '代居民登记');
  await page.locator('[data-test=drafts]').waitFor();
  await page.getByText(/^草稿 2 份/).waitFor();
  const rows = await page.locator('[data-test=draft]').allTextContents();
  assert.equal(rows.length, 2);
  assert.match(rows[0], /砖塔胡同路灯不亮.*未选领域.*砖塔胡同23号.*0 张照片.*保存于/, 'the newest first, with area, address and time');
  assert.match(rows[1], /丰盛胡同12号院下水道返味.*城市管理.*1 张照片/);
  await shot(page, 'cadre-20-drafts');

  // Delete the second draft (the lamp), after confirming.
  await page.locator('[data-test=draft]', { hasText: '砖塔胡同路灯不亮' }).locator('[data-test=draft-delete]').click();
  await page.locator('.van-dialog__confirm').click();
  await page.locator('[data-test=draft]', { hasText: '砖塔胡同路灯不亮' }).waitFor({ state: 'detached' });

  // Resume the first: its text and its photo are back.
  await page.locator('[data-test=draft]', { hasText: '丰盛胡同12号院下水道返味' }).click();
  await page.locator('[data-test=photos] .van-uploader__preview').waitFor();
  assert.equal(await page.getByPlaceholder('如：10号院旱厕改造').inputValue(), '丰盛胡同12号院下水道返味');
  assert.equal(await page.locator('[data-test=area] input').inputValue(), '城市管理');
  assert.equal(await page.locator('[data-test=drafts]').count(), 0, 'no other draft is left');
  await shot(page, 'cadre-21-draft-resumed');
  await file(page);
  await page.getByText('已保存到本机，联网发送成功后显示二维码').waitFor();
  assert.deepEqual(await idbKeys(page, 'dr:'), [], 'filing removed the draft');
  await tab(page, '代居民登记');
  await page.getByText('填写内容会自动保存为草稿').waitFor();
  assert.equal(await page.locator('[data-test=drafts]').count(), 0);

  await ctx.setOffline(false);
  await waitSynced(page);
  const found = await casesTitled(env, '丰盛胡同12号院下水道返味');
  assert.equal(found.length, 1, 'exactly one case');
  const full = await call(env, 'GET', `/api/v1/cases/${found[0].id}`, env.staffToken);
  assert.equal(full.photos.length, 1, 'with its one photo');
  assert.equal((await casesTitled(env, '砖塔胡同路灯不亮')).length, 0, 'the deleted draft was never filed');
  await ctx.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(env.errors, []);
});
