// Reports (报表与看板): demand by area and item; the 12345 rates per
// sub-district and community; executed-as-approved vs adjusted; stalled
// funded cases and cost per resolved case; classification consistency.
// Every chart has its table and an export.
import { ref, computed, onMounted } from 'vue';
import { api, session, yuan, rate, permille, fiscalYear, errText, csv, subName, communityName, dt, mayOpen } from '../shared.js';
import Chart from './Chart.js';

// The chart plots the server's per-mille as a percentage; a rate with
// nothing due has no bar (null), never a 0 % one.
const pm = (r) => (r && r.per_mille !== null && r.per_mille !== undefined ? r.per_mille / 10 : null);

export default {
  name: 'Reports',
  components: { Chart },
  setup() {
    const year = ref(fiscalYear());
    const tab = ref('rates');
    const demand = ref(null);
    const rates = ref(null);
    const exec = ref(null);
    const comp = ref(null);
    const cons = ref(null);
    const errors = ref([]);
    const finance = computed(() => ['finance', 'admin'].includes(session.me?.role));
    async function load() {
      errors.value = [];
      const y = year.value;
      const get = (p, q) => api.get(p, q).catch((e) => {
        errors.value.push(errText(e));
        return null;
      });
      [demand.value, rates.value, exec.value, comp.value, cons.value] = await Promise.all([
        get('/api/v1/reports/demand', { year: y }),
        get('/api/v1/reports/rates', { from: `${y}-01-01`, to: `${y + 1}-01-01` }),
        get('/api/v1/reports/execution', { year: y }),
        get('/api/v1/reports/completion', { year: y }),
        // Comparing sub-districts' bookings is district finance's view.
        finance.value ? get('/api/v1/reports/consistency', { year: y }) : null,
      ]);
    }
    const areaNames = ref({});
    onMounted(async () => {
      load();
      try {
        areaNames.value = Object.fromEntries(((await api.get('/api/v1/catalog')).areas || []).map((a) => [a.code, a.name]));
      } catch { /* codes are shown */ }
    });
    const areas = computed(() => {
      const m = new Map();
      for (const it of demand.value?.items || []) {
        const a = m.get(it.area) || { area: it.area, cases: 0, estimate_fen: 0, funded_fen: 0, spent_fen: 0, unfunded_estimate_fen: 0 };
        a.spent_fen += it.spent_fen || 0;
        a.cases += it.cases;
        a.estimate_fen += it.estimate_fen;
        a.funded_fen += it.funded_fen;
        a.unfunded_estimate_fen += it.unfunded_estimate_fen;
        m.set(it.area, a);
      }
      return [...m.values()];
    });
    const demandOpt = computed(() => ({
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 70, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: areas.value.map((a) => areaNames.value[a.area] || a.area) }, yAxis: { type: 'value', name: '元' },
      series: [
        { name: '估算', type: 'bar', data: areas.value.map((a) => a.estimate_fen / 100) },
        { name: '实际支出', type: 'bar', data: areas.value.map((a) => a.spent_fen / 100) },
        { name: '未资助估算', type: 'bar', data: areas.value.map((a) => a.unfunded_estimate_fen / 100) },
      ],
    }));
    const rateRows = computed(() => rates.value?.sub_districts || []);
    // The rates, their texts ("—" when nothing was due), counts, period and
    // definitions all come from the server (one definition for the board,
    // these reports and the performance coefficient).
    const rateDefs = computed(() => rates.value?.definitions || []);
    const rateText = (r) => (r ? `${r.text}（${r.num}/${r.den}）` : '—');
    const ratesOpt = computed(() => ({
      tooltip: { trigger: 'axis', valueFormatter: (v) => `${v}%` }, legend: { top: 0 }, grid: { left: 50, right: 20, top: 40, bottom: 70 },
      xAxis: { type: 'category', data: rateRows.value.map((r) => r.name), axisLabel: { rotate: 30 } }, yAxis: { type: 'value', max: 100, name: '%' },
      series: rateDefs.value.map((d) => ({ name: d.label, type: 'bar', data: rateRows.value.map((r) => pm(r[d.key])) })),
    }));
    const execRows = computed(() => exec.value?.sub_districts || []);
    const execOpt = computed(() => ({
      tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 50, right: 20, top: 40, bottom: 70 },
      xAxis: { type: 'category', data: execRows.value.map((r) => r.name), axisLabel: { rotate: 30 } }, yAxis: { type: 'value', name: '项目数', minInterval: 1 },
      series: [
        { name: '按批复执行', type: 'bar', stack: 'e', data: execRows.value.map((r) => r.exact_count) },
        { name: '经调整', type: 'bar', stack: 'e', data: execRows.value.map((r) => r.adjusted_count) },
        { name: '未调整、尚未按批复执行完', type: 'bar', stack: 'e', data: execRows.value.map((r) => r.other_count) },
      ],
    }));
    const compRows = computed(() => comp.value?.sub_districts || []);
    // A case links to its page for those who may open it (staff, admins);
    // finance reads the number.
    const caseLink = computed(() => mayOpen('cases', session.me?.role));
    // Longest stalled first: the ones to chase.
    const stalledRows = computed(() => (comp.value?.lines || []).flatMap((l) => (l.completion?.stalled || []).map((s) => ({ ...s, project_name: l.project_name })))
      .sort((a, b) => b.days_overdue - a.days_overdue));
    const noComma = (f) => yuan(f).replace(/,/g, '');
    const exporters = {
      demand: () => csv(`诉求需求-${year.value}.csv`, ['分类编码', '分类', '领域', '件数', '估算（元）', '已资助件数', '已预留（元）', '实际支出（元）', '未资助件数', '未资助估算（元）', '项目数', '预算（元）', '可用（元）'],
        (demand.value?.items || []).map((i) => [i.item_code, i.item_name, i.area, i.cases, noComma(i.estimate_fen), i.funded_cases, noComma(i.reserved_fen || 0), noComma(i.spent_fen || 0), i.unfunded_cases, noComma(i.unfunded_estimate_fen), i.lines, noComma(i.budget_fen), noComma(i.available_fen)])),
      rates: () => csv(`三率-${year.value}.csv`, ['单位', '社区', ...rateDefs.value.flatMap((d) => [d.label, `${d.label}分子`, `${d.label}分母`]), '统计范围'],
        [...rateRows.value, ...(rates.value?.communities || [])].map((r) => [r.name, r.community_name || '',
          ...rateDefs.value.flatMap((d) => [r[d.key]?.text ?? '—', r[d.key]?.num ?? 0, r[d.key]?.den ?? 0]), rates.value?.period?.text || ''])),
      exec: () => csv(`预算执行-${year.value}.csv`, ['街道', '项目数', '按批复执行', '经调整', '按批复执行占比', '经调整占比', '调整后预算（元）', '已支出（元）', '执行率'],
        execRows.value.map((r) => [r.name, r.line_count, r.exact_count, r.adjusted_count, permille(r.exact_permille), permille(r.adjusted_permille), noComma(r.budget_fen), noComma(r.spent_fen), permille(r.execution_permille)])),
      comp: () => csv(`办结与成本-${year.value}.csv`, ['街道', '获资助件数', '已办结', '办结率', '已支出（元）', '每件解决成本（元）'],
        compRows.value.map((r) => [r.name, r.completion?.funded, r.completion?.resolved, rate(r.completion?.completion_rate), noComma(r.completion?.spent_fen || 0), noComma(r.completion?.cost_per_resolved_fen || 0)])),
      cons: () => csv(`分类一致性-${year.value}.csv`, ['事项', '说明', '涉及街道', '使用的分类', '建议分类', '需改列'],
        (cons.value?.inconsistencies || []).map((i) => [i.matter, i.summary, i.sub_district_names.join('、'), i.items.map((x) => `${x.item_name}(${x.bookings})`).join('、'), i.suggested ? i.suggested.name : '', i.moves.map((m) => m.number || m.text).join('、')])),
    };
    // Sub-district staff see their own sub-district, not the district.
    const scopeName = computed(() => (session.me?.sub_district ? subName(session.me.sub_district) : '全区'));
    return { scopeName, finance, year, tab, demand, rates, exec, comp, cons, errors, load, areas, demandOpt, rateRows, ratesOpt, execRows, execOpt, compRows, stalledRows, caseLink, exporters, rateDefs, rateText, yuan, rate, permille, subName, communityName, dt, session };
  },
  template: `
  <div>
    <h2 class="page-title">报表与看板
      <el-input-number v-model="year" :min="2000" :max="2100" controls-position="right" style="width:110px" @change="load" />
    </h2>
    <el-alert v-for="e in errors" :key="e" :title="e" type="error" :closable="false" style="margin-bottom:6px" />
    <el-tabs v-model="tab" type="border-card">
      <el-tab-pane lazy label="三率" name="rates">
        <div class="toolbar"><span class="muted" v-if="rates" data-test="rates-total">{{ scopeName }}：<template v-for="(d, i) in rateDefs" :key="d.key">{{ i ? '，' : '' }}{{ d.label }} {{ rateText(rates.total?.[d.key]) }}</template></span><span class="spacer" /><el-button @click="exporters.rates()">导出</el-button></div>
        <div class="muted rate-notes" v-if="rates" data-test="rate-notes" style="font-size:12px;margin:0 0 8px;line-height:1.7">
          <div>统计范围：{{ rates.period?.text }}（与居民端“民生实事公开”同一口径、同一算法；无应计诉求时显示“—”）</div>
          <div v-for="d in rateDefs" :key="d.key">{{ d.label }} = {{ d.formula }}<span v-if="d.internal">（内部指标）</span></div>
        </div>
        <Chart :option="ratesOpt" />
        <el-table :data="[...rateRows, ...(rates?.communities || [])]" border size="small" data-test="rates-table" max-height="360">
          <el-table-column prop="name" label="街道" width="110" />
          <el-table-column prop="community_name" label="社区" width="140" />
          <el-table-column v-for="d in rateDefs" :key="d.key" min-width="110">
            <template #header>
              <el-tooltip placement="top" :content="d.formula + '。分子：' + d.numerator + '；分母：' + d.denominator + '。' + (rates?.period?.text || '')">
                <span :data-rate-head="d.key">{{ d.label }} ⓘ</span>
              </el-tooltip>
            </template>
            <template #default="{ row }"><span :data-rate="d.key">{{ row[d.key]?.text }}</span> <span class="muted" style="font-size:11px">{{ row[d.key]?.num }}/{{ row[d.key]?.den }}</span></template>
          </el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane lazy label="需求" name="demand">
        <div class="toolbar"><span class="muted">估算与实际分列：估算来自现场评估，已预留与实际支出来自预算项目</span><span class="spacer" /><el-button @click="exporters.demand()">导出</el-button></div>
        <Chart :option="demandOpt" />
        <el-table :data="demand?.items || []" border size="small" max-height="360">
          <el-table-column label="分类" min-width="160" show-overflow-tooltip><template #default="{ row }">{{ row.item_code }} {{ row.item_name }}</template></el-table-column>
          <el-table-column prop="cases" label="件数" width="60" />
          <el-table-column label="估算（元）" width="120" align="right"><template #default="{ row }">{{ yuan(row.estimate_fen) }}</template></el-table-column>
          <el-table-column label="已预留（元）" width="120" align="right"><template #default="{ row }">{{ yuan(row.reserved_fen) }}</template></el-table-column>
          <el-table-column label="实际支出（元）" width="120" align="right"><template #default="{ row }">{{ yuan(row.spent_fen) }}</template></el-table-column>
          <el-table-column label="未资助估算（元）" width="130" align="right"><template #default="{ row }">{{ yuan(row.unfunded_estimate_fen) }}</template></el-table-column>
          <el-table-column prop="lines" label="项目数" width="70" />
          <el-table-column label="可用（元）" width="120" align="right"><template #default="{ row }">{{ yuan(row.available_fen) }}</template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane lazy label="按批复执行与调整" name="exec">
        <div class="toolbar"><span class="muted" v-if="exec">{{ scopeName }} {{ exec.total?.line_count }} 个项目：按批复执行 {{ exec.total?.exact_count }} 个（{{ permille(exec.total?.exact_permille) }}），经调整 {{ exec.total?.adjusted_count }} 个（{{ permille(exec.total?.adjusted_permille) }}）</span><span class="spacer" /><el-button @click="exporters.exec()">导出</el-button></div>
        <Chart :option="execOpt" />
        <el-table :data="execRows" border size="small">
          <el-table-column prop="name" label="街道" width="110" />
          <el-table-column prop="line_count" label="项目数" width="70" />
          <el-table-column prop="exact_count" label="按批复执行" width="90" />
          <el-table-column prop="adjusted_count" label="经调整" width="70" />
          <el-table-column label="调整后预算（元）" align="right"><template #default="{ row }">{{ yuan(row.budget_fen) }}</template></el-table-column>
          <el-table-column label="已支出（元）" align="right"><template #default="{ row }">{{ yuan(row.spent_fen) }}</template></el-table-column>
          <el-table-column label="执行率" width="80"><template #default="{ row }">{{ permille(row.execution_permille) }}</template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane lazy label="办结、停滞与成本" name="comp">
        <div class="toolbar"><span class="spacer" /><el-button @click="exporters.comp()">导出</el-button></div>
        <el-table :data="compRows" border size="small">
          <el-table-column prop="name" label="街道" width="110" />
          <el-table-column label="获资助" width="70"><template #default="{ row }">{{ row.completion?.funded }}</template></el-table-column>
          <el-table-column label="已办结" width="70"><template #default="{ row }">{{ row.completion?.resolved }}</template></el-table-column>
          <el-table-column label="办结率" width="80"><template #default="{ row }">{{ rate(row.completion?.completion_rate) }}</template></el-table-column>
          <el-table-column label="已支出（元）" align="right"><template #default="{ row }">{{ yuan(row.completion?.spent_fen) }}</template></el-table-column>
          <el-table-column label="每件解决全成本（元）" align="right"><template #default="{ row }">{{ yuan(row.completion?.cost_per_resolved_fen) }}</template></el-table-column>
          <el-table-column label="停滞" width="60"><template #default="{ row }">{{ (row.completion?.stalled || []).length }}</template></el-table-column>
        </el-table>
        <h3 style="margin:12px 0 6px;font-size:14px">已获资助但停滞的诉求</h3>
        <el-table :data="stalledRows" border size="small" empty-text="无" data-test="stalled">
          <el-table-column label="编号" width="150"><template #default="{ row }"><router-link v-if="caseLink" class="stalled-case" :to="{ name: 'case', params: { id: row.case_id } }">{{ row.number }}</router-link><span v-else>{{ row.number }}</span></template></el-table-column>
          <el-table-column prop="title" label="诉求" min-width="200" show-overflow-tooltip />
          <el-table-column label="社区" width="140"><template #default="{ row }">{{ row.community_name || communityName(row.community_code) }}</template></el-table-column>
          <el-table-column prop="project_name" label="预算项目" min-width="180" show-overflow-tooltip />
          <el-table-column label="资助金额（元）" width="130" align="right"><template #default="{ row }">{{ yuan(row.funded_fen) }}</template></el-table-column>
          <el-table-column label="办结时限" width="140"><template #default="{ row }">{{ dt(row.deadline_at) }}</template></el-table-column>
          <el-table-column label="已停滞（天）" width="100" align="right"><template #default="{ row }"><span class="flag-late">{{ row.days_overdue }}</span></template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane lazy v-if="finance" label="分类一致性" name="cons">
        <div class="toolbar"><span class="muted" v-if="cons">比较了 {{ cons.bookings_compared }} 条记账</span><span class="spacer" /><el-button @click="exporters.cons()">导出</el-button></div>
        <el-table :data="cons?.inconsistencies || []" border size="small" empty-text="未发现同一事项在不同街道记入不同分类" data-test="cons-table">
          <el-table-column prop="matter" label="事项" width="170" show-overflow-tooltip />
          <el-table-column label="各街道的记账" min-width="300">
            <template #default="{ row }"><div v-for="u in row.items" :key="u.item_code" :class="{ 'cons-right': u.item_code === row.suggested?.code }">{{ u.sub_district_names.join('、') }}：{{ u.item_name }}（{{ u.bookings }} 笔）</div></template>
          </el-table-column>
          <el-table-column label="建议统一为" width="190">
            <template #default="{ row }"><template v-if="row.suggested"><b>{{ row.suggested.name }}</b><div class="muted" style="font-size:12px">{{ row.suggested.code }}</div><div v-for="w in row.suggested.why" :key="w" class="muted" style="font-size:12px">{{ w }}</div></template></template>
          </el-table-column>
          <el-table-column label="需改列" min-width="220">
            <template #default="{ row }"><div v-for="m in row.moves.slice(0, 5)" :key="m.id" style="font-size:12px"><router-link v-if="m.kind === 'case' && caseLink" :to="{ name: 'case', params: { id: m.id } }">{{ m.number }}</router-link><span v-else>{{ m.number || m.text }}</span> {{ m.sub_district_name }} · {{ m.item_name }}</div><div v-if="row.moves.length > 5" class="muted" style="font-size:12px">另有 {{ row.moves.length - 5 }} 笔</div></template>
          </el-table-column>
        </el-table>
      </el-tab-pane>
    </el-tabs>
  </div>`,
};
