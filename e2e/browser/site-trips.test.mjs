// What residents tripped over on the site (issue 23, items 1, 2, 10, 12 and
// 13's browse page), walked on the demo district (startServer({demo:
// true})) on an iPhone 13 and an iPhone SE:
// - signing in on 我的诉求 shows the list at once (the form was unmounted
//   before it said it was done: a blank page until a reload), and signing
//   in from a case page (the SMS link) lands on that case;
// - the 我的诉求 tab leaves a case page and /track;
// - a co-signer's case shows what it may follow, not empty 描述 / 办理进度;
// - text typed only to find a case to +1 does not come back as a draft;
// - anyone browses a community's public cases and opens one, in its
//   public view.
// Every changed screen is photographed into e2e/browser/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { devices } from 'playwright-core';
import { startServer, launch, shot } from './harness.mjs';

const COMMUNITY = 'jinrongjie-fengsheng';
const RESIDENT = '13800000001'; // the demo resident, fixed code in demo mode
const RESIDENT_CODE = '123456';
const PHONES = ['iPhone 13', 'iPhone SE'];
let server;
let browser;
let org;
let sub;
let comm;
let resident; // the demo resident's session, as the site stores it
let cosignedId; // a public case of another filer the demo resident co-signed
const errors = [];
let fresh = 0;

async function call(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['Idempotency-Key'] = `t-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const res = await fetch(server.url + path, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  const text = await res.text();
  const out = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${text}`), { status: res.status });
  return out;
}

const sent = (phone) => server.log.filter((l) => l.includes('sms (log sender)') && l.includes(phone));

/** smsCode is the code of the (seen+1)th message the server's log sender sent to phone. */
async function smsCode(phone, seen) {
  for (let i = 0; i < 100; i++) {
    const lines = sent(phone);
    if (lines.length > seen) return JSON.parse(lines[seen]).text.match(/\d{6}/)[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no code sent to ${phone}`);
}

/** signInAPI signs a resident in through the API: the session the site keeps. */
async function signInAPI(phone, code) {
  const seen = sent(phone).length;
  await call('POST', '/api/v1/auth/otp', { body: { phone } });
  return call('POST', '/api/v1/auth/otp/verify', { body: { phone, code: code || (await smsCode(phone, seen)) } });
}

/** newPhone is a phone number no one has signed in with yet. */
function newPhone() {
  fresh += 1;
  return `1390000${String(fresh).padStart(4, '0')}`;
}

/** context is a phone of the given device, signed in with session if given. */
async function context(device, session) {
  const ctx = await browser.newContext({ ...devices[device], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  if (session) await ctx.addInitScript((s) => localStorage.setItem('minsheng.session', s), JSON.stringify(session));
  return ctx;
}

function watch(page) {
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()} (${m.location()?.url})`);
  });
  return page;
}

/** assertNoPrivateSections: a public view shows no section it cannot fill. */
async function assertNoPrivateSections(page) {
  const titles = (await page.locator('.van-cell__title, .section-title').allInnerTexts()).map((t) => t.trim());
  for (const hidden of ['描述', '办理人', '办理进度（北京时间）']) assert.ok(!titles.includes(hidden), `${hidden} is shown: ${titles}`);
  assert.equal(await page.locator('.van-steps').count(), 0, 'no empty timeline');
}

const slug = (device) => device.toLowerCase().replace(/\s+/g, '');

