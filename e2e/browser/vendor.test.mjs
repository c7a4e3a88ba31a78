// The vendored libraries load in a real Chromium through the import map,
// with no build step: Vue compiles a template, Vant and Element Plus
// render Chinese components (dates in zh-cn, weeks from Monday), ECharts
// draws, idb-keyval stores and compressorjs shrinks a photo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, phone, shot, importMap, testPage } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('every vendored library loads and renders', async () => {
  const map = await importMap(server.url);
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  const html = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/vendor/vant@4.10.2/lib/index.css">
<link rel="stylesheet" href="/vendor/element-plus@2.14.8/dist/index.css">
<script type="importmap">${map}</script></head><body><div id="app"></div><div id="chart" style="width:340px;height:200px"></div>
<script type="module">
import { createApp, ref } from 'vue';
import Vant from 'vant';
import ElementPlus, { dayjs } from 'element-plus';
import zhCn from 'element-plus/locale/zh-cn';
import * as echarts from 'echarts';
import { createRouter, createMemoryHistory } from 'vue-router';
import { get, set } from 'idb-keyval';
import Compressor from 'compressorjs';
window.dayjs = dayjs;
await import('/vendor/dayjs@1.11.13/locale/zh-cn.js');
dayjs.locale('zh-cn');
const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { template: '<span id="route">首页</span>' } }] });
const app = createApp({
  setup() { const text = ref(''); const day = ref(new Date(2026, 11, 1)); return { text, day }; },
  template: \`<van-nav-bar title="民生诉求" /><van-field id="field" v-model="text" label="诉求描述" placeholder="请描述问题" />
    <van-button type="primary" block>提交</van-button><router-view />
    <el-date-picker v-model="day" type="date" placeholder="选择日期" />
    <el-table :data="[{ name: '旱厕改造', fen: 1200000 }]" style="width: 340px"><el-table-column prop="name" label="项目" /><el-table-column prop="fen" label="金额（分）" /></el-table>\`,
});
app.use(Vant).use(ElementPlus, { locale: zhCn }).use(router);
app.mount('#app');
await router.isReady();
const chart = echarts.init(document.getElementById('chart'));
chart.setOption({ animation: false, xAxis: { data: ['响应率', '解决率', '满意率'] }, yAxis: {}, series: [{ type: 'bar', data: [98, 90, 95] }] });
await set('probe', { n: 1 });
const stored = await get('probe');
const canvas = document.createElement('canvas'); canvas.width = 3000; canvas.height = 2000;
const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 1));
const small = await new Promise((ok, no) => new Compressor(blob, { maxWidth: 2048, quality: 0.6, success: ok, error: no }));
const img = await createImageBitmap(small);
window.__result = { stored, width: img.width, weekStart: dayjs().localeData().firstDayOfWeek(), month: dayjs('2026-12-01').format('MMMM') };
</script></body></html>`;
  const errors = await testPage(page, server.url, '/__check/vendor.html', html);
  await page.waitForFunction(() => window.__result, null, { timeout: 20000 });
  const r = await page.evaluate(() => window.__result);
  assert.deepEqual(errors, []);
  assert.deepEqual(r.stored, { n: 1 });
  assert.equal(r.width, 2048, 'compressorjs applies maxWidth');
  assert.equal(r.weekStart, 1, 'weeks start on Monday in zh-cn');
  assert.equal(r.month, '十二月');
  assert.equal(await page.textContent('.van-nav-bar__title'), '民生诉求');
  assert.equal(await page.textContent('#route'), '首页');
  await page.fill('#field', '丰盛社区10号院旱厕');
  assert.equal(await page.inputValue('#field'), '丰盛社区10号院旱厕');
  assert.ok(await page.$('#chart canvas'), 'ECharts drew a canvas');
  await shot(page, 'vendor-check');
  await ctx.close();
});
