// The maps (issue 23, items 8 and 13) against the real server on the demo
// district: with no tile source (the embedded default) the district's
// outline and community points are drawn and case markers open the case; with
// a tile source the browser fetches tiles from a local test tile server (PNG
// tiles generated here); "使用当前位置" shows the picked community on a map and
// keeps it on screen to confirm or change; the board and the cadre app show
// their maps. The datum conversion is checked against published points.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { devices } from 'playwright-core';
import { startServer, launch, desktop, shot } from './harness.mjs';
import { wgsToGcj, gcjToWgs, convert } from '../../static/lib/datum.js';

const DEMO_PASSWORD = 'minsheng-demo';
const SUB = 'jinrongjie';
const FENGSHENG = 'jinrongjie-fengsheng';
const FENGRONGYUAN = 'jinrongjie-fengrongyuan';
let server;
let browser;
let outline;
const errors = [];

async function call(base, method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['Idempotency-Key'] = `map-${randomUUID()}`;
  const res = await fetch(base + path, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const login = (username) => call(server.url, 'POST', '/api/v1/auth/login', { body: { username, password: DEMO_PASSWORD } }).then((r) => r.access_token);

function watch(page) {
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e}`));
  page.on('console', (m) => {
    // Offline, the tiles cannot load: expected, and the map draws the outline.
    if (m.type() === 'error' && !(/ERR_INTERNET_DISCONNECTED/.test(m.text()) && /\.png$/.test(m.location()?.url || ''))) {
      errors.push(`${page.url()}: ${m.text()} (${m.location()?.url})`);
    }
  });
  return page;
}

function located(latitude, longitude) {
  return browser.newContext({
    ...devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    geolocation: { latitude, longitude, accuracy: 25 }, permissions: ['geolocation'],
  });
}

const place = (code) => outline.communities.find((c) => c.code === code);

// The test's own cases with positions, filed around 丰盛's point; the
// demo's seeded cases carry positions of their own (most of them).
const filed = [];

/** placedFor counts the cases the user may list, and those with a position. */
async function placedFor(base, username) {
  const token = await call(base, 'POST', '/api/v1/auth/login', { body: { username, password: DEMO_PASSWORD } }).then((r) => r.access_token);
  let all = [];
  let cursor = '';
  do {
    const out = await call(base, 'GET', `/api/v1/cases?limit=100&cursor=${encodeURIComponent(cursor)}`, { token });
    all = all.concat(out.items);
    cursor = out.next_cursor || '';
  } while (cursor);
  return { all: all.length, placed: all.filter((c) => c.location?.lat != null).length };
}

/** fileAround files six cases around 丰盛's point on the server at base. */
async function fileAround(base) {
  const out = [];
  const f = place(FENGSHENG).center;
  // Five public filings around 丰盛's point (a cluster at district zoom) ...
  for (let i = 0; i < 5; i++) {
    out.push(await call(base, 'POST', '/api/v1/cases', {
      body: {
        area: 'CG', title: `地图测试 楼道堆物 ${i + 1}`, description: '楼道里堆放杂物，影响通行。', sub_district: SUB, community: FENGSHENG,
        address: `丰盛胡同${i + 1}号`, public: true, lat: f.lat + 0.0004 * i, lng: f.lng - 0.0003 * i,
      },
    }));
  }
  // ... and one the cadre files from the phone in GCJ-02 (a map SDK's
  // position): the map must shift it back onto the WGS-84 outline.
  const { access_token: cadre } = await call(base, 'POST', '/api/v1/auth/login', { body: { username: FENGSHENG, password: DEMO_PASSWORD } });
  const [gLat, gLng] = wgsToGcj(f.lat - 0.002, f.lng + 0.002);
  const g = await call(base, 'PUT', `/mobile/v1/cases/${randomUUID()}`, {
    token: cadre, body: { area: 'CG', title: '地图测试 国测局坐标', description: '路灯不亮。', address: '丰盛胡同口', lat: gLat, lng: gLng, datum: 'gcj02' },
  });
  out.push(g.case || g);
  return out;
}

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
  outline = (await call(server.url, 'GET', '/api/v1/map')).outline;
  filed.push(...(await fileAround(server.url)));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(errors, [], 'no page logged an error');
});

test('GCJ-02 conversion matches published reference points, and back', () => {
  // WGS-84 → GCJ-02 pairs published with the widely used open conversion
  // (Shanghai, Shenzhen, Beijing ×2).
  for (const [wLat, wLng, gLat, gLng] of [
    [31.1774276, 121.5272106, 31.17530398364597, 121.531541859215],
    [22.543847, 113.912316, 22.540796131694766, 113.9171764808363],
    [39.911954, 116.377817, 39.91334545536069, 116.38404722455657],
    [39.915, 116.404, 39.91640428150164, 116.41024449916938],
  ]) {
    const [lat, lng] = wgsToGcj(wLat, wLng);
    assert.ok(Math.abs(lat - gLat) < 1e-9 && Math.abs(lng - gLng) < 1e-9, `wgsToGcj(${wLat}, ${wLng}) = ${lat}, ${lng}`);
    const [bLat, bLng] = gcjToWgs(gLat, gLng);
    assert.ok(Math.abs(bLat - wLat) < 1e-8 && Math.abs(bLng - wLng) < 1e-8, `gcjToWgs(${gLat}, ${gLng}) = ${bLat}, ${bLng}`);
  }
  assert.deepEqual(wgsToGcj(51.5, -0.12), [51.5, -0.12], 'no offset outside China');
  assert.deepEqual(convert(39.9, 116.4, '', 'wgs84'), [39.9, 116.4], 'a position without a datum is WGS-84');
  assert.throws(() => convert(39.9, 116.4, 'bd09', 'wgs84'));
});

test('console map without a tile source: the outline orients, clusters count the cases, a marker opens the case', async () => {
  const ctx = await desktop(browser);
  const page = watch(await ctx.newPage());
  const tiles = [];
  page.on('request', (r) => {
    if (/\.png(\?|$)/.test(r.url()) && !r.url().startsWith(server.url)) tiles.push(r.url());
  });
  await page.goto(server.url + '/console/login');
  await page.fill('input[name=username]', SUB);
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.locator('[data-test="login"]').click();
  await page.waitForURL(/\/console\/(?!login)/);
  await page.locator('[data-page="map"]').click();
  await page.waitForURL(/\/console\/map$/);
  await page.locator('[data-test="map-count"]').filter({ hasText: /地图上 \d+ 件/ }).waitFor();
  // No tile source: the district boundary, the community points and the
  // sub-district names are drawn, and the map says what it shows.
  assert.equal(await page.locator('.leaflet-tile').count(), 0, 'no tiles');
  assert.equal(await page.locator('path.ms-boundary').count(), 1, 'the district boundary');
  assert.ok(await page.locator('path.ms-community').count() >= 200, 'the community points');
  const names = await page.locator('.leaflet-tooltip.ms-label').evaluateAll((els) => els.filter((e) => e.offsetParent).map((e) => e.textContent));
  assert.ok(names.some((n) => /社区|街道|金融街/.test(n)), `place names are drawn: ${names.slice(0, 5)}`);
  await page.locator('.ms-map-note', { hasText: '未配置底图' }).waitFor();
  // 金融街's cases with a position: the seeded ones and the six filed here.
  const sub = await placedFor(server.url, SUB);
  assert.ok(sub.placed > filed.length, `seeded cases are placed too: ${sub.placed}`);
  await page.locator('[data-test="map-count"]').filter({ hasText: new RegExp(`地图上 ${sub.placed} 件`) }).waitFor({ timeout: 10000 }).catch(() => {});
  const count = await page.locator('[data-test="map-count"]').innerText();
  assert.match(count, new RegExp(`地图上 ${sub.placed} 件`), `the ${sub.placed} cases with a position are placed: ${count}`);
  assert.match(count, new RegExp(`另有 ${sub.all - sub.placed} 件登记时无位置`), 'the others are counted');
  // Clusters and single markers add up to the cases placed.
  const counts = await page.locator('.ms-cluster').evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
  const singles = await page.locator('.ms-pin').count();
  assert.equal(counts.reduce((a, b) => a + b, 0) + singles, sub.placed, `clusters ${counts} + ${singles} single markers`);
  await page.locator('[data-test="map-legend"]').filter({ hasText: '待受理' }).waitFor();
  await shot(page, 'map-console-outline');
  // Around 丰盛's point the six filed here lie close together, among the
  // seeded cases of 丰盛: clicking the cluster that holds the first filed
  // case zooms in until it stands alone as a marker.
  const pin = page.locator(`.ms-pin[data-case="${filed[0].id}"]`);
  const mapEl = page.locator('[data-test="case-map"]');
  await mapEl.evaluate((el, id) => el.msMap.map.setView(el.msMap.points.find((p) => p.id === id).at, 14, { animate: false }), filed[0].id);
  for (let i = 0; i < 8 && !(await pin.count()); i++) {
    // The cluster drawn nearest the case's place holds it.
    const at = await mapEl.evaluate((el, id) => {
      const m = el.msMap;
      const pt = m.map.latLngToContainerPoint(m.points.find((p) => p.id === id).at);
      const box = el.getBoundingClientRect();
      let best = null;
      for (const c of el.querySelectorAll('.ms-cluster')) {
        const r = c.getBoundingClientRect();
        const d = Math.hypot(r.x + r.width / 2 - box.x - pt.x, r.y + r.height / 2 - box.y - pt.y);
        if (!best || d < best.d) best = { d, x: r.x + r.width / 2, y: r.y + r.height / 2 };
      }
      return best;
    }, filed[0].id);
    assert.ok(at, 'a cluster holds the case');
    await page.mouse.click(at.x, at.y);
    await page.waitForTimeout(400);
  }
  await pin.waitFor();
  await shot(page, 'map-console-zoomed');
  const gcj = filed[5];
  const box = await page.locator('[data-test="case-map"]').evaluate((el, id) => {
    const m = el.msMap;
    const c = m.points.find((p) => p.id === id);
    return { lat: c.at.lat, lng: c.at.lng };
  }, gcj.id);
  const f = place(FENGSHENG).center;
  assert.ok(Math.abs(box.lat - (f.lat - 0.002)) < 1e-6 && Math.abs(box.lng - (f.lng + 0.002)) < 1e-6, `the GCJ-02 case is drawn at its WGS-84 place: ${JSON.stringify(box)}`);
  await pin.click();
  await page.waitForURL(new RegExp(`/console/cases/${filed[0].id}$`));
  await page.locator('text=地图测试 楼道堆物 1 >> visible=true').first().waitFor();
  assert.deepEqual(tiles, [], 'no tile was asked for');
  // 1366×768 too.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(server.url + '/console/map');
  await page.locator('[data-test="map-count"]').filter({ hasText: new RegExp(`地图上 ${sub.placed} 件`) }).waitFor();
  await shot(page, 'map-console-1366');
  await ctx.close();

  // The district as the admin sees it: the boundary and the fifteen
  // sub-districts' names orient the map with no tiles.
  const adm = await desktop(browser);
  const ap = watch(await adm.newPage());
  await ap.goto(server.url + '/console/login');
  await ap.fill('input[name=username]', 'admin');
  await ap.fill('input[name=password]', DEMO_PASSWORD);
  await ap.locator('[data-test="login"]').click();
  await ap.waitForURL(/\/console\/(?!login)/);
  await ap.goto(server.url + '/console/map');
  const all = await placedFor(server.url, 'admin');
  assert.ok(all.placed > sub.placed, `the district's cases with a position: ${all.placed}`);
  await ap.locator('[data-test="map-count"]').filter({ hasText: new RegExp(`地图上 ${all.placed} 件`) }).waitFor();
  // The whole district.
  await ap.waitForTimeout(500);
  await ap.locator('[data-test="case-map"]').evaluate((el) => el.msMap.map.setView([39.91, 116.37], 12, { animate: false }));
  await ap.locator('.ms-label-sub').first().waitFor();
  assert.equal(await ap.locator('.ms-label-sub').count(), 15, 'the fifteen sub-districts are named');
  await shot(ap, 'map-console-district');
  await adm.close();
});

