// Lines (预算项目): the year's lines with approved / adjusted / committed /
// spent / available and an execution bar, grouped by sub-district (each
// group with its subtotal) and sorted by any column on the server (the list
// is paged: GET /api/v1/budget/lines?sort=); new lines, XLSX import with the
// errors per row and cell, and XLSX export. Column words are the server's
// (moneyLabels), the same the public board uses.
import { ref, reactive, computed, onMounted } from 'vue';
import { useRouter } from 'vue-router';
import { ElMessage } from 'element-plus';
import { api, session, yuan, toFen, fiscalYear, errText, subName, download } from '../shared.js';
import { loadMoneyLabels, figure } from '../moneyLabels.js';

const moneyKeys = ['approved_fen', 'adjusted_fen', 'committed_fen', 'spent_fen', 'available_fen'];

export default {
  name: 'Lines',
  setup() {
    const router = useRouter();
    const year = ref(fiscalYear());
    const sub = ref('');
    const all = ref([]);
    // A district has hundreds of lines: a filter by name or item, and a
    // table that scrolls under its header with the totals kept in view.
    const q = ref('');
    // Grouped by sub-district (the district's order) unless turned off;
    // order is the column clicked, kept by the server across pages.
    const grouped = ref(true);
    const order = ref({ prop: '', desc: false });
    const lines = computed(() => {
      const k = q.value.trim();
      return k ? all.value.filter((l) => `${l.project_name} ${l.item_code} ${l.item_name}`.includes(k)) : all.value;
    });
    const rows = computed(() => {
      if (!grouped.value) return lines.value;
      const groups = [];
      for (const l of lines.value) {
        let g = groups[groups.length - 1];
        if (!g || g.sub_district !== l.sub_district) {
          g = { id: 'sub-' + l.sub_district, group: true, sub_district: l.sub_district, project_name: subName(l.sub_district), children: [] };
          for (const m of moneyKeys) g[m] = 0;
          groups.push(g);
        }
        g.children.push(l);
        for (const m of moneyKeys) g[m] += l[m];
      }
      return groups;
    });
    const sortSpec = computed(() => {
      const col = order.value.prop ? (order.value.desc ? '-' : '') + order.value.prop : '';
      if (!grouped.value) return col || 'sub_district';
      return order.value.prop === 'sub_district' ? col : ['sub_district', col].filter(Boolean).join(',');
    });
    function onSort({ prop, order: o }) {
      order.value = o ? { prop, desc: o === 'descending' } : { prop: '', desc: false };
      load();
    }
    const maxHeight = Math.max(420, window.innerHeight - 230);
    const loading = ref(false);
    const error = ref('');
    const problems = ref([]);
    const imported = ref(null);
    const catalog = ref([]);
    const add = reactive({ open: false, sub_district: '', item_code: '', project_name: '', approved: '' });
    const finance = computed(() => ['finance', 'admin'].includes(session.me?.role));
    const subs = computed(() => session.org?.sub_districts || []);
    async function load() {
      loading.value = true;
      error.value = '';
      try {
        let out = [];
        let cursor = '';
        do {
          const page = await api.get('/api/v1/budget/lines', { year: year.value, sub_district: sub.value, sort: sortSpec.value, limit: 100, cursor });
          out = out.concat(page.items || []);
          cursor = page.next_cursor || '';
        } while (cursor && out.length < 2000);
        all.value = out;
      } catch (e) {
        error.value = errText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(async () => {
      loadMoneyLabels();
      load();
      try {
        catalog.value = (await api.get('/api/v1/catalog')).items || [];
      } catch { /* creating lines shows no items */ }
    });
    const exec = (l) => {
      const budget = l.approved_fen + l.adjusted_fen;
      return budget > 0 ? Math.min(100, Math.round((l.spent_fen * 1000) / budget) / 10) : 0;
    };
    const totals = computed(() => lines.value.reduce((t, l) => {
      for (const k of moneyKeys) t[k] += l[k];
      return t;
    }, Object.fromEntries(moneyKeys.map((k) => [k, 0]))));
    function summary({ columns }) {
      return columns.map((c, i) => (i === 0 ? '合计' : c.property && c.property in totals.value ? yuan(totals.value[c.property]) : ''));
    }
    async function exportXlsx() {
      try {
        const name = await download('/api/v1/budget/export', { year: year.value, sub_district: sub.value }, `预算执行-${year.value}.xlsx`);
        ElMessage.success(`已导出 ${name}`);
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    async function importFile(ev) {
      const file = ev.target.files?.[0];
      ev.target.value = '';
      if (!file) return;
      problems.value = [];
      imported.value = null;
      const form = new FormData();
      form.append('file', file);
      try {
        imported.value = await api.upload('/api/v1/budget/import', form);
        ElMessage.success(`已导入 ${imported.value.imported} 个预算项目`);
        load();
      } catch (e) {
        problems.value = Object.entries(e.fields || {}).map(([cell, msg]) => ({ cell, msg }))
          .sort((a, b) => (parseInt(a.cell.replace(/\D/g, ''), 10) || 0) - (parseInt(b.cell.replace(/\D/g, ''), 10) || 0));
        if (!problems.value.length) ElMessage.error(errText(e));
      }
    }
    async function create() {
      const fen = toFen(add.approved);
      if (fen === null) return ElMessage.error('批复金额格式不正确');
      try {
        await api.post('/api/v1/budget/lines', { fiscal_year: year.value, sub_district: add.sub_district, item_code: add.item_code, project_name: add.project_name, approved_fen: fen });
        ElMessage.success('已新增预算项目');
        add.open = false;
        load();
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    return { q, grouped, onSort, figure, lines, maxHeight, year, sub, rows, loading, error, problems, imported, add, finance, subs, catalog, load, exec, summary, exportXlsx, importFile, create, router, yuan, subName, session };
  },
  template: `
  <div>
    <h2 class="page-title">预算项目</h2>
    <div class="toolbar">
      <el-input-number v-model="year" :min="2000" :max="2100" controls-position="right" style="width:110px" @change="load" />
      <el-select v-if="!session.me?.sub_district" v-model="sub" placeholder="全部街道" clearable filterable style="width:140px" @change="load">
        <el-option v-for="s in subs" :key="s.code" :label="s.name" :value="s.code" />
      </el-select>
      <el-input v-model="q" placeholder="筛选项目名称或分类" clearable style="width:200px" data-test="line-filter" />
      <el-checkbox v-model="grouped" @change="load" data-test="group-by-sub">按街道分组</el-checkbox>
      <span class="muted" data-test="line-count">{{ lines.length }} 个项目</span>
      <span class="spacer" />
      <el-button v-if="finance" @click="add.open = true">新增项目</el-button>
      <label v-if="finance" class="el-button el-button--small" style="cursor:pointer">导入 XLSX<input type="file" accept=".xlsx" style="display:none" @change="importFile" data-test="import" /></label>
      <el-button type="primary" @click="exportXlsx" data-test="export">导出 XLSX</el-button>
    </div>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <div v-if="problems.length" class="panel" data-test="import-problems">
      <h3 style="color:#f56c6c">导入未完成：请修改以下单元格后重新导入（整个文件均未导入）</h3>
      <el-table :data="problems" border size="small" max-height="240">
        <el-table-column prop="cell" label="行 / 单元格" width="120" />
        <el-table-column prop="msg" label="问题" />
      </el-table>
    </div>
    <el-alert v-if="imported" :title="'已导入 ' + imported.imported + ' 个预算项目' + (imported.batch ? '（批次 ' + imported.batch + '）' : '')" type="success" :closable="false" style="margin-bottom:8px" />
    <div class="panel">
      <el-table :data="rows" row-key="id" default-expand-all :tree-props="{ children: 'children' }" :indent="12" v-loading="loading" border size="small" :max-height="maxHeight"
        show-summary :summary-method="summary" @sort-change="onSort" :row-style="({ row }) => row.group ? { background: '#f5f7fa' } : null"
        @row-dblclick="(r) => !r.group && router.push('/lines/' + r.id)" empty-text="本年度暂无预算项目" data-test="lines-table">
        <el-table-column label="项目名称" min-width="210" show-overflow-tooltip sortable="custom" prop="project_name">
          <template #default="{ row }"><b v-if="row.group" data-test="line-group">{{ row.project_name }}（{{ row.children.length }} 个项目）</b><a v-else :href="'/console/lines/' + row.id" style="color:var(--el-color-primary);text-decoration:none" @click.prevent="router.push('/lines/' + row.id)">{{ row.project_name }}</a></template>
        </el-table-column>
        <el-table-column label="街道" width="96" sortable="custom" prop="sub_district"><template #default="{ row }">{{ row.group ? '' : subName(row.sub_district) }}</template></el-table-column>
        <el-table-column label="支出分类" min-width="130" show-overflow-tooltip sortable="custom" prop="item_code"><template #default="{ row }"><template v-if="!row.group">{{ row.item_code }} {{ row.item_name }}</template></template></el-table-column>
        <el-table-column v-for="k in ['approved_fen', 'adjusted_fen', 'committed_fen', 'spent_fen', 'available_fen']" :key="k" :prop="k" :label="figure(k)" min-width="112" align="right" sortable="custom">
          <template #default="{ row }"><span class="money" :data-col="k">{{ yuan(row[k]) }}</span></template>
        </el-table-column>
        <el-table-column label="执行率" width="112" prop="execution" sortable="custom"><template #default="{ row }"><el-progress :percentage="exec(row)" :stroke-width="10" /></template></el-table-column>
      </el-table>
    </div>
    <el-dialog v-model="add.open" title="新增预算项目" width="520px">
      <el-form label-width="90px" @submit.prevent="create">
        <el-form-item label="街道" required><el-select v-model="add.sub_district" filterable style="width:100%"><el-option v-for="s in subs" :key="s.code" :label="s.name" :value="s.code" /></el-select></el-form-item>
        <el-form-item label="支出分类" required><el-select v-model="add.item_code" filterable style="width:100%"><el-option v-for="i in catalog" :key="i.code" :label="i.code + ' ' + i.name" :value="i.code" /></el-select></el-form-item>
        <el-form-item label="项目名称" required><el-input v-model="add.project_name" /></el-form-item>
        <el-form-item label="批复（元）" required><el-input v-model="add.approved" placeholder="如 120000.00" /></el-form-item>
      </el-form>
      <template #footer><el-button @click="add.open = false">取消</el-button><el-button type="primary" @click="create">保存</el-button></template>
    </el-dialog>
  </div>`,
};
