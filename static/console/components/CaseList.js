// CaseList (诉求) filters and sorts the cases of the user's scope; a
// case number typed into the search box opens that case. Selected cases
// take one bulk step (CaseBulk); 导出 asks the server for every page of
// the list with the same filters (GET /api/v1/cases/export).
import { ref, reactive, computed, onMounted } from 'vue';
import { useRouter } from 'vue-router';
import { ElMessage } from 'element-plus';
import { api, session, caseLabels, loadCaseLabels, errText, download } from '../shared.js';
import CaseTable from './CaseTable.js';
import CaseBulk from './CaseBulk.js';

export default {
  name: 'CaseList',
  components: { CaseTable, CaseBulk },
  setup() {
    const router = useRouter();
    const f = reactive({ status: '', area: '', sub_district: '', community: '', funded: '', overdue: false, text: '', sort: 'filed' });
    const rows = ref([]);
    const next = ref('');
    const loading = ref(false);
    const error = ref('');
    const areas = ref([]);
    const subs = computed(() => session.org?.sub_districts || []);
    const communities = computed(() => {
      const code = session.me?.sub_district || f.sub_district;
      return subs.value.find((s) => s.code === code)?.communities || [];
    });
    function params(cursor) {
      const number = /^[A-Z]{2}\d{4}-\d+$/i.test(f.text.trim());
      return {
        status: f.status, area: f.area, sub_district: session.me?.sub_district ? '' : f.sub_district, community: f.community,
        overdue: f.overdue ? 'true' : '', text: number ? '' : f.text.trim(), sort: f.sort, limit: 100, cursor,
      };
    }
    async function load(more = false) {
      loading.value = true;
      error.value = '';
      try {
        const t = f.text.trim().toUpperCase();
        if (/^[A-Z]{2}\d{4}-\d+$/.test(t)) {
          const c = await api.get(`/api/v1/cases/number/${encodeURIComponent(t)}`);
          router.push(`/cases/${c.id}`);
          return;
        }
        const out = await api.get('/api/v1/cases', params(more ? next.value : ''));
        rows.value = more ? rows.value.concat(out.items) : out.items;
        next.value = out.next_cursor || '';
      } catch (e) {
        error.value = errText(e);
      } finally {
        loading.value = false;
      }
    }
    const shown = computed(() => rows.value.filter((c) => {
      if (f.funded === 'yes') return c.budget && (c.budget.reserved_fen > 0 || c.budget.spent_fen > 0);
      if (f.funded === 'no') return !c.budget;
      return true;
    }));
    const selected = ref([]);
    // bulkDone puts the cases a bulk step changed in place of their rows.
    function bulkDone(changed) {
      const byId = new Map(changed.map((c) => [c.id, c]));
      rows.value = rows.value.map((r) => byId.get(r.id) || r);
      selected.value = selected.value.map((r) => byId.get(r.id) || r);
    }
    const exporting = ref(false);
    async function exportFile(format) {
      exporting.value = true;
      try {
        const { cursor, limit, ...filters } = params('');
        await download('/api/v1/cases/export', { ...filters, format }, `诉求列表.${format}`);
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        exporting.value = false;
      }
    }
    onMounted(async () => {
      load();
      try {
        areas.value = (await api.get('/api/v1/catalog')).areas || [];
      } catch { /* the filter simply lists no areas */ }
    });
    loadCaseLabels();
    return { f, shown, next, loading, error, load, areas, subs, communities, session, caseLabels, selected, bulkDone, exporting, exportFile };
  },
  template: `
  <div>
    <h2 class="page-title">诉求</h2>
    <div class="toolbar">
      <el-input v-model="f.text" placeholder="标题关键词或案件编号（回车）" clearable style="width:240px" @keyup.enter="load()" data-test="case-search" />
      <el-select v-model="f.status" placeholder="状态" clearable style="width:110px" @change="load()">
        <el-option v-for="s in caseLabels.statuses" :key="s.status" :label="s.label" :value="s.status" />
      </el-select>
      <el-select v-model="f.area" placeholder="领域" clearable style="width:120px" @change="load()">
        <el-option v-for="a in areas" :key="a.code" :label="a.name" :value="a.code" />
      </el-select>
      <el-select v-if="!session.me?.sub_district" v-model="f.sub_district" placeholder="街道" clearable filterable style="width:130px" @change="load()">
        <el-option v-for="s in subs" :key="s.code" :label="s.name" :value="s.code" />
      </el-select>
      <el-select v-model="f.community" placeholder="社区" clearable filterable style="width:150px" @change="load()">
        <el-option v-for="c in communities" :key="c.code" :label="c.name" :value="c.code" />
      </el-select>
      <el-select v-model="f.funded" placeholder="资金" clearable style="width:100px">
        <el-option label="已落实" value="yes" /><el-option label="未关联" value="no" />
      </el-select>
      <el-checkbox v-model="f.overdue" @change="load()">仅超期</el-checkbox>
      <el-radio-group v-model="f.sort" @change="load()">
        <el-radio-button value="filed">最新登记</el-radio-button>
        <el-radio-button value="deadline">时限最紧</el-radio-button>
      </el-radio-group>
      <span class="spacer" />
      <el-button @click="load()" type="primary">查询</el-button>
    </div>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <div class="panel">
      <div class="toolbar">
        <CaseBulk :selected="selected" @done="bulkDone" />
        <span class="spacer" />
        <span class="muted">按当前条件导出全部页：</span>
        <el-button size="small" @click="exportFile('csv')" :loading="exporting" data-test="export-csv">导出 CSV</el-button>
        <el-button size="small" @click="exportFile('xlsx')" :loading="exporting" data-test="export-xlsx">导出 XLSX</el-button>
      </div>
      <CaseTable :rows="shown" :loading="loading" selectable @selection-change="(s) => selected = s" />
      <div style="margin-top:8px" v-if="next"><el-button @click="load(true)">加载更多</el-button></div>
    </div>
  </div>`,
};
