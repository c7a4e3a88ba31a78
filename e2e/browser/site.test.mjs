// The resident site (/) against the real server on the demo district
// (startServer({demo: true}), issue 12's "Must show"): the demo resident
// (13800000001, SMS code 123456 in demo mode) signs in, finds a similar
// demo case by a word and co-signs it, files a new one with a photo and
// the phone's position (which chooses the sub-district and community),
// follows it; the demo staff and cadre finish it through the API; the
// resident answers 满意 and sees 已评价, and the public board shows it
// funded and completed. An anonymous filer, whose position is outside the
// district, picks the community by hand, files, opens the tracking link in
// a fresh context and rates. No page logs a JavaScript error; every page
// is photographed into e2e/browser/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { devices } from 'playwright-core';
import { startServer, launch, phone, desktop, shot } from './harness.mjs';

// The demo's accounts (README, "Demo accounts"): 金融街's staff, 丰盛社区's
// cadre and the demo resident, who lives in 丰盛社区.
const COMMUNITY = 'jinrongjie-fengsheng';
const DEMO_PASSWORD = 'minsheng-demo';
const RESIDENT = '13800000001';
const RESIDENT_CODE = '123456';
let server;
let browser;
let org;
let sub;
let comm;
const errors = [];
const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));

async function call(method, path, { token, body, form, key } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['Idempotency-Key'] = key || `t-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const res = await fetch(server.url + path, { method, headers, body: form || (body !== undefined ? JSON.stringify(body) : undefined) });
  const text = await res.text();
  const out = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return out;
}

async function login(username) {
  return (await call('POST', '/api/v1/auth/login', { body: { username, password: DEMO_PASSWORD } })).access_token;
}

/** located is a phone context whose browser reports the given position. */
function located(b, latitude, longitude) {
  return b.newContext({
    ...devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    geolocation: { latitude, longitude, accuracy: 25 }, permissions: ['geolocation'],
  });
}

/** photoOf draws a JPEG in the page, so the upload is a real photo. */
async function photoOf(page, color) {
  const b64 = await page.evaluate((c) => {
    const cv = document.createElement('canvas');
    cv.width = 640;
    cv.height = 480;
    const g = cv.getContext('2d');
    g.fillStyle = c;
    g.fillRect(0, 0, 640, 480);
    g.fillStyle = '#fff';
    g.fillRect(100, 100, 200, 120);
    return cv.toDataURL('image/jpeg', 0.9).split(',')[1];
  }, color);
  return { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') };
}

function watch(page) {
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e}`));
  page.on('console', (m) => {
    // The refusal of a position outside the district is a 400 the page
    // expects and explains; the browser still logs the response.
    if (m.type() === 'error' && !m.location()?.url?.includes('/api/v1/org/locate?')) errors.push(`${page.url()}: ${m.text()} (${m.location()?.url})`);
  });
  return page;
}

let staff;
let cadre;
let cadreId;
let cadreName;
let lineId;

/** finish takes a case from submitted to completed as staff and cadre do. */
async function finish(id, afterPhoto) {
  let c = await call('GET', `/api/v1/cases/${id}`, { token: staff });
  c = await call('POST', `/api/v1/cases/${id}/accept`, { token: staff, body: { version: c.version, note: '已受理' } });
  c = await call('POST', `/api/v1/cases/${id}/catalog-item`, { token: staff, body: { version: c.version, item_code: 'SQ-05-04' } });
  await call('POST', `/api/v1/cases/${id}/budget-link`, { token: staff, body: { line_id: lineId, estimate_fen: 1200000 } });
  c = await call('GET', `/api/v1/cases/${id}`, { token: staff });
  c = await call('POST', `/api/v1/cases/${id}/assign`, { token: staff, body: { version: c.version, cadre_id: cadreId } });
  c = await call('POST', `/api/v1/cases/${id}/assess`, { token: cadre, body: { version: c.version, estimate_fen: 1200000, households: 12, risk: 2 } });
  c = await call('POST', `/api/v1/cases/${id}/start`, { token: cadre, body: { version: c.version } });
  const form = new FormData();
  form.append('tag', 'after');
  form.append('photo', new Blob([afterPhoto.buffer], { type: 'image/jpeg' }), 'after.jpg');
  await call('POST', `/api/v1/cases/${id}/photos`, { token: cadre, form });
  c = await call('GET', `/api/v1/cases/${id}`, { token: cadre });
  return call('POST', `/api/v1/cases/${id}/complete`, { token: cadre, body: { version: c.version, actual_cost_fen: 1150000 } });
}

