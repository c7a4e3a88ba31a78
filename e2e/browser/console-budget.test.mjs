// The console's budget dialogs on the demo district (`serve --demo`), each
// on data the test builds beside the demo's: staff bulk-link several
// similar cases to one line with a preview of what fits (and the ledger
// shows exactly their sum reserved); finance adjusts a line (调增 / 调减 /
// 调剂 with reasons) and reviews it (事前 / 事中 / 事后); and the 资金不足
// queue and a stored allocation preview reopened from 历史运行.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, desktop, shot } from './harness.mjs';

const PASSWORD = 'minsheng-demo';
const SUB = 'jinrongjie';
const COMM = 'jinrongjie-fengsheng';
const ITEM = 'CG-01-02'; // 大件垃圾清运处置
const year = Number(new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' }).slice(0, 4));

let server;
let browser;
const jsErrors = [];
// Chromium logs every 4xx answer; the ones a test provokes on purpose are not errors of the page.
const provoked = new Set();
const tokens = {};
const ids = {};

async function call(method, path, { who, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (who) headers.Authorization = `Bearer ${tokens[who]}`;
  if (method !== 'GET') headers['Idempotency-Key'] = crypto.randomUUID();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function login(who, username) {
  const s = await call('POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } });
  tokens[who] = s.access_token;
  ids[who] = s.user?.id;
}

async function newPage() {
  const ctx = await desktop(browser);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => jsErrors.push(`${page.url()}: ${e}`));
  page.on('console', (m) => {
    const from = m.location()?.url || '';
    const expected = [...provoked].some((u) => from.endsWith(u)) && /status of 4\d\d/.test(m.text());
    if (m.type() === 'error' && !expected) jsErrors.push(`${page.url()}: ${m.text()} ${from}`);
  });
  return page;
}

async function consoleLogin(page, username) {
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-test=login]');
  await page.waitForURL(/\/console\/(workbench|lines)/);
}

async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300);
}

/** assessed files a case as the demo resident and takes it to 已评估 with estimateFen. */
async function assessed(title, address, estimateFen) {
  let c = await call('POST', '/api/v1/cases', { who: 'resident', body: {
    area: 'CG', title, description: `${address}楼道里堆着旧家具和床垫，请求清运`, community: COMM, address, households: 12 } });
  c = await call('POST', `/api/v1/cases/${c.id}/accept`, { who: 'staff', body: { version: c.version } });
  c = await call('POST', `/api/v1/cases/${c.id}/assign`, { who: 'staff', body: { version: c.version, cadre_id: ids.cadre } });
  c = await call('POST', `/api/v1/cases/${c.id}/assess`, { who: 'cadre', body: { version: c.version, estimate_fen: estimateFen, households: 12, risk: 1 } });
  return c;
}

