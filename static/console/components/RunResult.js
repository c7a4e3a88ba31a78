// RunResult shows an allocation run: per line funded, waitlisted and the
// shortfall; adjustments that would fund waiting cases; next year's requests.
import { ref, computed, onMounted } from 'vue';
import { ElMessageBox } from 'element-plus';
import { api, session, yuan, errText, catalogItems } from '../shared.js';

export default {
  name: 'RunResult',
  props: { run: { type: Object, required: true }, title: String, names: { type: Object, default: () => ({}) } },
  setup(props) {
    // A sub-district has dozens of lines, most with nothing to decide:
    // show the ones with cases first, the rest on request.
    const all = ref(false);
    const busy = (l) => l.funded.length > 0 || l.waitlisted.length > 0;
    const shown = computed(() => (all.value ? props.run.lines : props.run.lines.filter(busy)));
    const idle = computed(() => props.run.lines.length - props.run.lines.filter(busy).length);
    const lineName = (id) => (props.run.lines.find((l) => l.line_id === id) || {}).project_name || id;
    const items = ref(new Map());
    onMounted(async () => { items.value = await catalogItems(); });
    // 建议调剂 applied by finance in one confirmation: the server applies
    // each suggestion once, against the lines' versions read here, and
    // lists what it did with each.
    const mayApply = computed(() => ['finance', 'admin'].includes(session.me?.role) && !props.run.dry_run && props.run.state === 'done' && props.run.adjustments.length > 0);
    const applying = ref(false);
    const applied = ref(null);
    const applyError = ref('');
    const outcome = { applied: '已调剂', already: '此前已调剂', failed: '未调剂' };
    const apply = async () => {
      const total = props.run.adjustments.reduce((s, a) => s + a.amount_fen, 0);
      try {
        await ElMessageBox.confirm(`按本次分配的建议调剂 ${props.run.adjustments.length} 笔，共 ${yuan(total)} 元。每笔记为一条调剂记录（含理由），已调剂的不会重复。`, '应用建议调剂', { confirmButtonText: '确认调剂', cancelButtonText: '取消' });
      } catch { return; }
      applying.value = true; applyError.value = '';
      try {
        const ids = [...new Set(props.run.adjustments.flatMap((a) => [a.from_line_id, a.to_line_id]))];
        const versions = {};
        for (const id of ids) versions[id] = (await api.get(`/api/v1/budget/lines/${id}`)).version;
        applied.value = await api.post(`/api/v1/allocation/runs/${props.run.run_id}/transfers`, { line_versions: versions });
      } catch (e) { applyError.value = errText(e); } finally { applying.value = false; }
    };
    return { yuan, all, shown, idle, lineName, items, mayApply, applying, applied, applyError, apply, outcome };
  },
  template: `
  <div class="panel" data-test="run-result">
    <h3>{{ title }}：获资助 {{ run.funded_cases }} 件 {{ yuan(run.funded_fen) }} 元，候补 {{ run.waitlisted_cases }} 件，缺口 {{ yuan(run.shortfall_fen) }} 元</h3>
    <div class="toolbar" v-if="idle"><el-switch v-model="all" :active-text="'显示全部 ' + run.lines.length + ' 个项目（' + idle + ' 个本次无待分配诉求）'" /></div>
    <el-table :data="shown" border size="small" empty-text="本次没有待分配资金的诉求">
      <el-table-column prop="project_name" label="预算项目" min-width="150" show-overflow-tooltip />
      <el-table-column prop="item_name" label="分类" width="120" show-overflow-tooltip />
      <el-table-column label="可用（元）" width="110" align="right"><template #default="{ row }">{{ yuan(row.available_fen) }}</template></el-table-column>
      <el-table-column label="获资助" min-width="240"><template #default="{ row }">
        <div>{{ row.funded.length }} 件 {{ yuan(row.funded_fen) }} 元</div>
        <div v-for="d in row.funded" :key="d.case_id" class="muted">第 {{ d.rank }} 位 {{ names[d.case_id]?.number || d.case_id }} {{ names[d.case_id]?.title }} {{ yuan(d.estimate_fen) }} 元</div>
      </template></el-table-column>
      <el-table-column label="候补" min-width="200"><template #default="{ row }">
        <div>{{ row.waitlisted.length }} 件 {{ yuan(row.waitlisted_fen) }} 元</div>
        <div v-for="d in row.waitlisted" :key="d.case_id" class="muted">第 {{ d.rank }} 位 {{ names[d.case_id]?.number || d.case_id }} {{ names[d.case_id]?.title }} {{ yuan(d.estimate_fen) }} 元</div>
      </template></el-table-column>
      <el-table-column label="缺口（元）" width="110" align="right"><template #default="{ row }"><span :class="{ 'flag-late': row.shortfall_fen > 0 }">{{ yuan(row.shortfall_fen) }}</span></template></el-table-column>
      <el-table-column label="剩余（元）" width="110" align="right"><template #default="{ row }">{{ yuan(row.remaining_fen) }}</template></el-table-column>
    </el-table>
    <div class="grid2" style="margin-top:8px">
      <div>
        <div class="toolbar"><span class="muted">建议调剂（可资助候补诉求）</span><span class="spacer" /><el-button v-if="mayApply" type="primary" size="small" :loading="applying" data-test="apply-transfers" @click="apply">应用建议调剂</el-button></div>
        <el-alert v-if="applyError" type="error" :title="applyError" :closable="false" show-icon />
        <el-alert v-if="applied" :type="applied.failed ? 'warning' : 'success'" :closable="false" show-icon data-test="transfers-result"
          :title="'调剂 ' + applied.applied + ' 笔' + (applied.already ? '，此前已调剂 ' + applied.already + ' 笔' : '') + (applied.failed ? '，未调剂 ' + applied.failed + ' 笔' : '')">
          <div v-for="t in applied.transfers" :key="t.index">{{ lineName(t.from_line_id) }} → {{ lineName(t.to_line_id) }} {{ yuan(t.amount_fen) }} 元：{{ outcome[t.state] }}<span v-if="t.message">（{{ t.message }}）</span></div>
        </el-alert>
        <el-table :data="run.adjustments" border size="small" empty-text="无">
          <el-table-column label="调出 → 调入" min-width="160"><template #default="{ row }">{{ lineName(row.from_line_id) }} → {{ lineName(row.to_line_id) }}</template></el-table-column>
          <el-table-column label="金额（元）" width="110" align="right"><template #default="{ row }">{{ yuan(row.amount_fen) }}</template></el-table-column>
          <el-table-column label="可资助" min-width="140"><template #default="{ row }">{{ (row.funds_case_ids || []).map(id => names[id]?.number || id).join('、') || '—' }}</template></el-table-column>
          <el-table-column prop="reason" label="理由" min-width="150" />
        </el-table>
      </div>
      <div>
        <div class="muted">下一年度预算需求</div>
        <el-table :data="run.next_year" border size="small" empty-text="无">
          <el-table-column label="分类" min-width="140" show-overflow-tooltip><template #default="{ row }">{{ row.item_code }} {{ items.get(row.item_code)?.name || '' }}</template></el-table-column>
          <el-table-column prop="cases" label="件数" width="60" />
          <el-table-column label="需求（元）" align="right"><template #default="{ row }">{{ yuan(row.demand_fen) }}</template></el-table-column>
        </el-table>
      </div>
    </div>
  </div>`,
};
