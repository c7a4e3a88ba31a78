// LineDetail is one budget line: its totals, reservations and audit with
// case numbers and titles, adjustments (调增 / 调减 / 调剂) with reasons,
// reviews 事前 / 事中 / 事后, and voiding a line that never moved money.
import { ref, reactive, computed, onMounted } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { ElMessage, ElMessageBox } from 'element-plus';
import { api, session, yuan, toFen, dt, errText, subName } from '../shared.js';

import { moneyLabels, loadMoneyLabels, figure } from '../moneyLabels.js';

// The budget words are the server's (GET /api/v1/budget/labels).
const auditLabels = moneyLabels.audit_kinds;
const stateLabels = moneyLabels.reservation_states;
const kindLabels = moneyLabels.adjustment_kinds;
const stageLabels = moneyLabels.review_stages;

export default {
  name: 'LineDetail',
  setup() {
    const route = useRoute();
    const router = useRouter();
    const l = ref(null);
    const audit = ref([]);
    const names = reactive({});
    const others = ref([]);
    // The line's adjustments with their reasons and the other line of a
    // 调剂, by id (the line itself keeps only kind, amount and time).
    const adjustments = reactive({});
    const error = ref('');
    const busy = ref(false);
    const adj = reactive({ open: false, kind: 'increase', to: '', amount: '', reason: '' });
    const rev = reactive({ open: false, stage: 'before', note: '' });
    const finance = computed(() => ['finance', 'admin'].includes(session.me?.role));
    async function caseName(id) {
      if (!id || names[id]) return;
      names[id] = { number: id, title: '' };
      try {
        const c = await api.get(`/api/v1/cases/${id}`);
        names[id] = { number: c.number, title: c.title };
      } catch { /* shown by id */ }
    }
    async function load() {
      try {
        l.value = await api.get(`/api/v1/budget/lines/${route.params.id}`);
        const page = await api.get('/api/v1/budget/audit', { line_id: l.value.id, limit: 100 });
        audit.value = page.items || [];
        // The server names the cases; a case it could not name is fetched here.
        Object.assign(names, l.value.cases || {}, page.cases || {});
        for (const r of l.value.reservations || []) caseName(r.case_id);
        for (const a of audit.value) caseName(a.case_id);
        others.value = ((await api.get('/api/v1/budget/lines', { year: l.value.fiscal_year, sub_district: l.value.sub_district, limit: 100 })).items || []).filter((x) => x.id !== l.value.id);
        const adjs = (await api.get('/api/v1/budget/adjustments', { line_id: l.value.id, limit: 100 })).items || [];
        for (const a of adjs) adjustments[a.id] = a;
      } catch (e) {
        error.value = errText(e);
      }
    }
    onMounted(() => { loadMoneyLabels(); load(); });
    // counterpart names the other line of a 调剂 row: where the money went
    // (调往) or came from (来自).
    function counterpart(row) {
      const a = adjustments[row.adjustment_id];
      const other = a?.entries?.find((e) => e.line_id !== l.value.id);
      if (!other) return '';
      const o = others.value.find((x) => x.id === other.line_id);
      return `${row.delta_fen < 0 ? '调往' : '来自'}「${o ? o.project_name : other.line_id}」`;
    }
    const moved = computed(() => (l.value?.reservations || []).length > 0 || audit.value.some((a) => a.kind !== 'adjust'));
    async function adjust() {
      const fen = toFen(adj.amount);
      if (!fen || fen <= 0) return ElMessage.error('请填写正确的金额（元）');
      if (adj.kind === 'transfer' && !adj.to) return ElMessage.error('请选择调入项目');
      if (!adj.reason.trim()) return ElMessage.error('请填写调整理由');
      busy.value = true;
      try {
        await api.post(`/api/v1/budget/lines/${l.value.id}/adjustments`, { kind: adj.kind, to_line_id: adj.kind === 'transfer' ? adj.to : '', amount_fen: fen, reason: adj.reason });
        ElMessage.success(`${kindLabels[adj.kind]} ${yuan(fen)} 元已生效`);
        adj.open = false;
        Object.assign(adj, { kind: 'increase', to: '', amount: '', reason: '' });
        load();
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    async function review() {
      if (!rev.note.trim()) return ElMessage.error('请填写评审意见');
      busy.value = true;
      try {
        l.value = await api.post(`/api/v1/budget/lines/${l.value.id}/review`, { stage: rev.stage, note: rev.note });
        ElMessage.success(`${stageLabels[rev.stage]}意见已记录`);
        rev.open = false;
        rev.note = '';
        load();
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    async function voidLine() {
      try {
        await ElMessageBox.confirm(`作废预算项目“${l.value.project_name}”？作废后不能再关联诉求。`, '作废预算项目', { type: 'warning', confirmButtonText: '作废', cancelButtonText: '取消' });
      } catch {
        return;
      }
      try {
        await api.post(`/api/v1/budget/lines/${l.value.id}/void`, { version: l.value.version });
        ElMessage.success('已作废');
        router.push('/lines');
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    return { l, audit, names, others, adjustments, counterpart, error, busy, adj, rev, finance, moved, adjust, review, voidLine, router, yuan, dt, subName, auditLabels, stateLabels, kindLabels, stageLabels, figure };
  },
  template: `
  <div v-if="l">
    <h2 class="page-title"><el-button link @click="router.push('/lines')">‹ 预算项目</el-button>{{ l.project_name }} <span class="muted">{{ subName(l.sub_district) }} · {{ l.item_code }} {{ l.item_name }} · {{ l.fiscal_year }} 年</span></h2>
    <div class="toolbar">
      <el-button v-if="finance" type="primary" @click="adj.open = true" data-test="adjust">预算调整</el-button>
      <el-button v-if="finance" @click="rev.open = true" data-test="review">评审</el-button>
      <el-button v-if="finance" type="danger" plain :disabled="moved" @click="voidLine" :title="moved ? '已有资金变动的项目不能作废' : ''">作废</el-button>
    </div>
    <div class="panel">
      <el-descriptions :column="5" border size="small">
        <el-descriptions-item :label="figure('approved_fen')"><span class="money">{{ yuan(l.approved_fen) }}</span></el-descriptions-item>
        <el-descriptions-item :label="figure('adjusted_fen')"><span class="money" data-test="adjusted">{{ yuan(l.adjusted_fen) }}</span></el-descriptions-item>
        <el-descriptions-item :label="figure('committed_fen')"><span class="money" data-test="committed">{{ yuan(l.committed_fen) }}</span></el-descriptions-item>
        <el-descriptions-item :label="figure('spent_fen')"><span class="money" data-test="spent">{{ yuan(l.spent_fen) }}</span></el-descriptions-item>
        <el-descriptions-item :label="figure('available_fen')"><span class="money" data-test="available">{{ yuan(l.available_fen) }}</span></el-descriptions-item>
      </el-descriptions>
    </div>
    <div class="grid2">
      <div class="panel">
        <h3>资金预留（{{ (l.reservations || []).length }}）</h3>
        <el-table :data="l.reservations || []" border size="small" empty-text="暂无">
          <el-table-column label="诉求" min-width="200" show-overflow-tooltip><template #default="{ row }"><el-link type="primary" @click="router.push('/cases/' + row.case_id)">{{ names[row.case_id]?.number }}</el-link> {{ names[row.case_id]?.title }}</template></el-table-column>
          <el-table-column label="金额（元）" width="190" align="right">
            <!-- Once spent, the money is what was spent; the reservation and what it gave back are noted below. -->
            <template #default="{ row }"><span class="money" data-test="reservation-amount">{{ yuan(row.state === 'spent' ? row.spent_fen : row.amount_fen) }}</span>
              <div v-if="row.state === 'spent'" class="muted" data-test="reservation-detail">预留 {{ yuan(row.amount_fen) }}<template v-if="row.released_fen"> · 释放 {{ yuan(row.released_fen) }}</template></div></template>
          </el-table-column>
          <el-table-column label="状态" width="70"><template #default="{ row }"><span data-test="reservation-state">{{ stateLabels[row.state] || row.state }}</span></template></el-table-column>
        </el-table>
      </div>
      <div class="panel">
        <h3>调整与评审</h3>
        <el-table :data="l.adjustments || []" border size="small" empty-text="未调整">
          <el-table-column label="类型" width="70"><template #default="{ row }">{{ kindLabels[row.kind] || row.kind }}</template></el-table-column>
          <el-table-column label="金额（元）" align="right" width="120"><template #default="{ row }">{{ yuan(row.delta_fen) }}</template></el-table-column>
          <el-table-column label="理由"><template #default="{ row }">{{ adjustments[row.adjustment_id]?.reason || '' }}<div v-if="counterpart(row)" class="muted">{{ counterpart(row) }}</div></template></el-table-column>
          <el-table-column label="时间" width="140"><template #default="{ row }">{{ dt(row.at) }}</template></el-table-column>
        </el-table>
        <el-table :data="l.review_notes || []" border size="small" empty-text="未评审" style="margin-top:8px">
          <el-table-column label="阶段" width="90"><template #default="{ row }">{{ stageLabels[row.stage] }}</template></el-table-column>
          <el-table-column prop="note" label="意见" show-overflow-tooltip />
          <el-table-column prop="by_name" label="评审人" width="120" />
          <el-table-column label="时间" width="140"><template #default="{ row }">{{ dt(row.at) }}</template></el-table-column>
        </el-table>
      </div>
    </div>
    <div class="panel">
      <h3>资金流水</h3>
      <el-table :data="audit" border size="small" empty-text="暂无资金变动">
        <el-table-column label="时间" width="140"><template #default="{ row }">{{ dt(row.at) }}</template></el-table-column>
        <el-table-column label="类型" width="90"><template #default="{ row }">{{ auditLabels[row.kind] || row.kind }}</template></el-table-column>
        <el-table-column label="诉求" min-width="170" show-overflow-tooltip><template #default="{ row }"><template v-if="row.case_id">{{ names[row.case_id]?.number }} {{ names[row.case_id]?.title }}</template></template></el-table-column>
        <el-table-column label="金额（元）" width="110" align="right"><template #default="{ row }">{{ yuan(row.amount_fen) }}</template></el-table-column>
        <el-table-column label="变动后可用（元）" width="130" align="right"><template #default="{ row }">{{ yuan(row.after?.available_fen) }}</template></el-table-column>
        <el-table-column label="经办人" width="170" show-overflow-tooltip><template #default="{ row }"><span data-test="audit-actor">{{ row.actor_label || row.by_name }}</span></template></el-table-column>
        <el-table-column prop="note" label="说明" min-width="240" show-overflow-tooltip />
      </el-table>
    </div>
    <el-dialog v-model="adj.open" title="预算调整" width="520px" data-test="adjust-dialog">
      <el-form label-width="90px" @submit.prevent="adjust">
        <el-form-item label="类型"><el-radio-group v-model="adj.kind"><el-radio-button value="increase">调增</el-radio-button><el-radio-button value="decrease">调减</el-radio-button><el-radio-button value="transfer">调剂</el-radio-button></el-radio-group></el-form-item>
        <el-form-item v-if="adj.kind === 'transfer'" label="调入项目"><el-select v-model="adj.to" filterable style="width:100%"><el-option v-for="o in others" :key="o.id" :label="o.project_name + '（' + o.item_name + '）'" :value="o.id" /></el-select></el-form-item>
        <el-form-item label="金额（元）"><el-input v-model="adj.amount" /></el-form-item>
        <el-form-item label="理由" required><el-input v-model="adj.reason" type="textarea" :rows="3" /></el-form-item>
      </el-form>
      <template #footer><el-button @click="adj.open = false">取消</el-button><el-button type="primary" :loading="busy" @click="adjust">提交</el-button></template>
    </el-dialog>
    <el-dialog v-model="rev.open" title="项目评审" width="520px" data-test="review-dialog">
      <el-form label-width="90px">
        <el-form-item label="阶段"><el-radio-group v-model="rev.stage"><el-radio-button value="before">事前</el-radio-button><el-radio-button value="during">事中</el-radio-button><el-radio-button value="after">事后</el-radio-button></el-radio-group></el-form-item>
        <el-form-item label="意见" required><el-input v-model="rev.note" type="textarea" :rows="4" /></el-form-item>
      </el-form>
      <template #footer><el-button @click="rev.open = false">取消</el-button><el-button type="primary" :loading="busy" @click="review">提交</el-button></template>
    </el-dialog>
  </div>
  <el-alert v-else-if="error" :title="error" type="error" :closable="false" />
  <el-skeleton v-else :rows="6" animated />`,
};
