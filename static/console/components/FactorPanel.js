// FactorPanel is 因素法: a pool distributed across the sub-districts by
// weighted factors, each amount explained factor by factor, and a second
// set of weights side by side in a chart and a table.
import { ref, reactive, computed, onMounted } from 'vue';
import { ElMessage } from 'element-plus';
import { api, yuan, toFen, errText, csv } from '../shared.js';
import Chart from './Chart.js';

// The factors' labels and the default weights come from the server
// (GET /api/v1/allocation/factor), the same labels the result's parts carry.

export default {
  name: 'FactorPanel',
  components: { Chart },
  props: { year: Number },
  setup(props) {
    const pool = ref('10000000.00');
    // Weights are edited in percent (two decimals) and sent in basis points.
    const toPct = (w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, k.endsWith('_bp') ? v / 100 : v]));
    const factors = ref([]);
    const a = reactive({});
    const b = reactive({});
    const formError = ref('');
    onMounted(async () => {
      try {
        const form = await api.get('/api/v1/allocation/factor');
        factors.value = form.factors.map((f) => [f.weight_field, f.label, f.factor]);
        Object.assign(a, toPct(form.default_weights));
        Object.assign(b, toPct({ ...form.default_weights, population_bp: form.default_weights.population_bp - 1000, cases_bp: form.default_weights.cases_bp + 1000 }));
      } catch (e) { formError.value = errText(e); }
    });
    // Factors without basis-year data: the server asks, finance chooses.
    const missing = ref('');
    const choices = { exclude: '剔除这些因素，其余权重按比例补足 100%', current_year: '改用本年度数据' };
    const compare = ref(true);
    const rep = ref(null);
    const busy = ref(false);
    const sum = (w) => Math.round(factors.value.reduce((t, [k]) => t + Number(w[k] || 0), 0) * 100) / 100;
    const toBp = (w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, k.endsWith('_bp') ? Math.round(Number(v) * 100) : Number(v)]));
    async function run(choice) {
      if (typeof choice === 'string') missing.value = choice;
      const fen = toFen(pool.value);
      if (!fen || fen <= 0) return ElMessage.error('请填写资金池金额（元）');
      busy.value = true;
      try {
        rep.value = await api.post('/api/v1/allocation/factor', { pool_fen: fen, fiscal_year: props.year, weights: toBp(a), compare_weights: compare.value ? toBp(b) : undefined, missing: missing.value || undefined });
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
      csv(`因素法分配-${props.year}.csv`, ['街道', ...factors.value.map(([, l]) => `${l}（元）`), '方案一合计（元）', '方案二合计（元）', '差额（元）'],
        rows.value.map((r) => [r.name, ...factors.value.map(([, , f]) => yuan(r.parts.find((p) => p.factor === f)?.share_fen ?? 0).replace(/,/g, '')),
          yuan(r.total_fen).replace(/,/g, ''), r.b ? yuan(r.b.total_fen).replace(/,/g, '') : '', r.b ? yuan(r.b.total_fen - r.total_fen).replace(/,/g, '') : '']));
    }
    const label = (f) => (factors.value.find(([, , x]) => x === f) || [])[1] || f;
    const pct = (bp) => `${Math.round(bp) / 100}%`;
    const inputCols = [['population', '常住人口（人）'], ['area_m2', '辖区面积（平方米）'], ['cases', '诉求案件量（件）'], ['communities', '社区数量（个）'], ['performance_per_mille', '绩效系数（‰）'], ['tax_growth_per_mille', '税源增长（‰）']];
    return { pool, a, b, compare, rep, busy, run, rows, option, factors, sum, yuan, exportCsv, missing, choices, label, pct, inputCols, formError };
  },
  template: `
  <div>
    <el-form inline @submit.prevent="run">
      <el-form-item label="资金池（元）"><el-input v-model="pool" style="width:160px" data-test="pool" /></el-form-item>
      <el-form-item><el-checkbox v-model="compare">对比方案二</el-checkbox></el-form-item>
      <el-form-item><el-button type="primary" native-type="submit" :loading="busy" data-test="factor-run">计算</el-button><el-button @click="exportCsv" :disabled="!rep">导出</el-button></el-form-item>
    </el-form>
    <el-alert v-if="formError" type="error" :title="formError" :closable="false" />
    <el-table :data="factors.map(([k, l]) => ({ k, l }))" border size="small" style="width:560px;margin-bottom:10px" data-test="factor-weights">
      <el-table-column prop="l" label="因素" width="140" />
      <el-table-column label="方案一权重（%）"><template #default="{ row }"><el-input-number v-model="a[row.k]" :min="0" :max="100" :precision="2" :step="5" controls-position="right" style="width:130px" /></template></el-table-column>
      <el-table-column v-if="compare" label="方案二权重（%）"><template #default="{ row }"><el-input-number v-model="b[row.k]" :min="0" :max="100" :precision="2" :step="5" controls-position="right" style="width:130px" /></template></el-table-column>
    </el-table>
    <div class="muted" style="margin-bottom:8px">权重合计：方案一 {{ sum(a) }}%<span v-if="compare">，方案二 {{ sum(b) }}%</span>（须为 100%）</div>
    <template v-if="rep">
      <div class="panel" data-test="factor-basis">
        <h3>测算依据：{{ rep.basis_year }} 年度数据<span v-if="rep.choice === 'exclude'">（已剔除无数据因素）</span><span v-else-if="rep.choice === 'current_year'">（无数据因素改用 {{ rep.fiscal_year }} 年度）</span></h3>
        <el-alert v-if="rep.needs_choice" type="warning" :closable="false" show-icon data-test="factor-missing"
          :title="rep.basis_year + ' 年度没有以下因素的数据：' + rep.missing.map(label).join('、') + '。按原权重计算会把这部分资金平均分给各街道，请选择处理方式：'">
          <div style="margin-top:6px"><el-button size="small" type="primary" data-test="factor-exclude" @click="run('exclude')">{{ choices.exclude }}</el-button><el-button size="small" data-test="factor-current" @click="run('current_year')">{{ choices.current_year }}</el-button></div>
        </el-alert>
        <el-table :data="rep.factors" border size="small" style="margin-top:8px" data-test="factor-uses">
          <el-table-column prop="label" label="因素" width="130" />
          <el-table-column label="数据来源" min-width="200"><template #default="{ row }">{{ row.source }}<span v-if="row.year">（{{ row.year }} 年度）</span></template></el-table-column>
          <el-table-column label="有无数据" width="90"><template #default="{ row }"><span :class="{ 'flag-late': !row.has_data }">{{ row.has_data ? '有' : '无数据' }}</span></template></el-table-column>
          <el-table-column label="设定权重" width="90" align="right"><template #default="{ row }">{{ pct(row.weight_bp) }}</template></el-table-column>
          <el-table-column label="实际权重" width="90" align="right"><template #default="{ row }">{{ pct(row.used_bp) }}</template></el-table-column>
        </el-table>
        <el-table :data="rep.inputs" border size="small" style="margin-top:8px" max-height="300" data-test="factor-inputs">
          <el-table-column prop="name" label="街道" width="110" fixed />
          <el-table-column v-for="[k, l] in inputCols" :key="k" :label="l" min-width="110" align="right"><template #default="{ row }">{{ (row[k] ?? 0).toLocaleString('zh-CN') }}</template></el-table-column>
        </el-table>
      </div>
      <template v-if="!rep.needs_choice">
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
    </template>
  </div>`,
};
