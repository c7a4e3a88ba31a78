// Allocation (资金分配): the priority list with each case's rank and why,
// previewing a run (stored by the server) and committing that preview,
// past runs and previews (an old preview opens and, if nothing it depends
// on has moved, can still be committed), and 因素法 across
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
    const priLoading = ref(false);
    async function loadPri() {
      error.value = '';
      priLoading.value = true;
      try {
        pri.value = await api.get('/api/v1/allocation/priorities', { year: year.value, sub_district: sub.value, limit: 100 });
        for (const n of pri.value.needs || []) names[n.case_id] = { number: n.number, title: n.title };
      } catch (e) {
        error.value = errText(e);
      } finally {
        priLoading.value = false;
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
    async function doPreview() {
      if (!sub.value) return ElMessage.warning('请选择街道');
      busy.value = true;
      committed.value = null;
      try {
        preview.value = await api.post('/api/v1/allocation/runs', { run_id: newKeyLike(), fiscal_year: year.value, sub_district: sub.value, dry_run: true });
        resolve(preview.value);
        loadRuns();
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    async function doCommit() {
      const p = preview.value;
      try {
        await ElMessageBox.confirm(`按 ${dt(p.created_at)} 的预览结果为 ${p.funded_cases} 件诉求预留 ${yuan(p.funded_fen)} 元？`, '确认分配', { confirmButtonText: '确认分配', cancelButtonText: '取消' });
      } catch {
        return;
      }
      busy.value = true;
      try {
        // A run of its own id that commits exactly this preview; the server
        // refuses (409) if a line's money, a case or the weights moved since.
        committed.value = await api.post('/api/v1/allocation/runs', { run_id: newKeyLike(), fiscal_year: p.fiscal_year, sub_district: p.sub_district, from_preview: p.run_id });
        resolve(committed.value);
        preview.value = null;
        ElMessage.success(`已分配：${committed.value.applied} 件已预留资金`);
        loadPri();
        loadRuns();
      } catch (e) {
        busy.value = false;
        if (e?.status === 409 || e?.code === 'conflict') {
          try {
            await ElMessageBox.confirm(`${errText(e)}`, '预览已过期', { confirmButtonText: '重新预览', cancelButtonText: '取消', type: 'warning' });
            await doPreview();
          } catch { /* kept the old preview on screen */ }
        } else {
          ElMessage.error(errText(e));
        }
      } finally {
        busy.value = false;
      }
    }
    async function openRun(r) {
      try {
        const run = await api.get(`/api/v1/allocation/runs/${r.run_id}`);
        resolve(run);
        if (run.dry_run) {
          preview.value = run;
          committed.value = null;
        } else {
          committed.value = run;
          preview.value = null;
        }
        tab.value = 'run';
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    const stateLabels = { preview: '预览', applying: '执行中', done: '已执行' };
    const previewTitle = computed(() => {
      const p = preview.value;
      if (!p) return '';
      const by = p.created_by_name ? `，${p.created_by_name}` : '';
      return p.committed_as ? `预览（${dt(p.created_at)}${by}，已确认分配）` : `预览（${dt(p.created_at)}${by}，已保存，未预留资金）`;
    });
    function exportPri() {
      csv(`优先级-${year.value}.csv`, ['排名', '项目内排名', '编号', '标题', '预算项目', '估算（元）', '得分', '构成'],
        (pri.value?.needs || []).map((n) => [n.rank, n.line_rank, n.number, n.title, n.project_name, yuan(n.estimate_fen).replace(/,/g, ''), n.score?.total,
          (n.score?.parts || []).map((p) => `${p.label}${p.points}`).join('；')]));
    }
    return { priLoading, names, tab, year, sub, pri, runs, preview, committed, busy, error, subs, finance, session, loadPri, loadRuns, doPreview, doCommit, openRun, exportPri, yuan, dt, subName, stateLabels, previewTitle };
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
        <el-table :data="pri?.needs || []" v-loading="priLoading" border size="small" :empty-text="priLoading ? '正在计算优先级…' : '没有待分配资金的诉求'">
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
          <el-button type="success" :disabled="!preview || !!preview.committed_as" :loading="busy" @click="doCommit" data-test="commit">确认分配</el-button>
          <span class="muted" v-if="!sub">请先选择街道</span>
          <span class="muted" v-else>预览会保存在“历史运行”中；确认分配时，若预览后预算或诉求有变化，需重新预览。</span>
        </div>
        <RunResult v-if="preview" :run="preview" :names="names" :title="previewTitle" />
        <RunResult v-if="committed" :run="committed" :names="names" :title="'已执行的分配（' + dt(committed.created_at) + '）'" />
      </el-tab-pane>
      <el-tab-pane label="历史运行" name="runs">
        <div class="muted" style="margin-bottom:6px">预览与已执行的分配按时间倒序；每个街道保留最近 20 次预览。双击或点“查看”打开。</div>
        <el-table :data="runs" border size="small" empty-text="暂无预览或已执行的分配" @row-dblclick="openRun" data-test="runs-table">
          <el-table-column label="时间" width="140"><template #default="{ row }">{{ dt(row.created_at) }}</template></el-table-column>
          <el-table-column label="类型" width="90"><template #default="{ row }">
            <el-tag v-if="row.dry_run" size="small" type="info">预览</el-tag>
            <el-tag v-else size="small" type="success">已执行</el-tag>
          </template></el-table-column>
          <el-table-column prop="sub_district_name" label="街道" width="100" />
          <el-table-column prop="fiscal_year" label="年度" width="60" />
          <el-table-column label="状态" width="110"><template #default="{ row }">{{ row.dry_run && row.committed_as ? '已据此执行' : (stateLabels[row.state] || row.state) }}</template></el-table-column>
          <el-table-column prop="created_by_name" label="操作人" width="90" />
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