async function pickCommunity(page) {
  await page.locator('.van-field', { hasText: '街道社区' }).click();
  await page.locator('.van-cascader__option', { hasText: sub.name }).first().click();
  await page.locator('.van-cascader__option', { hasText: comm.name }).first().click();
}

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  org = await call('GET', '/api/v1/org');
  sub = org.sub_districts.find((x) => x.communities.some((c) => c.code === COMMUNITY));
  comm = sub.communities.find((c) => c.code === COMMUNITY);
  staff = await login(sub.code);
  cadre = await login(COMMUNITY);
  ({ id: cadreId, name: cadreName } = await call('GET', '/api/v1/me', { token: cadre }));
  // The demo's 旱厕改造 line of 金融街, which has money left.
  const lines = await call('GET', `/api/v1/budget/lines?sub_district=${sub.code}&limit=100`, { token: staff });
  lineId = lines.items.find((l) => l.item_code === 'SQ-05-04' && l.available_fen >= 1200000).id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the demo resident signs in by SMS, co-signs a demo case, files from their position with a photo, follows it and rates it 满意; the board shows it', async () => {
  // The phone stands about 60 m from 丰盛社区's reference point.
  const ctx = await located(browser, comm.center.lat + 0.0005, comm.center.lng + 0.0002);
  const page = watch(await ctx.newPage());
  await page.goto(server.url + '/');
  await page.locator('[data-area="SQ"]').click();
  await page.locator('input[name="title"]').fill('旱厕');
  const similar = page.locator('[data-test="similar"]');
  await similar.waitFor();
  const offered = await similar.innerText();
  // The demo holds 旱厕 cases in several sub-districts now; any of them is a match.
  assert.match(offered, /旱厕/, 'a word of the title finds a demo case, with no area or community asked');
  await shot(page, 'site-file-similar');

  // +1 needs a sign-in: the demo resident's fixed code.
  const target = similar.locator('.similar-item', { hasText: '旱厕' }).first();
  const cosignedTitle = (await target.locator('.t').innerText()).trim();
  await target.locator('.cosign').click();
  await page.locator('.van-popup input[name="phone"]').fill(RESIDENT);
  await page.locator('.van-popup .send-code').click();
  await page.locator('.van-popup input[name="code"]').fill(RESIDENT_CODE);
  await shot(page, 'site-sign-in');
  await page.locator('.van-popup .sign-in').click();
  await page.locator('.cosign', { hasText: '已附议' }).waitFor();

  // Then files their own, with a photo; the position chooses the place.
  await page.locator('input[name="title"]').fill('院内公共厕所需要改造');
  await page.locator('textarea[name="description"]').fill('大杂院里的公共厕所是旱厕，十二户人家共用，冬天结冰夏天有味。');
  await page.locator('.use-location').click();
  const place = page.locator('input[name="community"]');
  await page.waitForFunction((want) => document.querySelector('input[name="community"]')?.value === want, `${sub.name} / ${comm.name}`);
  assert.equal(await place.inputValue(), `${sub.name} / ${comm.name}`, 'the position chose the sub-district and community');
  assert.match(await page.locator('.use-location').innerText(), /距社区约 \d+ 米/);
  await page.locator('input[name="address"]').fill('丰盛胡同12号院');
  await page.locator('.van-uploader input[type="file"]').first().setInputFiles(await photoOf(page, '#8a6d3b'));
  await page.locator('.van-uploader__preview').first().waitFor();
  await shot(page, 'site-file-filled');
  await page.locator('.submit').click();
  const number = (await page.locator('[data-test="case-number"]').innerText()).trim();
  assert.match(number, /^XC\d{4}-\d{6}$/);
  await shot(page, 'site-filed');
  await page.locator('.view-case').click();
  await page.locator('[data-test="status"]').waitFor();
  assert.equal((await page.locator('[data-test="status"]').innerText()).trim(), '待受理');
  await page.locator('.photos .van-image img').first().waitFor();
  assert.match(await page.locator('[data-test="office"]').innerText(), new RegExp(comm.office_phone), 'the community office phone is shown');
  await shot(page, 'site-case-submitted');

  // 我的诉求 lists the filed case, the co-signed demo case and the demo
  // resident's own earlier requests.
  await page.goto(server.url + '/mine');
  await page.locator('[data-test="my-case"]').nth(2).waitFor();
  const mine = await page.locator('[data-test="my-case"]').allInnerTexts();
  assert.ok(mine.some((t) => t.includes(number) && t.includes('我提交的')), mine.join('\n'));
  assert.ok(mine.some((t) => t.includes(cosignedTitle) && t.includes('我附议的')), mine.join('\n'));
  assert.ok(mine.some((t) => t.includes('10号院旱厕改造')), 'the demo resident\'s earlier case is listed');
  await shot(page, 'site-mine');

  // The demo staff and cadre finish it through the API.
  const { id } = await call('GET', `/api/v1/cases/number/${number}`, { token: staff });
  await finish(id, await photoOf(page, '#3b7a8a'));

  await page.goto(`${server.url}/mine/${id}`);
  await page.locator('[data-test="rating"]').waitFor();
  const detail = await page.locator('.page').innerText();
  assert.match(detail, new RegExp(cadreName), 'the handling cadre is named');
  assert.match(detail, new RegExp(comm.office_phone), 'with the community office phone');
  assert.equal(await page.locator('[data-test="office"] a').getAttribute('href'), `tel:${comm.office_phone}`);
  for (const m of detail.match(/1[3-9]\d{9}/g) || []) assert.equal(m, RESIDENT, `no personal phone but the resident's own: ${m}`);
  assert.match(detail, /短信通知/, 'the SMS notifications are in the timeline');
  await shot(page, 'site-case-completed');
  await page.locator('.v-satisfied').click();
  await page.locator('.r-yes').click();
  await page.locator('.submit-rating').click();
  await page.locator('[data-test="rated"]').waitFor();
  assert.equal((await page.locator('[data-test="status"]').innerText()).trim(), '已评价');
  await shot(page, 'site-case-rated');

  // The SMS went to the filer's phone with the case number, once per event.
  const sms = server.log.filter((l) => l.includes('sms (log sender)') && l.includes(RESIDENT) && l.includes(number));
  assert.equal(sms.filter((l) => l.includes('已受理')).length, 1, sms.join('\n'));
  assert.equal(sms.filter((l) => l.includes('已办结')).length, 1, sms.join('\n'));

  // The public board, signed out: funded and completed.
  const anon = watch(await (await phone(browser)).newPage());
  await anon.goto(`${server.url}/gongkai?sub_district=${sub.code}`);
  await shot(anon, 'site-board-top');
  // One fold per community: open 丰盛社区's unless it is the first.
  const fold = anon.locator(`[data-community="${COMMUNITY}"]`);
  await fold.waitFor();
  if (!(await fold.locator('[data-test="need"]').count())) await fold.locator('.van-collapse-item__title').click();
  const need = fold.locator('[data-test="need"]', { hasText: number });
  await need.waitFor();
  const text = await need.innerText();
  // The need's state in the server's words (status_label), as every case view names it.
  const { status_label: stateLabel } = await call('GET', `/api/v1/cases/${id}`, { token: staff });
  assert.ok(text.includes(stateLabel), `${stateLabel} in ${text}`);
  assert.match(text, /旱厕改造/, 'the catalog item is named');
  assert.match(text, /11,500\.00 元/, 'the money spent is shown');
  assert.doesNotMatch(await anon.locator('.page').innerText(), new RegExp(`${RESIDENT}|丰盛胡同12号院|${cadreName}`));
  await need.locator('.van-image img').first().waitFor();
  await shot(anon, 'site-board');

  // Issue 22 item 1: the board shows the very figures the console's 报表
  // shows for the sub-district (one definition, computed once in Go), with
  // the period and each definition stated beside them.
  await anon.reload();
  await anon.locator('[data-test=rates] [data-rate=response] .v').waitFor();
  const report = await call('GET', `/api/v1/reports/rates?from=${year}-01-01&to=${year + 1}-01-01`, { token: staff });
  const unit = report.sub_districts.find((u) => u.sub_district === sub.code);
  for (const key of ['response', 'resolution', 'satisfaction']) {
    const shown = (await anon.locator(`[data-test=rates] [data-rate=${key}]`).innerText()).replace(/\s+/g, ' ');
    assert.ok(shown.includes(unit[key].text) && shown.includes(`${unit[key].num} / ${unit[key].den}`), `${key}: board shows ${shown}, report ${JSON.stringify(unit[key])}`);
  }
  const notes = await anon.locator('[data-test=rate-notes]').innerText();
  assert.match(notes, /统计范围：登记于/);
  assert.match(notes, /响应率 = 按时响应的诉求 ÷ 应响应的诉求/);
  await shot(anon, 'site-board-rates');
  // The same sub-district's 报表 in the console, signed in as its staff:
  // the same texts and counts beside their definitions.
  const desk = watch(await (await desktop(browser)).newPage());
  await desk.goto(`${server.url}/console/login`);
  await desk.fill('input[name=username]', sub.code);
  await desk.fill('input[name=password]', DEMO_PASSWORD);
  await desk.click('[data-test=login]');
  await desk.waitForURL(/\/console\/workbench/);
  await desk.goto(`${server.url}/console/reports`);
  const row = desk.locator('[data-test=rates-table] .el-table__row').first();
  await row.waitFor();
  const rowText = (await row.innerText()).replace(/\s+/g, ' ');
  for (const key of ['response', 'resolution', 'satisfaction']) {
    assert.ok(rowText.includes(`${unit[key].text} ${unit[key].num}/${unit[key].den}`), `${key}: console row ${rowText}`);
  }
  await shot(desk, 'console-reports-rates-board-sub');
  await desk.context().close();

  // 个人中心: the name can be changed.
  await page.goto(server.url + '/me');
  await page.locator('.save-name').waitFor();
  await page.locator('.van-field', { hasText: '称呼' }).locator('input').fill('张阿姨');
  await page.locator('.save-name').click();
  await page.locator('.van-toast', { hasText: '已保存' }).waitFor();
  await shot(page, 'site-profile');
  await page.goto(server.url + '/privacy');
  await page.locator('.privacy').waitFor();
  await shot(page, 'site-privacy');

  // Deleting my data signs me out and leaves the case anonymous.
  await page.goto(server.url + '/me');
  await page.locator('.forget').click();
  await page.locator('.van-dialog__confirm').click();
  await page.waitForURL(`${server.url}/`);
  const stored = await call('GET', `/api/v1/cases/${id}`, { token: staff });
  assert.equal(stored.contact_phone || '', '', 'the phone is gone from the case');
  await page.goto(server.url + '/mine');
  await page.locator('.sign-in').waitFor();
  await ctx.close();
});

