// Allocation (资金分配): the priority list with each case's rank and why,
// previewing and committing a run, past runs, and 因素法 across
// sub-districts (finance) with a second scenario side by side.
import { ref, reactive, computed, onMounted } from 'vue';
import { ElMessage, ElMessageBox } from 'element-plus';
import { api, newKeyLike, session, yuan, toFen, dt, fiscalYear, errText, subName, csv } from '../shared.js';
import FactorPanel from './FactorPanel.js';
import RunResult from './RunResult.js';

export default {
  name: 'Allocation',
  components: { FactorPanel, RunResult },
  setup() {
    const tab = ref('priorities');
    const year = ref(fiscalYear());
    const sub = ref(session.me?.sub_district || '');
    const pri = ref(null);
    const runs = ref([]);
    const preview = ref(null);
    const committed = ref(null);
    const busy = ref(false);
    const error = ref('');
    // Case numbers and titles by id, so runs name their cases (the run stores ids).
    const names = reactive({});
    async function resolve(run) {
      Object.assign(names, run?.cases || {}); // the server names them; older runs may not
      const missing = new Set();
      for (const l of run?.lines || []) for (const d of [...l.funded, ...l.waitlisted]) if (!names[d.case_id]) missing.add(d.case_id);
      await Promise.all([...missing].map(async (id) => {
        try {
          const c = await api.get(`/api/v1/cases/${id}`);
          names[id] = { number: c.number, title: c.title };
        } catch { /* shown by id */ }
      }));
    }
    const subs = computed(() => session.org?.sub_districts || []);
    const finance = computed(() => ['finance', 'admin'].includes(session.me?.role));
    async function loadPri() {
      error.value = '';
      try {
        pri.value = await api.get('/api/v1/allocation/priorities', { year: year.value, sub_district: sub.value, limit: 100 });
        for (const n of pri.value.needs || []) names[n.case_id] = { number: n.number, title: n.title };
      } catch (e) {
        error.value = errText(e);
      }
    }
    async function loadRuns() {
      try {
        runs.value = (await api.get('/api/v1/allocation/runs', { year: year.value, sub_district: sub.value, limit: 100 })).items || [];
      } catch (e) {
        error.value = errText(e);
      }
    }
    onMounted(() => {
      loadPri();
      loadRuns();
    });
    let runId = '';
    async function doPreview() {
      if (!sub.value) return ElMessage.warning('请选择街道');
      busy.value = true;
      committed.value = null;
      try {
        runId = newKeyLike();
        preview.value = await api.post('/api/v1/allocation/runs', { run_id: runId, fiscal_year: year.value, sub_district: sub.value, dry_run: true });
        resolve(preview.value);
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    async function doCommit() {
      try {
        await ElMessageBox.confirm(`按预览结果为 ${preview.value.funded_cases} 件诉求预留 ${yuan(preview.value.funded_fen)} 元？`, '确认分配', { confirmButtonText: '确认分配', cancelButtonText: '取消' });
      } catch {
        return;
      }
      busy.value = true;
      try {
        // Its own run id (the preview stored nothing); the button is disabled while it runs.
        committed.value = await api.post('/api/v1/allocation/runs', { run_id: newKeyLike(), fiscal_year: year.value, sub_district: sub.value, dry_run: false });
        resolve(committed.value);
        preview.value = null;
        ElMessage.success(`已分配：${committed.value.applied} 件已预留资金`);
        loadPri();
        loadRuns();
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    async function openRun(r) {
      try {
        committed.value = await api.get(`/api/v1/allocation/runs/${r.run_id}`);
        resolve(committed.value);
        preview.value = null;
        tab.value = 'run';
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    function exportPri() {
      csv(`优先级-${year.value}.csv`, ['排名', '项目内排名', '编号', '标题', '预算项目', '估算（元）', '得分', '构成'],
        (pri.value?.needs || []).map((n) => [n.rank, n.line_rank, n.number, n.title, n.project_name, yuan(n.estimate_fen).replace(/,/g, ''), n.score?.total,
          (n.score?.parts || []).map((p) => `${p.label}${p.points}`).join('；')]));
    }
    return { names, tab, year, sub, pri, runs, preview, committed, busy, error, subs, finance, session, loadPri, loadRuns, doPreview, doCommit, openRun, exportPri, yuan, dt, subName };
  },
  template: `
  <div>
    <h2 class="page-title">资金分配</h2>
    <div class="toolbar">
      <el-input-number v-model="year" :min="2000" :max="2100" controls-position="right" style="width:110px" @change="loadPri(); loadRuns()" />
      <el-select v-if="!session.me?.sub_district" v-model="sub" placeholder="全部街道" clearable filterable style="width:140px" @change="loadPri(); loadRuns()">
        <el-option v-for="s in subs" :key="s.code" :label="s.name" :value="s.code" />
      </el-select>
    </div>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <el-tabs v-model="tab" type="border-card">
      <el-tab-pane label="优先级" name="priorities">
        <div class="toolbar"><span class="muted" v-if="pri">共 {{ pri.total }} 件待分配</span><span class="spacer" /><el-button @click="exportPri">导出</el-button></div>
        <el-table :data="pri?.needs || []" border size="small" empty-text="没有待分配资金的诉求">
          <el-table-column type="expand"><template #default="{ row }">
            <div style="padding:4px 40px"><b>为什么排在第 {{ row.rank }} 位：</b>总分 {{ row.score?.total }}
              <el-table :data="row.score?.parts || []" size="small" border style="width:520px;margin-top:4px">
                <el-table-column prop="label" label="因素" /><el-table-column prop="input" label="取值" width="90" /><el-table-column prop="points" label="得分" width="90" />
              </el-table></div>
          </template></el-table-column>
          <el-table-column prop="rank" label="排名" width="60" />
          <el-table-column prop="line_rank" label="项目内" width="65" />
          <el-table-column prop="number" label="编号" width="125" />
          <el-table-column prop="title" label="标题" min-width="160" show-overflow-tooltip />
          <el-table-column label="预算项目" min-width="140" show-overflow-tooltip><template #default="{ row }">{{ row.project_name || '（无对应项目）' }}</template></el-table-column>
          <el-table-column label="估算（元）" width="110" align="right"><template #default="{ row }"><span class="money">{{ yuan(row.estimate_fen) }}</span></template></el-table-column>
          <el-table-column label="得分" width="70"><template #default="{ row }">{{ row.score?.total }}</template></el-table-column>
          <el-table-column label="主要因素" min-width="200" show-overflow-tooltip><template #default="{ row }">{{ (row.score?.parts || []).filter(p => p.points).map(p => p.label + ' ' + p.points).join('，') }}</template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane label="分配运行" name="run">
        <div class="toolbar">
          <el-button type="primary" :loading="busy" @click="doPreview" data-test="preview">预览分配</el-button>
          <el-button type="success" :disabled="!preview" :loading="busy" @click="doCommit" data-test="commit">确认分配</el-button>
          <span class="muted" v-if="!sub">请先选择街道</span>
        </div>
        <RunResult v-if="preview" :run="preview" :names="names" title="预览（未保存，未预留资金）" />
        <RunResult v-if="committed" :run="committed" :names="names" :title="'已执行的分配（' + dt(committed.created_at) + '）'" />
      </el-tab-pane>
      <el-tab-pane label="历史运行" name="runs">
        <el-table :data="runs" border size="small" empty-text="暂无已执行的分配" @row-dblclick="openRun">
          <el-table-column label="时间" width="140"><template #default="{ row }">{{ dt(row.created_at) }}</template></el-table-column>
          <el-table-column prop="sub_district_name" label="街道" width="100" />
          <el-table-column prop="fiscal_year" label="年度" width="60" />
          <el-table-column prop="state" label="状态" width="70" />
          <el-table-column prop="funded_cases" label="获资助" width="70" />
          <el-table-column label="预留（元）" width="120" align="right"><template #default="{ row }">{{ yuan(row.funded_fen) }}</template></el-table-column>
          <el-table-column prop="waitlisted_cases" label="候补" width="60" />
          <el-table-column label="缺口（元）" width="120" align="right"><template #default="{ row }">{{ yuan(row.shortfall_fen) }}</template></el-table-column>
          <el-table-column label="" width="80"><template #default="{ row }"><el-button link type="primary" @click="openRun(row)">查看</el-button></template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane v-if="finance" label="因素法（区对街道）" name="factor"><FactorPanel :year="year" /></el-tab-pane>
    </el-tabs>
  </div>`,
};
