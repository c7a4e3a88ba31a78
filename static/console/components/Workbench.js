// Workbench (工作台) is the staff member's queues with counts, overdue first.
// 资金不足 comes from the server (GET /allocation/shortfalls): needs
// waitlisted by the latest committed run, or whose estimate exceeds what
// their line has available.
import { ref, computed, onMounted } from 'vue';
import { useRouter } from 'vue-router';
import { api, session, caseLabels, loadCaseLabels, fiscalYear, errText, yuan } from '../shared.js';
import CaseTable from './CaseTable.js';

const OPEN = ['submitted', 'accepted', 'assigned', 'assessed', 'in_progress'];
const reasonLabels = { waitlisted: '上次分配候补', over_available: '估算超出项目可用' };

export default {
  name: 'Workbench',
  components: { CaseTable },
  setup() {
    const router = useRouter();
    const all = ref([]);
    const short = ref({ total: 0, items: [] });
    const loading = ref(true);
    const error = ref('');
    const active = ref('submitted');
    async function load() {
      loading.value = true;
      error.value = '';
      try {
        const [lists, s] = await Promise.all([
          Promise.all(OPEN.map((st) => api.get('/api/v1/cases', { status: st, limit: 100, sort: 'deadline' }))),
          api.get('/api/v1/allocation/shortfalls', { year: fiscalYear(), limit: 100 }),
        ]);
        all.value = lists.flatMap((l) => l.items);
        short.value = s;
      } catch (e) {
        error.value = errText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    loadCaseLabels();
    const shortIds = computed(() => new Set((short.value.items || []).map((i) => i.case_id)));
    const byUrgency = (xs) => [...xs].sort((a, b) => (a.deadline?.remaining_seconds ?? Infinity) - (b.deadline?.remaining_seconds ?? Infinity));
    const queues = computed(() => {
      const q = {
        submitted: { title: caseLabels.status.submitted || '', rows: all.value.filter((c) => c.status === 'submitted') },
        accepted: { title: '待派单', rows: all.value.filter((c) => c.status === 'accepted') },
        overdue: { title: '超期', rows: all.value.filter((c) => c.overdue) },
        unlinked: { title: '待关联预算', rows: all.value.filter((c) => ['assessed', 'in_progress'].includes(c.status) && !c.budget && !shortIds.value.has(c.id)) },
      };
      for (const v of Object.values(q)) v.count = v.rows.length;
      q.short = { title: '资金不足', count: short.value.total || 0 };
      return q;
    });
    const rows = computed(() => byUrgency(queues.value[active.value].rows || []));
    const open = (row) => router.push(`/cases/${row.case_id}`);
    const reasons = (row) => (row.reasons || []).map((r) => reasonLabels[r] || r).join('；');
    return { session, queues, active, rows, short, loading, error, load, open, reasons, yuan };
  },
  template: `
  <div>
    <h2 class="page-title">工作台 <el-button size="small" @click="load" :loading="loading">刷新</el-button></h2>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <div class="cards">
      <div v-for="(q, k) in queues" :key="k" class="card" :class="{ active: active === k }" :data-queue="k" @click="active = k" tabindex="0" @keyup.enter="active = k">
        <div class="muted">{{ q.title }}</div>
        <div class="n" :class="{ 'flag-late': (k === 'overdue' || k === 'short') && q.count }">{{ q.count }}</div>
      </div>
    </div>
    <div class="panel" v-if="active === 'short'" data-test="short-queue">
      <h3>资金不足：共 {{ short.total }} 件（上次分配候补 {{ short.waitlisted || 0 }} 件，估算超出项目可用 {{ short.over_available || 0 }} 件），合计缺口 {{ yuan(short.gap_fen) }} 元</h3>
      <el-table :data="short.items" v-loading="loading" border stripe size="small" @row-dblclick="open" empty-text="没有资金不足的诉求" style="width:100%">
        <el-table-column label="编号" width="130"><template #default="{ row }"><el-link type="primary" @click="open(row)">{{ row.number }}</el-link></template></el-table-column>
        <el-table-column prop="title" label="标题" min-width="180" show-overflow-tooltip />
        <el-table-column prop="project_name" label="预算项目" min-width="150" show-overflow-tooltip />
        <el-table-column label="估算（元）" width="110" align="right"><template #default="{ row }"><span class="money">{{ yuan(row.estimate_fen) }}</span></template></el-table-column>
        <el-table-column label="项目可用（元）" width="120" align="right"><template #default="{ row }"><span class="money">{{ yuan(row.available_fen) }}</span></template></el-table-column>
        <el-table-column label="缺口（元）" width="110" align="right"><template #default="{ row }"><span class="money" :class="{ 'flag-late': row.gap_fen > 0 }">{{ yuan(row.gap_fen) }}</span></template></el-table-column>
        <el-table-column label="原因" min-width="170"><template #default="{ row }">{{ reasons(row) }}</template></el-table-column>
      </el-table>
      <div class="muted" style="margin-top:6px">资金不足：已评估、未落实资金的诉求中，在最近一次已执行的分配里列为候补，或估算超过所属预算项目当前可用金额的。可在“预算项目”调增、调剂后重新分配。</div>
    </div>
    <div class="panel" v-else>
      <h3>{{ queues[active].title }}（按时限排序，超期在前）</h3>
      <CaseTable :rows="rows" :loading="loading" />
    </div>
  </div>`,
};