test('an anonymous filer outside the district picks the place by hand, files, follows the tracking link in a fresh context and rates', async () => {
  // 王府井, in 东城区: "use my location" must refuse it.
  const ctx = await located(browser, 39.9145, 116.4110);
  const page = watch(await ctx.newPage());
  await page.goto(server.url + '/');
  await page.locator('[data-area="CG"]').click();
  await page.locator('input[name="title"]').fill('胡同口旧沙发床垫堆放');
  await page.locator('textarea[name="description"]').fill('有人把旧沙发旧床垫堆在胡同口，已经一周没人清运。');
  // The draft survives a reload.
  await page.locator('.draft-note').waitFor();
  await page.reload();
  assert.equal(await page.locator('input[name="title"]').inputValue(), '胡同口旧沙发床垫堆放');
  await page.locator('.use-location').click();
  await page.locator('.van-toast', { hasText: '不在西城区范围内' }).waitFor();
  await shot(page, 'site-locate-outside');
  assert.equal(await page.locator('input[name="community"]').inputValue(), '', 'nothing was chosen');
  await page.locator('.van-toast').first().waitFor({ state: 'hidden' });
  await pickCommunity(page);
  await page.locator('input[name="address"]').fill('丰盛胡同西口');
  await page.locator('.submit-anon').click();
  const link = (await page.locator('[data-test="tracking-link"]').innerText()).trim();
  assert.match(link, /\/track#number=XC\d{4}-\d{6}&token=[0-9a-f]+$/);
  await page.locator('img.qr').evaluate((img) => img.decode());
  assert.ok(await page.locator('img.qr').evaluate((img) => img.naturalWidth > 100), 'the QR code is drawn');
  await shot(page, 'site-anonymous-filed');
  await ctx.close();

  const number = decodeURIComponent(link.match(/number=([^&]+)/)[1]);
  const { id } = await call('GET', `/api/v1/cases/number/${number}`, { token: staff });
  const fresh = await phone(browser);
  const tp = watch(await fresh.newPage());
  await tp.goto(link);
  await tp.locator('[data-test="status"]').waitFor();
  assert.match(await tp.locator('.page').innerText(), new RegExp(number));
  await tp.locator('.add-photo input[type="file"]').setInputFiles(await photoOf(tp, '#555'));
  await tp.locator('.photos .van-image img').first().waitFor();
  await shot(tp, 'site-track');

  await finish(id, await photoOf(tp, '#0a0'));
  await tp.reload();
  await tp.locator('[data-test="rating"]').waitFor();
  assert.match(await tp.locator('[data-test="office"]').innerText(), new RegExp(comm.office_phone));
  await tp.locator('.v-basic').click();
  await tp.locator('.r-yes').click();
  await tp.locator('.submit-rating').click();
  await tp.locator('[data-test="rated"]').waitFor();
  assert.equal((await tp.locator('[data-test="status"]').innerText()).trim(), '已评价');
  await shot(tp, 'site-track-rated');
  await fresh.close();
});

test('no page logged a JavaScript error', () => {
  assert.deepEqual(errors, []);
});