/** signInOnPage fills the sign-in form shown on the page and submits it. */
async function signInOnPage(page, phone) {
  const seen = sent(phone).length;
  await page.locator('input[name="phone"]').fill(phone);
  await page.locator('.send-code').click();
  await page.locator('input[name="code"]').fill(await smsCode(phone, seen));
  await page.locator('.sign-in').click();
}

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  org = await call('GET', '/api/v1/org');
  sub = org.sub_districts.find((x) => x.communities.some((c) => c.code === COMMUNITY));
  comm = sub.communities.find((c) => c.code === COMMUNITY);
  resident = await signInAPI(RESIDENT, RESIDENT_CODE);
  // The demo resident co-signs an open public case someone else filed.
  const { items } = await call('GET', `/api/v1/public/cases?community=${COMMUNITY}&limit=100`);
  const mine = new Set((await call('GET', '/api/v1/me/cases?limit=100', { token: resident.access_token })).items.map((c) => c.id));
  for (const c of items) {
    if (mine.has(c.id) || !['submitted', 'accepted', 'assigned', 'assessed', 'in_progress'].includes(c.status)) continue;
    try {
      await call('POST', `/api/v1/cases/${c.id}/cosign`, { token: resident.access_token, body: {} });
      cosignedId = c.id;
      break;
    } catch (e) {
      if (e.status !== 409) throw e;
    }
  }
  assert.ok(cosignedId, 'the demo has an open public case in 丰盛 to co-sign');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const device of PHONES) {
  test(`${device}: signing in on 我的诉求 shows my cases at once; from a case link it lands on that case`, async () => {
    // Two residents with a case of their own each (a phone gets two codes
    // an hour from one address), signing in on this phone.
    const fileFor = async (phone) => {
      const s = await signInAPI(phone);
      return call('POST', '/api/v1/cases', {
        token: s.access_token,
        body: { area: 'SQ', title: '楼道灯不亮', description: '三单元楼道灯坏了一周', community: COMMUNITY, address: '丰盛胡同5号楼', contact_phone: phone, public: false },
      });
    };
    const phone = newPhone();
    await fileFor(phone);
    const phone2 = newPhone();
    const filed = await fileFor(phone2);
    const ctx = await context(device);
    const page = watch(await ctx.newPage());
    await page.goto(server.url + '/mine');
    await signInOnPage(page, phone);
    // No reload: the list replaces the form.
    await page.locator('[data-test="my-case"]', { hasText: '楼道灯不亮' }).waitFor({ timeout: 10000 });
    assert.equal(await page.locator('.sign-in').count(), 0, 'the sign-in form is gone');
    await page.locator('.van-toast').first().waitFor({ state: 'hidden' });
    await shot(page, `site-trips-mine-signed-in-${slug(device)}`);
    await ctx.close();

    // The SMS link of a case (/mine/{id}), opened signed out.
    const ctx2 = await context(device);
    const p2 = watch(await ctx2.newPage());
    await p2.goto(`${server.url}/mine/${filed.id}`);
    await p2.waitForURL(/\/login\?next=/);
    await signInOnPage(p2, phone2);
    await p2.waitForURL(`${server.url}/mine/${filed.id}`);
    await p2.locator('[data-test="status"]').waitFor();
    assert.match(await p2.locator('.page').innerText(), /楼道灯不亮/);
    await p2.locator('.van-toast').first().waitFor({ state: 'hidden' });
    await shot(p2, `site-trips-case-after-sign-in-${slug(device)}`);
    await ctx2.close();
  });

  test(`${device}: the 我的诉求 tab leaves a case page and /track`, async () => {
    const ctx = await context(device, resident);
    const page = watch(await ctx.newPage());
    const { items } = await call('GET', '/api/v1/me/cases', { token: resident.access_token });
    await page.goto(`${server.url}/mine/${items[0].id}`);
    await page.locator('[data-test="status"]').waitFor();
    await page.locator('.van-tabbar-item', { hasText: '我的诉求' }).click();
    await page.waitForURL(`${server.url}/mine`);
    await page.locator('[data-test="my-case"]').first().waitFor();

    await page.goto(`${server.url}/track`);
    await page.locator('input[placeholder*="XC"]').waitFor();
    await page.locator('.van-tabbar-item', { hasText: '我的诉求' }).click();
    await page.waitForURL(`${server.url}/mine`);
    await page.locator('[data-test="my-case"]').first().waitFor();
    await shot(page, `site-trips-tab-to-mine-${slug(device)}`);
    await ctx.close();
  });

  test(`${device}: a co-signer's case says what they can follow, with no empty 描述 or 办理进度`, async () => {
    const ctx = await context(device, resident);
    const page = watch(await ctx.newPage());
    await page.goto(`${server.url}/mine`);
    const card = page.locator('[data-test="my-case"]', { hasText: '我附议的' }).first();
    await card.waitFor();
    await card.click();
    await page.waitForURL(/\/mine\/.+/);
    await page.locator('[data-test="public-note"]').waitFor();
    assert.match(await page.locator('[data-test="public-note"]').innerText(), /您已附议此诉求/);
    await assertNoPrivateSections(page);
    const id = page.url().split('/').pop();
    const view = await call('GET', `/api/v1/cases/${id}`, { token: resident.access_token });
    assert.equal(view.public_view, true, 'the server gives the co-signer the public view');
    assert.equal((await page.locator('[data-test="status"]').innerText()).trim(), view.status_label);
    assert.match(await page.locator('[data-test="public-progress"]').innerText(), new RegExp(view.status_label));
    await shot(page, `site-trips-cosigner-case-${slug(device)}`);
    await ctx.close();
  });

  test(`${device}: text typed only to find a case to +1 does not come back as a draft`, async () => {
    const phone = newPhone();
    const s = await signInAPI(phone);
    const ctx = await context(device, s);
    const page = watch(await ctx.newPage());
    await page.goto(server.url + '/');
    await page.locator('input[name="title"]').fill('旱厕');
    const similar = page.locator('[data-test="similar"]');
    await similar.waitFor();
    await page.waitForTimeout(700); // the draft is saved half a second after typing
    await similar.locator('.cosign:not([disabled])').first().click();
    await page.locator('[data-test="search-only"]').waitFor();
    await shot(page, `site-trips-cosigned-search-${slug(device)}`);
    await page.locator('.van-tabbar-item', { hasText: '我的诉求' }).click();
    await page.waitForURL(`${server.url}/mine`);
    await page.locator('.van-tabbar-item', { hasText: '我有诉求' }).click();
    await page.waitForURL(`${server.url}/`);
    await page.locator('input[name="title"]').waitFor();
    assert.equal(await page.locator('input[name="title"]').inputValue(), '', 'the search text is not a draft');
    await page.reload();
    await page.locator('input[name="title"]').waitFor();
    assert.equal(await page.locator('input[name="title"]').inputValue(), '');
    assert.equal(await page.locator('.draft-note').count(), 0);

    // Text the resident goes on to change is theirs to file: a draft again.
    await page.locator('input[name="title"]').fill('旱厕');
    await page.locator('[data-test="similar"]').waitFor();
    await page.locator('input[name="title"]').fill('院里旱厕冬天结冰');
    await page.waitForFunction(() => (localStorage.getItem('minsheng.site.draft') || '').includes('院里旱厕冬天结冰'));
    await page.reload();
    assert.equal(await page.locator('input[name="title"]').inputValue(), '院里旱厕冬天结冰');
    await ctx.close();
  });

  test(`${device}: anyone browses a community's public cases and opens one in its public view`, async () => {
    const ctx = await context(device);
    const page = watch(await ctx.newPage());
    await page.goto(`${server.url}/gongkai`);
    await page.locator('.browse-cases').click();
    await page.waitForURL(`${server.url}/gongkai/cases`);
    await page.locator('.pick-community').click();
    await page.locator('.van-cascader__option', { hasText: sub.name }).first().click();
    await page.locator('.van-cascader__option', { hasText: comm.name }).first().click();
    await page.waitForURL(new RegExp(`/gongkai/cases\\?community=${COMMUNITY}$`));
    const cards = page.locator('[data-test="public-case"]');
    await cards.first().waitFor();
    const api = await call('GET', `/api/v1/public/cases?community=${COMMUNITY}`);
    assert.ok(api.items.length > 0);
    assert.equal(await cards.count(), api.items.length, 'the first page as the server lists it');
    const first = await cards.first().innerText();
    assert.ok(first.includes(api.items[0].title) && first.includes(api.items[0].status_label) && first.includes(api.items[0].area_label), first);
    const page1 = await page.locator('.page').innerText();
    assert.doesNotMatch(page1, /1[3-9]\d{9}/, 'no phone number');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, `site-trips-public-cases-${slug(device)}`);

    // The choice is remembered on this phone.
    await page.goto(`${server.url}/gongkai/cases`);
    await cards.first().waitFor();
    assert.match(await page.locator('[data-test="community"]').innerText(), new RegExp(comm.name));

    await cards.first().click();
    await page.waitForURL(new RegExp(`/gongkai/cases/${api.items[0].id}$`));
    await page.locator('[data-test="public-note"]').waitFor();
    const text = await page.locator('.page').innerText();
    assert.match(text, new RegExp(api.items[0].number));
    assert.doesNotMatch(text, /1[3-9]\d{9}/);
    await assertNoPrivateSections(page);
    await shot(page, `site-trips-public-case-${slug(device)}`);
    // A 不公开 case is not there to open.
    const { items: mine } = await call('GET', '/api/v1/me/cases?limit=100', { token: resident.access_token });
    const hidden = mine.find((c) => !c.public && c.filer_id);
    if (hidden) {
      await page.goto(`${server.url}/gongkai/cases/${hidden.id}`);
      await page.locator('.van-empty', { hasText: '案件不存在' }).waitFor();
    }
    await ctx.close();
  });
}

test('no page logged a JavaScript error', () => {
  // A 不公开 case opened by address answers 404, which the browser logs.
  assert.deepEqual(errors.filter((e) => !/404 \(Not Found\)/.test(e)), []);
});
