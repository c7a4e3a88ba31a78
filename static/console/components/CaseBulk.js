// CaseBulk applies 受理 / 派单 / 退单 to the cases selected in the list with
// one note, reason or cadre (POST /api/v1/cases/bulk/{action}). The server
// steps each case through its single-case rule with the version the list
// read; one Idempotency-Key per confirmation, kept for a retry, so a
// repeated click or a lost answer never applies a case twice. Failures are
// listed per case with the server's reason; successes come back as cases, and the
// rows of cases refused as changed meanwhile are read again.
import { reactive, computed } from 'vue';
import { ElMessage } from 'element-plus';
import { newKey } from 'minsheng/api';
import { api, errText, communityName } from '../shared.js';

export default {
  name: 'CaseBulk',
  props: { selected: { type: Array, default: () => [] } },
  emits: ['done'],
  setup(props, { emit }) {
    // items are the cases and versions read when the dialog opened: the
    // table's selection may change (or clear) while it is open.
    const dlg = reactive({ kind: '', note: '', reason: '', cadre: '', cadres: [], key: '', busy: false, result: null, items: [] });
    const titles = { accept: '批量受理', assign: '批量派单', reject: '批量退单（不予受理）' };
    // offered: a step at least one selected case offers (its view's
    // actions); the cases that do not come back as failures with the
    // server's reason.
    const offered = computed(() => {
      const out = {};
      if (!props.selected.length) return out;
      for (const a of ['accept', 'assign', 'reject']) {
        out[a] = props.selected.some((c) => (c.actions || []).some((x) => x.action === a));
      }
      return out;
    });
    async function open(kind) {
      Object.assign(dlg, { kind, note: '', reason: '', cadre: '', cadres: [], key: newKey(), result: null, items: [...props.selected] });
      if (kind === 'assign') {
        const comms = [...new Set(dlg.items.map((c) => c.location?.community).filter(Boolean))];
        try {
          const lists = await Promise.all(comms.map((code) => api.get(`/api/v1/org/communities/${code}/staff`)));
          dlg.cadres = lists.flatMap((l, i) => (l.items || []).map((u) => ({ ...u, community: comms[i] })));
        } catch (e) {
          ElMessage.error(errText(e));
        }
      }
    }
    // The body changes the key: another content is another request.
    function edited() {
      dlg.key = newKey();
    }
    async function confirm() {
      if (dlg.busy) return;
      dlg.busy = true;
      const items = dlg.items.map((c) => ({ id: c.id, version: c.version }));
      const body = { items };
      if (dlg.kind === 'reject') body.reason = dlg.reason;
      else body.note = dlg.note;
      if (dlg.kind === 'assign') body.cadre_id = dlg.cadre;
      try {
        const out = await api.post(`/api/v1/cases/bulk/${dlg.kind}`, body, { idempotencyKey: dlg.key });
        const byId = new Map(dlg.items.map((c) => [c.id, c]));
        dlg.result = {
          ok: out.ok,
          failed: out.results.filter((r) => !r.ok).map((r) => ({
            number: r.number || (dlg.items[r.index] || byId.get(r.id))?.number || r.id,
            title: r.title || (dlg.items[r.index] || byId.get(r.id))?.title || '',
            message: r.error?.message || '',
          })),
        };
        // A case refused as changed meanwhile (409) is read again, so its
        // row shows what it is now, not what the list had read.
        const changed = out.results.filter((r) => r.ok).map((r) => r.case);
        const stale = out.results.filter((r) => r.status === 409).map((r) => api.get(`/api/v1/cases/${r.id}`).catch(() => null));
        emit('done', changed.concat((await Promise.all(stale)).filter(Boolean)));
      } catch (e) {
        ElMessage.error(errText(e)); // the key stays: 确定 again retries the same request
      } finally {
        dlg.busy = false;
      }
    }
    return { dlg, titles, offered, open, edited, confirm, communityName };
  },
  template: `
  <span class="bulk-bar" data-test="bulk-bar">
    <span class="muted">{{ selected.length ? '已选 ' + selected.length + ' 件' : '勾选案件后可批量办理' }}</span>
    <el-button size="small" type="primary" :disabled="!offered.accept" @click="open('accept')" data-bulk="accept">批量受理</el-button>
    <el-button size="small" type="primary" :disabled="!offered.assign" @click="open('assign')" data-bulk="assign">批量派单</el-button>
    <el-button size="small" type="warning" :disabled="!offered.reject" @click="open('reject')" data-bulk="reject">批量退单</el-button>
    <el-dialog :model-value="!!dlg.kind" :title="titles[dlg.kind] + '（' + dlg.items.length + ' 件）'" width="640px" @close="dlg.kind = ''" append-to-body>
      <template v-if="!dlg.result">
        <el-form label-width="90px" @submit.prevent="confirm">
          <el-form-item v-if="dlg.kind === 'assign'" label="社区干部" required>
            <el-select v-model="dlg.cadre" filterable placeholder="选择承办的社区干部" style="width:100%" @change="edited" data-test="bulk-cadre">
              <el-option v-for="u in dlg.cadres" :key="u.id" :label="u.name + '（' + communityName(u.community) + '）'" :value="u.id" />
            </el-select>
            <div class="muted">只能派给案件所在社区的干部；其他社区的案件将列为失败。</div>
          </el-form-item>
          <el-form-item v-if="dlg.kind === 'reject'" label="原因" required>
            <el-input v-model="dlg.reason" type="textarea" :rows="3" placeholder="请填写原因，将告知每位居民" @input="edited" data-test="bulk-reason" />
          </el-form-item>
          <el-form-item v-else label="备注"><el-input v-model="dlg.note" type="textarea" :rows="2" @input="edited" data-test="bulk-note" /></el-form-item>
        </el-form>
        <div class="muted">每件按列表中读取的版本办理；期间被他人改动的案件不会被覆盖，将列为失败。</div>
      </template>
      <div v-else data-test="bulk-result">
        <el-alert :title="'成功 ' + dlg.result.ok + ' 件，失败 ' + dlg.result.failed.length + ' 件'" :type="dlg.result.failed.length ? 'warning' : 'success'" :closable="false" style="margin-bottom:8px" />
        <el-table v-if="dlg.result.failed.length" :data="dlg.result.failed" border size="small" data-test="bulk-failures">
          <el-table-column prop="number" label="编号" width="130" />
          <el-table-column prop="title" label="标题" min-width="140" show-overflow-tooltip />
          <el-table-column prop="message" label="失败原因" min-width="220" />
        </el-table>
      </div>
      <template #footer>
        <template v-if="!dlg.result">
          <el-button @click="dlg.kind = ''">取消</el-button>
          <el-button type="primary" :loading="dlg.busy" @click="confirm" :disabled="(dlg.kind === 'assign' && !dlg.cadre) || (dlg.kind === 'reject' && !dlg.reason.trim())" data-test="bulk-confirm">确定</el-button>
        </template>
        <el-button v-else type="primary" @click="dlg.kind = ''" data-test="bulk-close">关闭</el-button>
      </template>
    </el-dialog>
  </span>`,
};
