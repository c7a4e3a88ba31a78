// CSV (formula) injection through the console's exports, in desktop
// Chromium on the demo district: an anonymous resident files a case titled
// =HYPERLINK("http://x","点我"); it is accepted, assessed and classified
// (API); then sub-district staff download 诉求列表.csv (诉求) and the
// priority CSV (资金分配 → 优先级) from the console, and the title cell of
// each starts with ' so a spreadsheet shows it as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, launch, desktop } from './harness.mjs';

const SUB = 'xichanganjie'; // the demo files no cases here, so ours is the only one
const COMM = 'xichanganjie-liubukou';
const ITEM = 'CG-01-02'; // 大件垃圾清运处置
const PASSWORD = 'csv-test-pass-1';
const TITLE = '=HYPERLINK("http://x","点我")';
const year = Number(new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' }).slice(0, 4));

let server;
let browser;
const tokens = {};
const ids = {};
const jsErrors = [];
let filed;

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
  const s = await call('POST', '/api/v1/auth/login', { body: { username, password } });
  tokens[who] = s.access_token;
  ids[who] = s.user?.id;
}

/** parseCSV reads RFC 4180 text (after the BOM) into rows of fields. */
function parseCSV(text) {
  assert.ok(text.startsWith('\ufeff'), 'the file starts with a BOM');
  const s = text.slice(1);
  const rows = [[]];
  let field = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') field += s[i++];
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') rows.at(-1).push(field), (field = '');
    else if (ch === '\r' && s[i + 1] === '\n') rows.at(-1).push(field), (field = ''), rows.push([]), i++;
    else field += ch;
  }
  rows.at(-1).push(field);
  return rows;
}

/** download clicks the button and returns the saved file's name and rows. */
async function download(page, button) {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const text = fs.readFileSync(await dl.path(), 'utf8');
  return { name: dl.suggestedFilename(), text, rows: parseCSV(text) };
}

/** titleCell finds the row of the filed case (by number) and returns its 标题 field. */
function titleCell(rows) {
  const [header, ...body] = rows;
  const number = header.indexOf('编号');
  const title = header.indexOf('标题');
  assert.ok(number >= 0 && title >= 0, `header ${header}`);
  const row = body.find((r) => r[number] === filed.number);
  assert.ok(row, `a row for ${filed.number} in ${JSON.stringify(rows)}`);
  return row[title];
}

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  // The demo's admin keeps the demo password; a data dir seeded with
  // MINSHENG_ADMIN_PASSWORD set keeps that one.
  try {
    await login('admin', 'admin', 'minsheng-demo');
  } catch {
    await login('admin', 'admin', 'admin-browser-test-1');
  }
  for (const [who, role, scope, name] of [
    ['staff', 'subdistrict', SUB, '钱街道'], ['cadre', 'cadre', COMM, '孙社区'], ['finance', 'finance', '', '周财政'],
  ]) {
    await call('POST', '/api/v1/users', { who: 'admin', body: { username: `csv-${who}`, password: PASSWORD, name, role, scope } });
    await login(who, `csv-${who}`, PASSWORD);
  }
  // A line of the item, so the classified case is placed and ranked.
  await call('POST', '/api/v1/budget/lines', { who: 'finance', body: { fiscal_year: year, sub_district: SUB, item_code: ITEM, project_name: '大件垃圾清运（西长安街）', approved_fen: 10_000_000 } });

  // Filed anonymously: no token at all.
  filed = await call('POST', '/api/v1/cases', { body: {
    area: 'CG', title: TITLE, description: '楼道里堆了旧沙发，请清运', community: COMM,
    address: '六部口5号楼', contact_name: '匿名', contact_phone: '13900001111', households: 10 } });
  assert.ok(filed.tracking_token, 'an anonymous filing gets a tracking token');
  assert.equal(filed.title, TITLE, 'the server keeps the title as typed');
  let c = await call('POST', `/api/v1/cases/${filed.id}/accept`, { who: 'staff', body: { version: filed.version } });
  c = await call('POST', `/api/v1/cases/${filed.id}/assign`, { who: 'staff', body: { version: c.version, cadre_id: ids.cadre } });
  c = await call('POST', `/api/v1/cases/${filed.id}/assess`, { who: 'cadre', body: { version: c.version, estimate_fen: 300_000, households: 10, risk: 1, note: '需清运一次' } });
  await call('POST', `/api/v1/cases/${filed.id}/catalog-item`, { who: 'staff', body: { version: c.version, item_code: ITEM } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function staffPage() {
  const ctx = await desktop(browser);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => jsErrors.push(`${page.url()}: ${e}`));
  await page.goto(`${server.url}/console/login`);
  await page.fill('input[name=username]', 'csv-staff');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('[data-test=login]');
  await page.waitForURL(/\/console\/workbench/);
  return page;
}

test('诉求列表.csv: a formula title starts with \'', async () => {
  const page = await staffPage();
  await page.goto(`${server.url}/console/cases`);
  await page.locator(`.el-table__row:has-text("${filed.number}")`).waitFor();
  const { name, text, rows } = await download(page, page.locator('[data-test=export-csv]'));
  assert.match(name, /^诉求导出-\d{8}-\d{4}\.csv$/, 'the server export (GET /api/v1/cases/export)');
  assert.equal(titleCell(rows), `'${TITLE}`);
  assert.ok(text.includes(`"'=HYPERLINK(""http://x"",""点我"")"`), 'the cell is quoted with its quotes doubled');
  assert.ok(rows.every((r) => r.every((f) => !/^[=+@\t\r]/.test(f))), 'no field starts a formula');
  await page.context().close();
});

test('优先级 CSV: a formula title starts with \'', async () => {
  const page = await staffPage();
  await page.goto(`${server.url}/console/allocation`);
  await page.locator(`.el-table__row:has-text("${filed.number}")`).first().waitFor();
  const { name, rows } = await download(page, page.locator('.el-tab-pane:visible .toolbar button:has-text("导出")'));
  assert.equal(name, `优先级-${year}.csv`);
  assert.equal(titleCell(rows), `'${TITLE}`);
  assert.ok(rows.every((r) => r.every((f) => !/^[=+@\t\r]/.test(f))), 'no field starts a formula');
  await page.context().close();
});

test('no JavaScript error on the way', () => {
  assert.deepEqual(jsErrors, []);
});