const line = (id) => call('GET', `/api/v1/budget/lines/${id}`, { who: 'finance' });

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  await login('staff', SUB);
  await login('finance', 'finance');
  await login('cadre', COMM);
  await call('POST', '/api/v1/auth/otp', { body: { phone: '13800000001' } });
  tokens.resident = (await call('POST', '/api/v1/auth/otp/verify', { body: { phone: '13800000001', code: '123456' } })).access_token;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('staff bulk-link similar cases to one line: the preview shows what fits, the ledger rises by exactly their sum', async () => {
  const l = await call('POST', '/api/v1/budget/lines', { who: 'finance', body: {
    fiscal_year: year, sub_district: SUB, item_code: ITEM, project_name: '丰盛社区楼道大件垃圾集中清运', approved_fen: 1_000_000 } });
  // Three similar cases of 4,000 元 on a 10,000 元 line: two fit, whatever the order.
  const cs = [];
  for (const n of [3, 5, 7]) cs.push(await assessed(`丰盛社区${n}号楼楼道大件垃圾`, `丰盛胡同${n}号楼`, 400_000));

  const page = await newPage();
  await consoleLogin(page, SUB);
  await page.goto(`${server.url}/console/link`);
  await settle(page);
  await page.click('.page-title .el-switch');
  for (const c of cs) await page.locator('.el-table__row', { hasText: c.number }).locator('.el-checkbox').click();
  await page.click('[data-test=bulk-line]');
  await page.click(`.el-select-dropdown__item:has-text("丰盛社区楼道大件垃圾集中清运")`);
  const rows = page.locator('[data-test=bulk-preview] .el-table__body .el-table__row');
  await rows.nth(2).waitFor();
  const text = await page.locator('[data-test=bulk-preview] .el-table__body').innerText();
  assert.equal((text.match(/可关联/g) || []).length, 2, 'two fit');
  assert.equal((text.match(/放不下/g) || []).length, 1, 'the third does not');
  assert.match(await page.locator('[data-test=bulk-summary]').innerText(), /可关联 2 件，合计 8,000\.00 元/);
  await shot(page, 'console-link-bulk-preview');

  const before = await line(l.id);
  await page.click('[data-test=bulk-link]');
  await page.locator('.el-message:has-text("已关联 2 件")').waitFor();
  const after = await line(l.id);
  assert.equal(after.committed_fen - before.committed_fen, 800_000, "the line's committed figure rose by exactly the two estimates");
  assert.equal(after.available_fen, before.available_fen - 800_000);
  const linked = [];
  for (const c of cs) {
    const got = await call('GET', `/api/v1/cases/${c.id}`, { who: 'staff' });
    if (got.budget?.line_id === l.id && got.budget.reserved_fen === 400_000) linked.push(got.number);
    else assert.equal(got.budget?.reserved_fen || 0, 0, `${got.number} holds no money`);
  }
  assert.equal(linked.length, 2, 'two cases hold 4,000 元 each');
  await settle(page);
  await shot(page, 'console-link-bulk-done');

  await page.goto(`${server.url}/console/lines/${l.id}`);
  await settle(page);
  assert.equal(await page.locator('[data-test=committed]').innerText(), '8,000.00');
  const reservations = await page.locator('.panel:has-text("资金预留") .el-table__body').innerText();
  for (const n of linked) assert.match(reservations, new RegExp(n), `reservations name ${n}`);
  await shot(page, 'console-line-after-bulk');
  await page.context().close();
});

