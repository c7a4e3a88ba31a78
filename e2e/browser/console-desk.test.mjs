// The console's desk tools on the demo district, at 1440×900 and 1366×768:
// sub-district staff select several cases in 诉求 and 批量受理 them while
// one was changed by someone else after the list was read — that one is
// listed with the server's reason, the others are accepted exactly once;
// the case page prints its 案件处理单 (print media, and a PDF on A4); the
// list exports every page with its filters from the server (CSV and
// XLSX, parsed back).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, launch, shot, screenshotDir } from './harness.mjs';
import { readXlsx } from './xlsx.mjs';

const SUB = 'xichanganjie';
const COMM = 'xichanganjie-liubukou';
const PASSWORD = 'desk-test-pass-1';
const TAG = '桌面批量测试';

let server;
let browser;
const tokens = {};
const filed = [];

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

async function login(who, username, password) {
  tokens[who] = (await call('POST', '/api/v1/auth/login', { body: { username, password } })).access_token;
}

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  try {
    await login('admin', 'admin', 'minsheng-demo');
  } catch {
    await login('admin', 'admin', 'admin-browser-test-1');
  }
  await call('POST', '/api/v1/users', { who: 'admin', body: { username: 'desk-staff', password: PASSWORD, name: '吴街道', role: 'subdistrict', scope: SUB } });
  await login('staff', 'desk-staff', PASSWORD);
  for (let i = 1; i <= 4; i++) {
    filed.push(await call('POST', '/api/v1/cases', { body: {
      area: 'CG', title: `${TAG} ${i} 号楼楼道灯不亮`, description: `${i}号楼二单元楼道灯坏了一个月，晚上上下楼看不见`, community: COMM,
      address: `六部口${i}号楼`, contact_name: '郑居民', contact_phone: '13900002222', households: 8 + i } }));
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function staffPage(viewport) {
  const ctx = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', 'desk-staff');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-test=login]');
  await page.waitForURL(/\/console\/workbench/);
  return { page, errors };
}

async function listMine(page) {
  await page.goto(`${server.url}/console/cases`);
  await page.fill('input[data-test=case-search]', TAG);
  await page.press('input[data-test=case-search]', 'Enter');
  await page.locator('.el-table__body .el-table__row').nth(3).waitFor();
}

test('批量受理: one case changed meanwhile is listed with its reason, the others accepted once', async () => {
  const { page, errors } = await staffPage({ width: 1440, height: 900 });
  await listMine(page);
  assert.equal(await page.locator('.el-table__body .el-table__row').count(), 4);
  // Someone else accepts case 3 after the list was read.
  const stale = filed[2];
  await call('POST', `/api/v1/cases/${stale.id}/accept`, { who: 'staff', body: { version: stale.version } });

  await page.locator('.el-table__header .el-checkbox').first().click();
  await page.locator('[data-test=bulk-bar]').waitFor();
  assert.match(await page.locator('[data-test=bulk-bar]').innerText(), /已选 4 件/);
  await page.click('[data-bulk=accept]');
  await page.fill('textarea[data-test=bulk-note]', '统一受理，转社区核实');
  await shot(page, 'desk-bulk-dialog-1440');
  await page.click('[data-test=bulk-confirm]');
  const result = page.locator('[data-test=bulk-result]');
  await result.waitFor();
  assert.match(await result.innerText(), /成功 3 件，失败 1 件/);
  const failures = await page.locator('[data-test=bulk-failures] .el-table__body .el-table__row').allInnerTexts();
  assert.equal(failures.length, 1);
  assert.ok(failures[0].includes(stale.number) && failures[0].includes(`${TAG} 3`), failures[0]);
  assert.ok(failures[0].includes('数据已被他人修改，请刷新后重试'), failures[0]);
  await shot(page, 'desk-bulk-result-1440');
  await page.click('[data-test=bulk-close]');
  // The list shows the accepted cases without a reload.
  const rows = await page.locator('.el-table__body .el-table__row').allInnerTexts();
  for (const c of filed.filter((x) => x !== stale)) {
    assert.ok(rows.find((r) => r.includes(c.number))?.includes('已受理'), `${c.number} shown accepted: ${rows.join('\n')}`);
  }
  await shot(page, 'desk-bulk-list-1440');

  for (const c of filed) {
    const got = await call('GET', `/api/v1/cases/${c.id}`, { who: 'staff' });
    assert.equal(got.status, 'accepted', c.number);
    assert.equal(got.timeline.filter((e) => e.action === 'accept').length, 1, `${c.number} accepted once`);
  }
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('打印处理单: the print sheet alone on A4, with request, steps and actors', async () => {
  const { page, errors } = await staffPage({ width: 1366, height: 768 });
  const c = filed[0];
  await page.goto(`${server.url}/console/cases/${c.id}`);
  await page.locator('[data-test=print]').waitFor();
  assert.equal(await page.locator('[data-test=print-sheet]').isVisible(), false, 'hidden on screen');
  await shot(page, 'desk-case-detail-1366');
  await page.emulateMedia({ media: 'print' });
  const sheet = page.locator('[data-test=print-sheet]');
  assert.ok(await sheet.isVisible(), 'shown when printing');
  assert.equal(await page.locator('.shell-aside').isVisible(), false, 'no menu on paper');
  assert.equal(await page.locator('[data-test=case-actions]').isVisible(), false, 'no buttons on paper');
  const text = await sheet.innerText();
  for (const want of ['案件处理单', c.number, `${TAG} 1 号楼楼道灯不亮`, '二单元楼道灯坏了一个月', '办理过程', '受理', '吴街道', '统一受理，转社区核实', '办理前', '经办人（签字）']) {
    assert.ok(text.includes(want), `the sheet shows ${want}`);
  }
  assert.match(text, /登记时间\s+\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/, 'times in full');
  await shot(page, 'desk-print-1366');
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  fs.writeFileSync(`${screenshotDir}/desk-print.pdf`, pdf);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('导出: the server export with the list filters, every row, CSV and XLSX', async () => {
  const { page, errors } = await staffPage({ width: 1366, height: 768 });
  await listMine(page);
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-csv]')]);
  assert.match(csvDl.suggestedFilename(), /^诉求导出-\d{8}-\d{4}\.csv$/);
  const text = fs.readFileSync(await csvDl.path(), 'utf8');
  assert.ok(text.startsWith('\ufeff'));
  const lines = text.slice(1).trim().split('\r\n');
  assert.equal(lines.length, 5, 'header and the 4 cases the filter keeps');
  assert.ok(lines[0].startsWith('编号,标题,状态'), lines[0]);
  for (const c of filed) assert.ok(text.includes(c.number), c.number);
  assert.ok(!text.includes('13900002222') && !text.includes('郑居民'), 'no personal data');

  const [xDl] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-xlsx]')]);
  assert.match(xDl.suggestedFilename(), /\.xlsx$/);
  const sheets = readXlsx(fs.readFileSync(await xDl.path()));
  const sheet = sheets['诉求'];
  assert.ok(sheet, `sheets ${Object.keys(sheets)}`);
  assert.equal(sheet.A1.value, '编号');
  const numbers = Object.entries(sheet).filter(([k]) => /^A\d+$/.test(k) && k !== 'A1').map(([, v]) => v.value);
  assert.deepEqual(numbers.sort(), filed.map((c) => c.number).sort());
  assert.equal(typeof sheet.H2.value, 'number', 'households is a number');
  await shot(page, 'desk-export-1366');
  assert.deepEqual(errors, []);
  await page.context().close();
});
