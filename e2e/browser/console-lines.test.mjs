// Issue 23 items 4 and 12, in Debian Chromium on the demo district:
// - 预算项目 (console, 1440×900 and 1366×768) groups the district's lines by
//   sub-district in the district's order and sorts by a column on the server
//   (the list is paged); its XLSX starts with Chinese columns, has 调整（元）
//   and a 合计 row summed exactly from fen;
// - the public board and the console name the same sum with the same word
//   (已预留) and show the same figure;
// - a reservation spent for less than it held shows what was spent and what
//   was released, not the reservation;
// - every money event names who did it: the staff member and role on the
//   console, the cadre app and the tracking page, never 匿名居民 or a bare 预算.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, launch, desktop, phone, shot } from './harness.mjs';
import { readXlsx } from './xlsx.mjs';

const SUB = 'jinrongjie';
const COMM = 'jinrongjie-fengsheng';
const ITEM = 'CG-01-02'; // 大件垃圾清运处置
const PASSWORD = 'lines-test-pass-1';
const LINE_NAME = '大件垃圾清运处置（丰盛社区专项）';
const STAFF_LABEL = '王芳（街道工作人员）';
const year = Number(new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' }).slice(0, 4));

let server;
let browser;
const tokens = {};
const ids = {};
const jsErrors = [];
let filed;
let lineId;

async function call(method, path, { who, body, form } = {}) {
  const headers = { Accept: 'application/json' };
  if (who) headers.Authorization = `Bearer ${tokens[who]}`;
  if (method !== 'GET') headers['Idempotency-Key'] = crypto.randomUUID();
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(server.url + path, { method, headers, body: payload });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function login(who, username, password) {
  const s = await call('POST', '/api/v1/auth/login', { body: { username, password } });
  tokens[who] = s.access_token;
  ids[who] = s.user?.id;
}

/** allLines follows the cursor through every line of the year. */
async function allLines(who, extra = '') {
  const out = [];
  let cursor = '';
  do {
    const page = await call('GET', `/api/v1/budget/lines?year=${year}&limit=100${extra}&cursor=${encodeURIComponent(cursor)}`, { who });
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

function watchErrors(page) {
  page.on('pageerror', (e) => jsErrors.push(`${page.url()}: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') jsErrors.push(`${page.url()}: ${m.text()}`); });
}

// Each account signs in through the form once; later pages reuse its
// session (sign-ins are rate limited per user and address).
const sessions = {};

async function consolePage(who, viewport) {
  const ctx = sessions[who]
    ? await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', storageState: sessions[who] })
    : await desktop(browser);
  const page = await ctx.newPage();
  if (viewport) await page.setViewportSize(viewport);
  watchErrors(page);
  if (sessions[who]) return page;
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', `xl-${who}`);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-test=login]');
  await page.waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: 60000 });
  sessions[who] = await ctx.storageState();
  return page;
}

async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300);
}

const fen = (text) => {
  const m = /^(-?)([\d,]+)\.(\d\d)(?:\s*元)?$/.exec(text.trim());
  assert.ok(m, `an amount: ${text}`);
  return (m[1] ? -1 : 1) * (Number(m[2].replace(/,/g, '')) * 100 + Number(m[3]));
};

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  try {
    await login('admin', 'admin', 'minsheng-demo');
  } catch {
    await login('admin', 'admin', 'admin-browser-test-1');
  }
  for (const [who, role, scope, name] of [
    ['staff', 'subdistrict', SUB, '王芳'], ['cadre', 'cadre', COMM, '赵干部'], ['finance', 'finance', '', '周财政'],
  ]) {
    await call('POST', '/api/v1/users', { who: 'admin', body: { username: `xl-${who}`, password: PASSWORD, name, role, scope } });
    await login(who, `xl-${who}`, PASSWORD);
  }
  const p = await browser.newPage();
  const b64 = await p.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 240;
    const g = c.getContext('2d');
    g.fillStyle = '#6b7b5a';
    g.fillRect(0, 0, 320, 240);
    return c.toDataURL('image/jpeg', 0.8).split(',')[1];
  });
  await p.close();

  // A line, and an anonymous filing linked to it by 王芳 at 48,000.00 元 and
  // completed by the cadre at 46,500.00 元.
  lineId = (await call('POST', '/api/v1/budget/lines', { who: 'finance', body: { fiscal_year: year, sub_district: SUB, item_code: ITEM, project_name: LINE_NAME, approved_fen: 10_000_000 } })).id;
  filed = await call('POST', '/api/v1/cases', { body: {
    area: 'CG', title: '丰盛胡同旧家具堆放清运', description: '丰盛胡同12号院门口堆了旧家具和床垫，已经两个月', community: COMM,
    address: '丰盛胡同12号院', contact_name: '匿名', contact_phone: '13900002222', households: 12 } });
  let c = await call('POST', `/api/v1/cases/${filed.id}/accept`, { who: 'staff', body: { version: filed.version } });
  c = await call('POST', `/api/v1/cases/${filed.id}/assign`, { who: 'staff', body: { version: c.version, cadre_id: ids.cadre } });
  c = await call('POST', `/api/v1/cases/${filed.id}/assess`, { who: 'cadre', body: { version: c.version, estimate_fen: 4_800_000, households: 12, risk: 1, note: '需清运车两次' } });
  c = await call('POST', `/api/v1/cases/${filed.id}/catalog-item`, { who: 'staff', body: { version: c.version, item_code: ITEM } });
  await call('POST', `/api/v1/cases/${filed.id}/budget-link`, { who: 'staff', body: { line_id: lineId, estimate_fen: 4_800_000 } });
  c = await call('GET', `/api/v1/cases/${filed.id}`, { who: 'cadre' });
  c = await call('POST', `/api/v1/cases/${filed.id}/start`, { who: 'cadre', body: { version: c.version } });
  const form = new FormData();
  form.append('tag', 'after');
  form.append('photo', new Blob([Buffer.from(b64, 'base64')], { type: 'image/jpeg' }), 'after.jpg');
  await call('POST', `/api/v1/cases/${filed.id}/photos`, { who: 'cadre', form });
  c = await call('GET', `/api/v1/cases/${filed.id}`, { who: 'cadre' });
  await call('POST', `/api/v1/cases/${filed.id}/complete`, { who: 'cadre', body: { version: c.version, actual_cost_fen: 4_650_000, note: '已清运' } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(jsErrors, [], 'no page logged a JavaScript error');
});

for (const viewport of [{ width: 1440, height: 900 }, { width: 1366, height: 768 }]) {
  test(`预算项目 at ${viewport.width}×${viewport.height}: grouped by sub-district in the district's order, sorted by a column on the server`, async () => {
    const page = await consolePage('finance', viewport);
    await page.goto(`${server.url}/console/lines`);
    await settle(page);
    const all = await allLines('finance');
    assert.equal(await page.locator('[data-test=line-count]').innerText(), `${all.length} 个项目`);
    const org = await call('GET', '/api/v1/org');
    const withLines = org.sub_districts.filter((s) => all.some((l) => l.sub_district === s.code));
    const groups = await page.locator('[data-test=line-group]').allInnerTexts();
    assert.deepEqual(groups.map((g) => g.replace(/（.*$/, '')), withLines.map((s) => s.name), 'one group per sub-district, in the district\'s order');
    for (const [i, s] of withLines.entries()) {
      assert.equal(groups[i], `${s.name}（${all.filter((l) => l.sub_district === s.code).length} 个项目）`);
    }
    await shot(page, `console-lines-grouped-${viewport.width}`);

    // Sorting asks the server (the list is paged): spent ascending, then descending, within each group.
    const header = page.locator('.el-table__header th', { hasText: '已支出（元）' });
    for (const [order, spec] of [['ascending', 'sub_district,spent_fen'], ['descending', 'sub_district,-spent_fen']]) {
      const [req] = await Promise.all([
        page.waitForRequest((r) => r.url().includes('/api/v1/budget/lines?') && new URL(r.url()).searchParams.get('sort') === spec),
        header.locator('.sort-caret.' + order).click(),
      ]);
      assert.ok(req, `asked the server for ${spec}`);
      await settle(page);
      // The first group's rows, as shown.
      const rows = page.locator('.el-table__body-wrapper tr.el-table__row--level-1');
      const firstSub = withLines[0];
      const n = all.filter((l) => l.sub_district === firstSub.code).length;
      const shown = [];
      for (let i = 0; i < n; i++) shown.push(fen(await rows.nth(i).locator('[data-col=spent_fen]').innerText()));
      const sorted = [...shown].sort((a, b) => (order === 'ascending' ? a - b : b - a));
      assert.deepEqual(shown, sorted, `${firstSub.name}'s lines by 已支出 ${order}`);
    }
    await shot(page, `console-lines-sorted-${viewport.width}`);
    await page.context().close();
  });
}

test('the lines XLSX: Chinese columns first, 元 as numbers, 调整（元）, an exact 合计 row', async () => {
  const page = await consolePage('finance');
  await page.goto(`${server.url}/console/lines`);
  await settle(page);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export]')]);
  assert.equal(dl.suggestedFilename(), `预算执行-${year}.xlsx`);
  const sheets = readXlsx(fs.readFileSync(await dl.path()));
  const s = sheets['预算项目'];
  assert.ok(s, `sheets ${Object.keys(sheets)}`);
  const header = [];
  for (let c = 0; c < 14; c++) header.push(s[String.fromCharCode(65 + c) + '1']?.value);
  assert.deepEqual(header.slice(0, 10), ['街道', '项目名称', '支出分类编码', '支出分类', '批复（元）', '调整（元）', '调整后预算（元）', '已预留（元）', '已支出（元）', '可用（元）']);
  assert.ok(!header.some((h) => /编码$/.test(h) && h !== '支出分类编码') && !header.some((h) => /（分）/.test(h)), `no machine columns: ${header}`);
  const all = await allLines('finance');
  const last = all.length + 2;
  assert.equal(s[`A${last}`]?.value, '合计', 'the row after the lines is 合计');
  const cols = { E: 'approved_fen', F: 'adjusted_fen', H: 'committed_fen', I: 'spent_fen', J: 'available_fen' };
  for (const [col, key] of Object.entries(cols)) {
    const cell = s[`${col}${last}`];
    assert.equal(cell.type, 'n', `${col}${last} is a number`);
    const want = all.reduce((t, l) => t + l[key], 0);
    assert.equal(Math.round(cell.value * 100), want, `合计 ${header[col.charCodeAt(0) - 65]} equals the lines' sum in fen`);
    let sum = 0;
    for (let r = 2; r < last; r++) sum += Math.round(s[`${col}${r}`].value * 100);
    assert.equal(sum, want, `the ${col} cells add up to the total`);
  }
  const mine = Object.entries(s).find(([, c]) => c.value === LINE_NAME);
  assert.ok(mine, 'the new line is exported');
  const r = mine[0].slice(1);
  assert.equal(s[`A${r}`].value, '金融街街道');
  assert.equal(s[`E${r}`].value, 100000);
  assert.equal(s[`I${r}`].value, 46500);
  assert.ok(sheets['导入格式'], 'the import columns are on their own sheet');
  await page.context().close();
});

test('the board and the console show the same committed figure under the same label', async () => {
  const page = await consolePage('staff');
  await page.goto(`${server.url}/console/lines`);
  await settle(page);
  const headers = await page.locator('.el-table__header th').allInnerTexts();
  const col = headers.findIndex((h) => h.trim() === '已预留（元）');
  assert.ok(col >= 0, `a 已预留（元） column: ${headers}`);
  const consoleValue = (await page.locator('.el-table__footer td').nth(col).innerText()).trim();
  const lines = await allLines('staff');
  assert.equal(fen(consoleValue), lines.reduce((t, l) => t + l.committed_fen, 0), 'the console total is the lines\' sum');
  await shot(page, 'console-lines-staff-committed');

  const ctx = await phone(browser);
  const board = await ctx.newPage();
  watchErrors(board);
  await board.goto(`${server.url}/gongkai?sub_district=${SUB}`);
  const cell = board.locator('[data-figure=committed_fen]');
  await cell.locator('.van-cell__title').getByText('已预留', { exact: true }).waitFor();
  assert.equal((await cell.locator('.van-cell__title > span').innerText()).trim(), '已预留', 'the same word as the console');
  assert.equal(fen(await cell.locator('.van-cell__value').innerText()), fen(consoleValue), 'the same figure as the console');
  assert.equal(await board.getByText('已安排').count(), 0, 'the board no longer says 已安排');
  await shot(board, 'site-board-committed');
  await ctx.close();
  await page.context().close();
});

test('a spent reservation shows what was spent and what was released; the audit names who moved the money', async () => {
  const page = await consolePage('finance');
  await page.goto(`${server.url}/console/lines/${lineId}`);
  await settle(page);
  assert.equal(await page.locator('[data-test=reservation-amount]').innerText(), '46,500.00');
  assert.equal(await page.locator('[data-test=reservation-detail]').innerText(), '预留 48,000.00 · 释放 1,500.00');
  assert.equal(await page.locator('[data-test=reservation-state]').innerText(), '已支出');
  const actors = await page.locator('[data-test=audit-actor]').allInnerTexts();
  assert.ok(actors.includes(STAFF_LABEL) && actors.includes('赵干部（社区干部）'), `audit actors: ${actors}`);
  await shot(page, 'console-line-spent-reservation');
  await page.context().close();
});

test('money events name who acted: console, cadre app and tracking page', async () => {
  // Console: the case's 办理过程.
  const page = await consolePage('staff');
  await page.goto(`${server.url}/console/cases/${filed.id}`);
  await settle(page);
  const item = page.locator('.el-timeline-item', { hasText: '关联预算项目' });
  assert.match(await item.locator('[data-test=event-actor]').innerText(), new RegExp(STAFF_LABEL.replace(/[()（）]/g, '.')));
  await shot(page, 'console-case-money-actor');
  await page.context().close();

  // The cadre app on a phone.
  const ctx = await phone(browser);
  const m = await ctx.newPage();
  watchErrors(m);
  await m.goto(`${server.url}/m/`);
  await m.getByPlaceholder('街道为您开设的账号').fill('xl-cadre');
  await m.getByPlaceholder('密码', { exact: true }).fill(PASSWORD);
  await m.locator('[data-test=login]').click();
  await m.getByText('我的待办', { exact: true }).first().waitFor();
  await m.goto(`${server.url}/m/case/${filed.id}`);
  const steps = m.locator('[data-test=timeline-step]');
  await steps.first().waitFor();
  const texts = await steps.allInnerTexts();
  assert.ok(texts.some((t) => t.includes(`${STAFF_LABEL} · 预算`)), `a budget step by ${STAFF_LABEL}: ${texts.join(' | ')}`);
  assert.ok(!texts.some((t) => /匿名居民 · 预算|notify/.test(t)), `no anonymous or English actor: ${texts.join(' | ')}`);
  await m.locator('[data-test=timeline-step]', { hasText: STAFF_LABEL }).first().scrollIntoViewIfNeeded();
  await shot(m, 'cadre-case-money-actor');
  await ctx.close();

  // The tracking page of the anonymous filer.
  const rctx = await phone(browser);
  const site = await rctx.newPage();
  watchErrors(site);
  await site.goto(`${server.url}/track#number=${encodeURIComponent(filed.number)}&token=${encodeURIComponent(filed.tracking_token)}`);
  await site.getByText('预算安排').first().waitFor();
  const body = await site.locator('body').innerText();
  assert.ok(body.includes(STAFF_LABEL), 'the tracking page names the staff member who arranged the money');
  assert.ok(!/预算安排\s*街道\b/.test(body), 'not a bare 街道');
  await site.getByText(STAFF_LABEL).first().scrollIntoViewIfNeeded();
  await shot(site, 'site-track-money-actor');
  await rctx.close();
});