test('finance adjusts a line (调增 / 调减 / 调剂 with reasons) and reviews it (事前 / 事中 / 事后)', async () => {
  const a = await call('POST', '/api/v1/budget/lines', { who: 'finance', body: { fiscal_year: year, sub_district: SUB, item_code: ITEM, project_name: '调整测试·胡同大件垃圾清运', approved_fen: 2_000_000 } });
  const b = await call('POST', '/api/v1/budget/lines', { who: 'finance', body: { fiscal_year: year, sub_district: SUB, item_code: ITEM, project_name: '调整测试·院落大件垃圾清运', approved_fen: 500_000 } });
  const page = await newPage();
  await consoleLogin(page, 'finance');
  await page.goto(`${server.url}/console/lines/${a.id}`);
  await settle(page);

  const dialog = page.locator('.el-dialog:has-text("预算调整")');
  async function adjust(kind, amount, reason, to) {
    await page.click('[data-test=adjust]');
    await dialog.waitFor();
    await dialog.locator(`.el-radio-button:has-text("${kind}")`).click();
    if (to) {
      await dialog.locator('.el-select').click();
      await page.click(`.el-select-dropdown__item:has-text("${to}")`);
    }
    await dialog.locator('.el-form-item:has-text("金额") input').fill(amount);
    await dialog.locator('textarea').fill(reason);
    if (kind === '调剂') await shot(page, 'console-line-adjust-dialog');
    await dialog.locator('button:has-text("提交")').click();
    await page.locator(`.el-message:has-text("${kind}")`).last().waitFor();
    await dialog.waitFor({ state: 'hidden' });
    await settle(page);
  }

  // A reason is required: the dialog says so and nothing is applied.
  await page.click('[data-test=adjust]');
  await dialog.locator('.el-form-item:has-text("金额") input').fill('100');
  await dialog.locator('button:has-text("提交")').click();
  await page.locator('.el-message:has-text("请填写调整理由")').waitFor();
  await dialog.locator('button:has-text("取消")').click();
  assert.equal((await line(a.id)).adjusted_fen, 0, 'nothing applied without a reason');

  await adjust('调增', '3000', '第二季度清运量增加，追加预算');
  assert.equal((await line(a.id)).adjusted_fen, 300_000);
  assert.equal(await page.locator('[data-test=adjusted]').innerText(), '3,000.00');
  await adjust('调减', '500', '部分胡同改由物业清运');
  assert.equal((await line(a.id)).adjusted_fen, 250_000);
  assert.equal(await page.locator('[data-test=adjusted]').innerText(), '2,500.00');
  await adjust('调剂', '1200.50', '院落清运缺口，结余调剂', '调整测试·院落大件垃圾清运');
  const [la, lb] = [await line(a.id), await line(b.id)];
  assert.equal(la.adjusted_fen, 129_950, '3,000 − 500 − 1,200.50 元');
  assert.equal(lb.adjusted_fen, 120_050, 'the recipient gained 1,200.50 元');
  assert.equal(la.available_fen, 2_000_000 + 129_950);
  assert.equal(await page.locator('[data-test=adjusted]').innerText(), '1,299.50');
  assert.equal(await page.locator('.panel:has-text("调整与评审") .el-table').first().locator('.el-table__row').count(), 3);
  const adjRows = await page.locator('.panel:has-text("调整与评审") .el-table').first().locator('.el-table__body').innerText();
  for (const reason of ['追加预算', '改由物业清运', '结余调剂']) assert.match(adjRows, new RegExp(reason), `the adjustments table shows the reason ${reason}`);
  assert.match(adjRows, /调往「调整测试·院落大件垃圾清运」/, 'a 调剂 names the line the money went to');
  const audit = await page.locator('.panel:has-text("资金流水") .el-table__body').innerText();
  for (const reason of ['追加预算', '改由物业清运', '结余调剂']) assert.match(audit, new RegExp(reason), `the audit shows the reason ${reason}`);

  const rdialog = page.locator('.el-dialog:has-text("项目评审")');
  for (const [stage, note] of [['事前', '立项依据充分，测算合理'], ['事中', '已清运 40 吨，进度正常'], ['事后', '居民满意，资金执行率 96%']]) {
    await page.click('[data-test=review]');
    await rdialog.waitFor();
    await rdialog.locator(`.el-radio-button:has-text("${stage}")`).click();
    await rdialog.locator('textarea').fill(note);
    if (stage === '事中') await shot(page, 'console-line-review-dialog');
    await rdialog.locator('button:has-text("提交")').click();
    await page.locator(`.el-message:has-text("${stage}评审意见已记录")`).waitFor();
    await rdialog.waitFor({ state: 'hidden' });
    await settle(page);
  }
  const notes = (await line(a.id)).review_notes || [];
  assert.deepEqual(notes.map((n) => n.stage), ['before', 'during', 'after']);
  const reviews = await page.locator('.panel:has-text("调整与评审") .el-table').nth(1).locator('.el-table__body').innerText();
  for (const s of ['事前评审', '事中评审', '事后评审']) assert.match(reviews, new RegExp(s));
  await shot(page, 'console-line-adjusted-reviewed');
  await page.context().close();
});

