// FactorPanel is 因素法: a pool distributed across the sub-districts by
// weighted factors, each amount explained factor by factor, and a second
// set of weights side by side in a chart and a table.
import { ref, reactive, computed } from 'vue';
import { ElMessage } from 'element-plus';
import { api, yuan, toFen, errText, csv } from '../shared.js';
import Chart from './Chart.js';

const factors = [
  ['population_bp', '服务人口'], ['area_bp', '辖区面积'], ['cases_bp', '诉求工作量'],
  ['communities_bp', '社区数'], ['performance_bp', '绩效'], ['tax_growth_bp', '税源增长奖励'],
];
const defaults = { population_bp: 3000, area_bp: 1500, cases_bp: 2000, communities_bp: 1500, performance_bp: 1000, tax_growth_bp: 1000, tax_growth_cap_per_mille: 200 };

export default {
  name: 'FactorPanel',
  components: { Chart },
  props: { year: Number },
  setup(props) {
    const pool = ref('10000000.00');
    // Weights are edited in percent (two decimals) and sent in basis points.
    const toPct = (w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, k.endsWith('_bp') ? v / 100 : v]));
    const a = reactive(toPct(defaults));
    const b = reactive(toPct({ ...defaults, population_bp: 2000, cases_bp: 3000 }));
    const compare = ref(true);
    const rep = ref(null);
    const busy = ref(false);
    const sum = (w) => factors.reduce((t, [k]) => t + Number(w[k] || 0), 0);
    const toBp = (w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, k.endsWith('_bp') ? Math.round(Number(v) * 100) : Number(v)]));
    async function run() {
      const fen = toFen(pool.value);
      if (!fen || fen <= 0) return ElMessage.error('请填写资金池金额（元）');
      busy.value = true;
      try {
        rep.value = await api.post('/api/v1/allocation/factor', { pool_fen: fen, fiscal_year: props.year, weights: toBp(a), compare_weights: compare.value ? toBp(b) : undefined });
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    const rows = computed(() => {
      if (!rep.value) return [];
      const bMap = new Map((rep.value.compare?.shares || []).map((s) => [s.sub_district_code, s]));
      return rep.value.shares.map((s) => ({ ...s, b: bMap.get(s.sub_district_code) }));
    });
    const option = computed(() => ({
      tooltip: { trigger: 'axis', valueFormatter: (v) => `${v.toLocaleString('zh-CN')} 万元` },
      legend: { top: 0, data: compare.value && rep.value?.compare ? ['方案一', '方案二'] : ['方案一'] },
      grid: { left: 60, right: 20, bottom: 70, top: 40 },
      xAxis: { type: 'category', data: rows.value.map((r) => r.name), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', name: '万元' },
      series: [
        { name: '方案一', type: 'bar', data: rows.value.map((r) => Math.round(r.total_fen / 100) / 10000) },
        ...(rep.value?.compare ? [{ name: '方案二', type: 'bar', data: rows.value.map((r) => Math.round((r.b?.total_fen || 0) / 100) / 10000) }] : []),
      ],
    }));
    function exportCsv() {
      csv(`因素法分配-${props.year}.csv`, ['街道', ...factors.map(([, l]) => `${l}（元）`), '方案一合计（元）', '方案二合计（元）', '差额（元）'],
        rows.value.map((r) => [r.name, ...factors.map(([k]) => yuan(r.parts.find((p) => p.factor + '_bp' === k || p.factor === k.replace('_bp', ''))?.share_fen ?? 0).replace(/,/g, '')),
          yuan(r.total_fen).replace(/,/g, ''), r.b ? yuan(r.b.total_fen).replace(/,/g, '') : '', r.b ? yuan(r.b.total_fen - r.total_fen).replace(/,/g, '') : '']));
    }
    return { pool, a, b, compare, rep, busy, run, rows, option, factors, sum, yuan, exportCsv };
  },
  template: `
  <div>
    <el-form inline @submit.prevent="run">
      <el-form-item label="资金池（元）"><el-input v-model="pool" style="width:160px" data-test="pool" /></el-form-item>
      <el-form-item><el-checkbox v-model="compare">对比方案二</el-checkbox></el-form-item>
      <el-form-item><el-button type="primary" native-type="submit" :loading="busy" data-test="factor-run">计算</el-button><el-button @click="exportCsv" :disabled="!rep">导出</el-button></el-form-item>
    </el-form>
    <el-table :data="factors.map(([k, l]) => ({ k, l }))" border size="small" style="width:560px;margin-bottom:10px">
      <el-table-column prop="l" label="因素" width="140" />
      <el-table-column label="方案一权重（%）"><template #default="{ row }"><el-input-number v-model="a[row.k]" :min="0" :max="100" :precision="2" :step="5" controls-position="right" style="width:130px" /></template></el-table-column>
      <el-table-column v-if="compare" label="方案二权重（%）"><template #default="{ row }"><el-input-number v-model="b[row.k]" :min="0" :max="100" :precision="2" :step="5" controls-position="right" style="width:130px" /></template></el-table-column>
    </el-table>
    <div class="muted" style="margin-bottom:8px">权重合计：方案一 {{ sum(a) }}%<span v-if="compare">，方案二 {{ sum(b) }}%</span>（须为 100%）</div>
    <template v-if="rep">
      <div class="panel"><h3>各街道分配额（方案一{{ rep.compare ? ' 与方案二' : '' }}）</h3><Chart :option="option" height="320px" /></div>
      <el-table :data="rows" border size="small" data-test="factor-table">
        <el-table-column prop="name" label="街道" width="100" fixed />
        <el-table-column v-for="p in (rows[0]?.parts || [])" :key="p.factor" :label="p.label + '（元）'" min-width="110" align="right">
          <template #default="{ row }"><span class="money">{{ yuan(row.parts.find(x => x.factor === p.factor)?.share_fen) }}</span></template>
        </el-table-column>
        <el-table-column label="方案一合计（元）" min-width="130" align="right"><template #default="{ row }"><b class="money">{{ yuan(row.total_fen) }}</b></template></el-table-column>
        <el-table-column v-if="rep.compare" label="方案二合计（元）" min-width="130" align="right"><template #default="{ row }"><b class="money">{{ yuan(row.b?.total_fen) }}</b></template></el-table-column>
        <el-table-column v-if="rep.compare" label="差额（元）" min-width="120" align="right"><template #default="{ row }"><span class="money" :class="{ 'flag-late': row.b && row.b.total_fen < row.total_fen }">{{ row.b ? yuan(row.b.total_fen - row.total_fen) : '' }}</span></template></el-table-column>
      </el-table>
    </template>
  </div>`,
};