/** png is a 256×256 tile of one colour with a darker border. */
function png(r, g, b) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const size = 256;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const edge = x < 2 || y < 2;
      const o = y * (size * 3 + 1) + 1 + x * 3;
      raw[o] = edge ? r - 40 : r;
      raw[o + 1] = edge ? g - 40 : g;
      raw[o + 2] = edge ? b - 40 : b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

test('with a tile source the maps draw tiles fetched from it (board and cadre app)', async () => {
  const served = [];
  const tile = png(200, 225, 205);
  const tileServer = http.createServer((req, res) => {
    const m = /^\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(req.url);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    served.push(req.url);
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(tile);
  });
  await new Promise((r) => tileServer.listen(0, '127.0.0.1', r));
  const tileURL = `http://127.0.0.1:${tileServer.address().port}`;
  // A second server on a copy of the demo district, with the tiles configured.
  const tiled = await startServer({ demo: true, env: { MINSHENG_MAP_TILES: `${tileURL}/{z}/{x}/{y}.png`, MINSHENG_MAP_ATTRIBUTION: '测试底图' } });
  try {
    await fileAround(tiled.url);
    const cfg = await call(tiled.url, 'GET', '/api/v1/map');
    assert.deepEqual(cfg.tiles, { url: `${tileURL}/{z}/{x}/{y}.png`, attribution: '测试底图', datum: 'wgs84' });
    const ctx = await browser.newContext({ ...devices['iPhone 13'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = watch(await ctx.newPage());
    await page.goto(`${tiled.url}/gongkai?sub_district=${SUB}`);
    const map = page.locator('[data-test="board-map"]');
    await map.waitFor();
    // Tiles drawn from the test server (Leaflet blanks pruned tiles' src
    // while it zooms to the needs, so the ones shown are looked for).
    await page.waitForFunction((from) => [...document.querySelectorAll('img.leaflet-tile-loaded')]
      .filter((img) => img.src.startsWith(from) && img.complete && img.naturalWidth === 256).length >= 4, tileURL);
    assert.ok(served.length >= 4, `tiles served: ${served.length}`);
    assert.ok(served.every((u) => /^\/1[0-8]\//.test(u)), `tile zooms: ${served.slice(0, 4)}`);
    await page.locator('.leaflet-control-attribution', { hasText: '测试底图' }).waitFor();
    assert.equal(await page.locator('.ms-map-note').count(), 0, 'no "未配置底图" note with tiles');
    // The board's needs stand at community precision: every marker is at a
    // community's reference point.
    const pins = await map.evaluate((el) => el.msMap.points.map((p) => ({ id: p.id, lat: p.lat, lng: p.lng })));
    assert.ok(pins.length >= 1, 'funded needs are on the map');
    for (const p of pins) {
      const c = place(p.id);
      assert.ok(c && c.center.lat === p.lat && c.center.lng === p.lng, `marker ${p.id} sits on its community's point`);
    }
    await map.scrollIntoViewIfNeeded();
    await shot(page, 'map-board-tiles');
    await page.locator('.ms-pin, .ms-cluster').first().click();
    await ctx.close();

    // The cadre app's map, on the same tiles, with the phone standing at 丰盛.
    const f = place(FENGSHENG).center;
    const phone = await located(f.lat, f.lng);
    const m = watch(await phone.newPage());
    await m.goto(`${tiled.url}/m/login`);
    await m.locator('input[name="username"]').fill(FENGSHENG);
    await m.locator('input[name="password"]').fill(DEMO_PASSWORD);
    await m.locator('[data-test="login"]').click();
    await m.waitForURL(/\/m\/$/);
    await m.locator('.van-tabbar-item', { hasText: '地图' }).click();
    await m.waitForURL(/\/m\/map$/);
    await m.locator('[data-test="cadre-map"] .leaflet-tile-loaded').first().waitFor();
    await m.locator('.van-tab', { hasText: '附近' }).click();
    await m.locator('[data-test="route-note"]', { hasText: '按距离排列' }).waitFor();
    await m.locator('[data-test="route-row"]').first().waitFor();
    const rows = await m.locator('[data-test="route-row"]').allInnerTexts();
    assert.ok(rows.length >= 1, 'cases within 1 km are listed');
    const dists = rows.map((t) => {
      const x = /(\d+(?:\.\d+)?) (米|公里)/.exec(t);
      return x ? Number(x[1]) * (x[2] === '公里' ? 1000 : 1) : Infinity;
    });
    assert.deepEqual([...dists].sort((a, b) => a - b), dists, `nearest first: ${dists}`);
    assert.ok(dists.every((d) => d <= 1000), `all within 1 km: ${dists}`);
    await shot(m, 'map-cadre-nearby');
    // Without signal the map still orients: the service worker serves the
    // app and Leaflet, the outline comes from the phone's copy, the cases
    // from the last sync (tiles cannot load, the boundary is drawn anyway).
    await m.evaluate(() => navigator.serviceWorker.ready);
    await m.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 }).catch(async () => {
      await m.reload();
      await m.waitForFunction(() => navigator.serviceWorker.controller !== null);
    });
    await phone.setOffline(true);
    await m.reload();
    await m.locator('[data-test="cadre-map"] path.ms-boundary').waitFor();
    assert.ok(await m.locator('[data-test="cadre-map"] path.ms-community').count() >= 200, 'community points offline');
    await m.locator('.van-tab', { hasText: '附近' }).click();
    await m.locator('[data-test="route-row"]').first().waitFor();
    await m.locator('[data-test="cadre-map"]').locator('.ms-pin, .ms-cluster').first().waitFor();
    await shot(m, 'map-cadre-offline');
    await phone.setOffline(false);
    await phone.close();
  } finally {
    await tiled.stop();
    tileServer.close();
  }
});

test('使用当前位置 near 丰盛: the picked community is shown on the map and kept on screen; changing it works', async () => {
  // Between 丰盛's and 丰融园's reference points, nearer 丰融园's: the
  // nearest-point guess picks 丰融园 (issue 23, item 8).
  const f = place(FENGSHENG).center;
  const r = place(FENGRONGYUAN).center;
  let at = null;
  for (const t of [0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1]) {
    const p = { lat: r.lat + t * (f.lat - r.lat), lng: r.lng + t * (f.lng - r.lng) };
    const guess = await call(server.url, 'GET', `/api/v1/org/locate?lat=${p.lat}&lng=${p.lng}`);
    if (guess.community.code === FENGRONGYUAN) {
      at = p;
      break;
    }
  }
  assert.ok(at, 'a point between 丰盛 and 丰融园 that the nearest-point guess gives to 丰融园');
  const ctx = await located(at.lat, at.lng);
  const page = watch(await ctx.newPage());
  await page.goto(server.url + '/');
  await page.locator('[data-area="CG"]').click();
  await page.locator('input[name="title"]').fill('胡同里路灯不亮');
  await page.locator('textarea[name="description"]').fill('胡同口两盏路灯一周没亮，晚上看不清路。');
  await page.locator('.use-location').click();
  const card = page.locator('[data-test="place-card"]');
  await card.waitFor();
  // The guess is on the map: 丰融园 named and marked, the phone's position beside it.
  await card.locator('.ms-label-picked', { hasText: '丰融园' }).waitFor();
  await card.locator('.ms-pick').waitFor();
  assert.match(await card.locator('[data-test="place-name"]').innerText(), /金融街街道 \/ 丰融园社区|丰融园/);
  await card.locator('[data-test="place-hint"]').waitFor();
  await shot(page, 'map-picker-guess');
  // It stays on screen (no toast that vanishes): still there after 3 s.
  await page.waitForTimeout(3000);
  assert.ok(await card.isVisible(), 'the choice stays on screen');
  // The resident changes it to 丰盛 with the picker; the map follows.
  await card.locator('.change-place').click();
  // The picker opens on the guess's sub-district, 金融街: its communities.
  await page.locator('.van-cascader__option', { hasText: '丰盛社区' }).first().click();
  await card.locator('.ms-label-picked', { hasText: '丰盛' }).waitFor();
  assert.match(await card.locator('[data-test="place-name"]').innerText(), /丰盛社区/);
  assert.equal(await card.locator('.ms-label-picked').count(), 1, 'one community is marked');
  assert.equal(await card.locator('[data-test="place-hint"]').count(), 0, 'chosen by hand: nothing left to confirm');
  await shot(page, 'map-picker-changed');
  // The filing carries the chosen community.
  await page.locator('input[name="address"]').fill('丰盛胡同口');
  await page.locator('.submit-anon').click();
  const number = (await page.locator('[data-test="case-number"]').innerText()).trim();
  const staff = await login(SUB);
  const c = await call(server.url, 'GET', `/api/v1/cases/number/${number}`, { token: staff });
  assert.equal(c.location.community, FENGSHENG, 'filed in the community chosen');
  await ctx.close();

  // Confirming the guess instead: 是这个社区 → 已确认, on an iPhone SE.
  const se = await browser.newContext({
    ...devices['iPhone SE'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    geolocation: { latitude: f.lat + 0.0003, longitude: f.lng, accuracy: 25 }, permissions: ['geolocation'],
  });
  const p2 = watch(await se.newPage());
  await p2.goto(server.url + '/');
  await p2.locator('.use-location').click();
  const card2 = p2.locator('[data-test="place-card"]');
  await card2.locator('.ms-label-picked', { hasText: '丰盛' }).waitFor();
  await card2.locator('.confirm-place').click();
  await card2.locator('.confirm-place', { hasText: '已确认' }).waitFor();
  assert.equal(await card2.locator('[data-test="place-hint"]').count(), 0);
  await card2.scrollIntoViewIfNeeded();
  await shot(p2, 'map-picker-confirmed-se');
  await se.close();
});