test('资金不足 comes from the server; a stored preview reopens from 历史运行 and commits', async () => {
  const page = await newPage();
  await consoleLogin(page, SUB);
  await settle(page);
  const q = await call('GET', `/api/v1/allocation/shortfalls?year=${year}&limit=100`, { who: 'staff' });
  assert.equal(await page.locator('[data-queue=short] .n').innerText(), String(q.total), 'the card shows the server count');
  await page.click('[data-queue=short]');
  await page.locator('[data-test=short-queue]').waitFor();
  if (q.items.length) assert.match(await page.locator('[data-test=short-queue] .el-table__body').innerText(), new RegExp(q.items[0].number));
  await shot(page, 'console-workbench-short');

  await page.goto(`${server.url}/console/allocation`);
  await settle(page);
  await page.click('.el-tabs__item:has-text("分配运行")');
  await page.click('[data-test=preview]');
  await page.locator('[data-test=run-result] h3:has-text("已保存")').waitFor();
  const previews = (await call('GET', `/api/v1/allocation/runs?year=${year}&kind=preview`, { who: 'staff' })).items;
  assert.equal(previews.length, 1, 'the preview is stored');
  const stored = await call('GET', `/api/v1/allocation/runs/${previews[0].run_id}`, { who: 'staff' });
  assert.equal(stored.dry_run, true);

  // Reload: the preview is in 历史运行, marked 预览, beside the demo's committed run.
  await page.reload();
  await settle(page);
  await page.click('.el-tabs__item:has-text("历史运行")');
  const table = page.locator('[data-test=runs-table] .el-table__body');
  await table.locator('.el-table__row').first().waitFor();
  const listed = await table.innerText();
  assert.match(listed, /预览/);
  assert.match(listed, /已执行/);
  await shot(page, 'console-allocation-runs-with-previews');
  await table.locator('.el-table__row', { hasText: '预览' }).first().locator('button:has-text("查看")').click();
  await page.locator('[data-test=run-result] h3:has-text("预览")').waitFor();
  assert.match(await page.locator('[data-test=run-result] h3').innerText(), new RegExp(`获资助 ${stored.funded_cases} 件`));
  await shot(page, 'console-allocation-old-preview');
  const beforeRuns = (await call('GET', `/api/v1/allocation/runs?year=${year}&kind=committed`, { who: 'staff' })).items.length;
  await page.click('[data-test=commit]');
  await page.click('.el-message-box button:has-text("确认分配")');
  await page.locator('[data-test=run-result] h3:has-text("已执行的分配")').waitFor();
  const committed = (await call('GET', `/api/v1/allocation/runs?year=${year}&kind=committed`, { who: 'staff' })).items;
  assert.equal(committed.length, beforeRuns + 1);
  assert.equal(committed[0].from_preview, stored.run_id, 'the run commits the reopened preview');
  await shot(page, 'console-allocation-committed-from-preview');

  // A preview whose lines moved before it is committed: the server refuses, the console offers to preview again.
  await page.click('[data-test=preview]');
  await page.locator('[data-test=run-result] h3:has-text("已保存")').waitFor();
  const stale = (await call('GET', `/api/v1/allocation/runs?year=${year}&kind=preview`, { who: 'staff' })).items[0];
  // Finance opens a new line of the sub-district after the preview: its money is an input the preview did not see.
  await call('POST', '/api/v1/budget/lines', { who: 'finance', body: { fiscal_year: year, sub_district: SUB, item_code: ITEM, project_name: '预览后新增·大件垃圾清运', approved_fen: 300_000 } });
  provoked.add('/api/v1/allocation/runs');
  await page.click('[data-test=commit]');
  await page.click('.el-message-box button:has-text("确认分配")');
  const box = page.locator('.el-message-box:has-text("预览已过期")');
  await box.waitFor();
  assert.match(await box.innerText(), /请重新预览/);
  await shot(page, 'console-allocation-stale-preview');
  const committedBefore = (await call('GET', `/api/v1/allocation/runs?year=${year}&kind=committed`, { who: 'staff' })).items.length;
  await box.locator('button:has-text("重新预览")').click();
  await page.waitForFunction(() => {
    const h = document.querySelector('[data-test=run-result] h3');
    return h && h.textContent.includes('已保存') && !document.querySelector('.el-message-box:not([style*="display: none"])');
  });
  await settle(page);
  const fresh = (await call('GET', `/api/v1/allocation/runs?year=${year}&kind=preview`, { who: 'staff' })).items[0];
  assert.notEqual(fresh.run_id, stale.run_id, 'a new preview was stored');
  assert.equal((await call('GET', `/api/v1/allocation/runs?year=${year}&kind=committed`, { who: 'staff' })).items.length, committedBefore, 'the stale preview committed nothing');
  await page.context().close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(jsErrors, []);
});
