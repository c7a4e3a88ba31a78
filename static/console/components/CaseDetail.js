// CaseDetail is one case: its facts, timeline, photos before and after
// side by side, and the steps the server offers this user now (the case's
// actions, with their labels: cases/labels.go).
import { ref, reactive, computed, onMounted, watch } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { ElMessage } from 'element-plus';
import { api, yuan, dt, subName, communityName, caseLabels, loadCaseLabels, errText, catalogItems } from '../shared.js';
import DueFlag from './DueFlag.js';
import CasePrint from './CasePrint.js';

export default {
  name: 'CaseDetail',
  components: { DueFlag, CasePrint },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const c = ref(null);
    const error = ref('');
    const busy = ref(false);
    const lineName = ref('');
    const itemName = ref('');
    const dlg = reactive({ kind: '', note: '', reason: '', cadre: '', number: '', other: null, cadres: [] });
    async function load() {
      error.value = '';
      try {
        c.value = await api.get(`/api/v1/cases/${route.params.id}`);
      } catch (e) {
        error.value = errText(e);
        return;
      }
      itemName.value = (await catalogItems()).get(c.value.catalog_item)?.name || '';
      lineName.value = '';
      if (c.value.budget?.line_id) {
        try {
          lineName.value = (await api.get(`/api/v1/budget/lines/${c.value.budget.line_id}`)).project_name;
        } catch { /* shown by id */ }
      }
    }
    onMounted(load);
    watch(() => route.params.id, (id) => id && load());
    loadCaseLabels();
    // can names each step the server offers by its button label.
    const can = computed(() => Object.fromEntries((c.value?.actions || []).map((a) => [a.action, a.label])));
    const before = computed(() => (c.value?.photos || []).filter((p) => p.tag === 'before'));
    const after = computed(() => (c.value?.photos || []).filter((p) => p.tag !== 'before'));
    async function openDialog(kind) {
      Object.assign(dlg, { kind, note: '', reason: '', cadre: '', number: '', other: null });
      if (kind === 'assign') {
        try {
          dlg.cadres = (await api.get(`/api/v1/org/communities/${c.value.location.community}/staff`)).items || [];
        } catch (e) {
          ElMessage.error(errText(e));
        }
      }
    }
    async function findOther() {
      dlg.other = null;
      try {
        dlg.other = await api.get(`/api/v1/cases/number/${encodeURIComponent(dlg.number.trim().toUpperCase())}`);
      } catch (e) {
        ElMessage.error(errText(e));
      }
    }
    async function act() {
      if (busy.value) return;
      busy.value = true;
      const v = c.value.version;
      const bodies = {
        accept: { version: v, note: dlg.note },
        reject: { version: v, reason: dlg.reason },
        cancel: { version: v, reason: dlg.reason },
        assign: { version: v, cadre_id: dlg.cadre, note: dlg.note },
        merge: { version: v, into: dlg.other?.id, note: dlg.note },
      };
      try {
        c.value = await api.post(`/api/v1/cases/${c.value.id}/${dlg.kind}`, bodies[dlg.kind]);
        ElMessage.success('已保存');
        dlg.kind = '';
      } catch (e) {
        ElMessage.error(errText(e));
        if (e.status === 409) load();
      } finally {
        busy.value = false;
      }
    }
    const titles = { accept: '受理', reject: '退单（不予受理）', cancel: '取消诉求', assign: '派单', merge: '合并重复诉求' };
    const print = () => window.print();
    return { print, lineName, itemName, c, error, can, before, after, dlg, titles, openDialog, findOther, act, busy, router, yuan, dt, subName, communityName, caseLabels };
  },
  template: `
  <div v-if="c">
   <CasePrint :c="c" :line-name="lineName" :item-name="itemName" />
   <div class="screen-only">
    <h2 class="page-title">
      <el-button link @click="router.back()">‹ 返回</el-button>
      {{ c.number }} {{ c.title }}
      <el-tag>{{ c.status_label }}</el-tag>
      <DueFlag :c="c" />
    </h2>
    <div class="toolbar" data-test="case-actions">
      <el-button v-if="can.accept" type="primary" @click="openDialog('accept')" data-action="accept">{{ can.accept }}</el-button>
      <el-button v-if="can.assign" type="primary" @click="openDialog('assign')" data-action="assign">{{ can.assign }}</el-button>
      <el-button v-if="can.merge" @click="openDialog('merge')" data-action="merge">{{ can.merge }}</el-button>
      <el-button v-if="can.reject" type="warning" @click="openDialog('reject')" data-action="reject">{{ can.reject }}</el-button>
      <el-button v-if="can.cancel" type="danger" plain @click="openDialog('cancel')" data-action="cancel">{{ can.cancel }}</el-button>
      <el-button v-if="['assessed','in_progress'].includes(c.status)" @click="router.push({ path: '/link', query: { case: c.id } })">关联预算</el-button>
      <span class="spacer" />
      <el-button @click="print" data-test="print">打印处理单</el-button>
    </div>
    <div class="grid2">
      <div class="panel">
        <el-descriptions :column="2" border size="small">
          <el-descriptions-item label="街道">{{ subName(c.location?.sub_district) }}</el-descriptions-item>
          <el-descriptions-item label="社区">{{ communityName(c.location?.community) }}</el-descriptions-item>
          <el-descriptions-item label="地址" :span="2">{{ c.location?.address }}</el-descriptions-item>
          <el-descriptions-item label="领域">{{ c.area_label }}</el-descriptions-item>
          <el-descriptions-item label="分类">{{ c.catalog_item ? c.catalog_item + ' ' + itemName : '未分类' }}</el-descriptions-item>
          <el-descriptions-item label="联系人">{{ c.contact_name || (c.anonymous ? '匿名' : '—') }}</el-descriptions-item>
          <el-descriptions-item label="电话">{{ c.contact_phone || '—' }}</el-descriptions-item>
          <el-descriptions-item label="户数">{{ c.households }}</el-descriptions-item>
          <el-descriptions-item label="附议">{{ c.cosign_count }}</el-descriptions-item>
          <el-descriptions-item label="承办人">{{ c.assigned_name || '—' }}</el-descriptions-item>
          <el-descriptions-item label="估算（元）"><span class="money">{{ c.assessment ? yuan(c.assessment.estimate_fen) : '—' }}</span></el-descriptions-item>
          <el-descriptions-item label="预算项目"><el-link v-if="c.budget" type="primary" @click="router.push('/lines/' + c.budget.line_id)">{{ lineName || c.budget.line_id }}</el-link><span v-else>未关联</span></el-descriptions-item>
          <el-descriptions-item label="预留 / 支出（元）"><span class="money">{{ c.budget ? yuan(c.budget.reserved_fen) + ' / ' + yuan(c.budget.spent_fen) : '—' }}</span></el-descriptions-item>
          <el-descriptions-item label="评价">{{ c.verdict_label || '—' }} {{ c.verdict_comment || '' }}</el-descriptions-item>
          <el-descriptions-item label="原因" v-if="c.reason">{{ c.reason }}</el-descriptions-item>
          <el-descriptions-item label="描述" :span="2">{{ c.description }}</el-descriptions-item>
        </el-descriptions>
      </div>
      <div class="panel">
        <h3>办理过程</h3>
        <el-timeline>
          <el-timeline-item v-for="(e, i) in c.timeline" :key="i" :timestamp="dt(e.at)" placement="top">
            <b>{{ e.action_label || e.action }}</b>
            <span v-if="e.to" class="muted"> → {{ caseLabels.status[e.to] || e.to }}</span>
            <span v-if="e.actor_label" class="muted" data-test="event-actor"> · {{ e.actor_label }}</span>
            <div v-if="e.note">{{ e.note }}</div>
          </el-timeline-item>
        </el-timeline>
      </div>
    </div>
    <div class="panel">
      <h3>照片（办理前 / 办理后对照）</h3>
      <div class="grid2">
        <div><div class="muted">办理前</div><div class="photos"><a v-for="p in before" :key="p.id" :href="p.url" target="_blank"><img :src="p.thumb_url || p.url" alt="办理前照片" /></a><span v-if="!before.length" class="muted">无</span></div></div>
        <div><div class="muted">办理中 / 办结后</div><div class="photos"><a v-for="p in after" :key="p.id" :href="p.url" target="_blank"><img :src="p.thumb_url || p.url" alt="办理后照片" /></a><span v-if="!after.length" class="muted">无</span></div></div>
      </div>
    </div>
    <el-dialog :model-value="!!dlg.kind" :title="titles[dlg.kind]" width="720px" @close="dlg.kind = ''">
      <el-form label-width="90px" @submit.prevent="act">
        <el-form-item v-if="dlg.kind === 'assign'" label="社区干部" required>
          <el-select v-model="dlg.cadre" filterable placeholder="选择承办的社区干部" style="width:100%" data-test="cadre-select">
            <el-option v-for="u in dlg.cadres" :key="u.id" :label="u.name" :value="u.id" />
          </el-select>
        </el-form-item>
        <template v-if="dlg.kind === 'merge'">
          <el-form-item label="保留案件">
            <el-input v-model="dlg.number" placeholder="输入保留的案件编号，如 XC2026-000123" @keyup.enter="findOther">
              <template #append><el-button @click="findOther">查找</el-button></template>
            </el-input>
          </el-form-item>
          <div class="grid2" v-if="dlg.other">
            <el-descriptions :column="1" border size="small" title="本案件（将并入）">
              <el-descriptions-item label="编号">{{ c.number }}</el-descriptions-item>
              <el-descriptions-item label="标题">{{ c.title }}</el-descriptions-item>
              <el-descriptions-item label="地址">{{ c.location?.address }}</el-descriptions-item>
              <el-descriptions-item label="登记">{{ dt(c.filed_at) }}</el-descriptions-item>
              <el-descriptions-item label="描述">{{ c.description }}</el-descriptions-item>
            </el-descriptions>
            <el-descriptions :column="1" border size="small" title="保留案件">
              <el-descriptions-item label="编号">{{ dlg.other.number }}</el-descriptions-item>
              <el-descriptions-item label="标题">{{ dlg.other.title }}</el-descriptions-item>
              <el-descriptions-item label="地址">{{ dlg.other.location?.address }}</el-descriptions-item>
              <el-descriptions-item label="登记">{{ dt(dlg.other.filed_at) }}</el-descriptions-item>
              <el-descriptions-item label="描述">{{ dlg.other.description }}</el-descriptions-item>
            </el-descriptions>
          </div>
        </template>
        <el-form-item v-if="dlg.kind === 'reject' || dlg.kind === 'cancel'" label="原因" required>
          <el-input v-model="dlg.reason" type="textarea" :rows="3" placeholder="请填写原因，将告知居民" />
        </el-form-item>
        <el-form-item v-else label="备注"><el-input v-model="dlg.note" type="textarea" :rows="2" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dlg.kind = ''">取消</el-button>
        <el-button type="primary" :loading="busy" @click="act" :disabled="(dlg.kind === 'merge' && !dlg.other) || (dlg.kind === 'assign' && !dlg.cadre)" data-test="confirm">确定</el-button>
      </template>
    </el-dialog>
   </div>
  </div>
  <el-alert v-else-if="error" :title="error" type="error" :closable="false" />
  <el-skeleton v-else :rows="6" animated />`,
};
