// Workbench (工作台) is the staff member's queues with counts, overdue first.
import { ref, computed, onMounted } from 'vue';
import { api, session, due, fiscalYear, errText } from '../shared.js';
import CaseTable from './CaseTable.js';

const OPEN = ['submitted', 'accepted', 'assigned', 'assessed', 'in_progress'];

export default {
  name: 'Workbench',
  components: { CaseTable },
  setup() {
    const all = ref([]);
    const short = ref(new Set());
    const loading = ref(true);
    const error = ref('');
    const active = ref('submitted');
    async function load() {
      loading.value = true;
      error.value = '';
      try {
        const lists = await Promise.all(OPEN.map((s) => api.get('/api/v1/cases', { status: s, limit: 100, sort: 'deadline' })));
        all.value = lists.flatMap((l) => l.items);
        // 资金不足: needs the priority list places on a line that has less available than their estimate.
        const year = fiscalYear();
        const [pri, lines] = await Promise.all([
          api.get('/api/v1/allocation/priorities', { year, limit: 100 }),
          api.get('/api/v1/budget/lines', { year, limit: 100 }),
        ]);
        const avail = new Map((lines.items || []).map((l) => [l.id, l.available_fen]));
        short.value = new Set((pri.needs || []).filter((n) => n.line_id && (avail.get(n.line_id) ?? 0) < n.estimate_fen).map((n) => n.case_id));
      } catch (e) {
        error.value = errText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    const byUrgency = (xs) => [...xs].sort((a, b) => (due(a).ms ?? Infinity) - (due(b).ms ?? Infinity));
    const queues = computed(() => ({
      submitted: { title: '待受理', rows: all.value.filter((c) => c.status === 'submitted') },
      accepted: { title: '待派单', rows: all.value.filter((c) => c.status === 'accepted') },
      overdue: { title: '超期', rows: all.value.filter((c) => due(c).late) },
      unlinked: { title: '待关联预算', rows: all.value.filter((c) => ['assessed', 'in_progress'].includes(c.status) && !c.budget && !short.value.has(c.id)) },
      short: { title: '资金不足', rows: all.value.filter((c) => short.value.has(c.id)) },
    }));
    const rows = computed(() => byUrgency(queues.value[active.value].rows));
    return { session, queues, active, rows, loading, error, load };
  },
  template: `
  <div>
    <h2 class="page-title">工作台 <el-button size="small" @click="load" :loading="loading">刷新</el-button></h2>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <div class="cards">
      <div v-for="(q, k) in queues" :key="k" class="card" :class="{ active: active === k }" :data-queue="k" @click="active = k" tabindex="0" @keyup.enter="active = k">
        <div class="muted">{{ q.title }}</div>
        <div class="n" :class="{ 'flag-late': k === 'overdue' && q.rows.length }">{{ q.rows.length }}</div>
      </div>
    </div>
    <div class="panel">
      <h3>{{ queues[active].title }}（按时限排序，超期在前）</h3>
      <CaseTable :rows="rows" :loading="loading" />
    </div>
  </div>`,
};
