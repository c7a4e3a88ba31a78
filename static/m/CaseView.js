// Case detail: what the resident asked, deadline, funding, before/after
// photos, the timeline with who did what, and the steps the cadre may take.
import { computed, ref } from 'vue';
import { useRouter } from 'vue-router';
import { showImagePreview, showConfirmDialog } from 'vant';
import { state, deletePhoto, addPhotos, isOpen } from './state.js';
import { compress } from 'minsheng/photo';
import { when, yuan } from './format.js';
import { deadlineClass, live } from 'minsheng/deadline';
import SyncBadge from './SyncBadge.js';

const ROUTES = { assess: 'assess', start: 'work/start', complete: 'work/complete', verdict: 'verdict' };
const RISK = { 1: '低', 2: '中', 3: '高' };

export default {
  name: 'CaseView',
  components: { SyncBadge },
  props: { id: String },
  setup(props) {
    const router = useRouter();
    const c = computed(() => {
      const x = state.cases[props.id];
      // A deadline runs while the case is open (not after a 办结 queued here).
      return x ? { ...x, deadline: isOpen(x.status) || x.local ? live(x.deadline, Date.now(), state.boot?.deadline_words) : null } : x;
    });
    // Addresses often start with the community already (丰盛社区28号院).
    const address = computed(() => {
      const a = c.value?.location?.address || '';
      const n = c.value?.community_name || '';
      return !n || a.startsWith(n) ? a : `${n} ${a}`;
    });
    const before = computed(() => (c.value?.photos || []).filter((p) => p.tag !== 'after'));
    const after = computed(() => (c.value?.photos || []).filter((p) => p.tag === 'after'));
    const actions = computed(() => (c.value?.actions || []).filter((a) => ROUTES[a.action]));
    function go(a) {
      router.push(`/case/${props.id}/${ROUTES[a.action]}`);
    }
    const canDelete = (p) => isOpen(c.value?.status) && p.uploaded_by && p.uploaded_by === state.session?.user?.id;
    async function remove(p) {
      try {
        await showConfirmDialog({ title: '删除这张照片？', message: `${p.tag_label}将从案件中删除。`, confirmButtonText: '删除', confirmButtonColor: '#ee0a24' });
      } catch {
        return;
      }
      await deletePhoto(c.value, p.id);
    }
    const more = ref([]);
    const canAdd = computed(() => isOpen(c.value?.status) && (c.value?.photos || []).length + (c.value?.localPhotos || 0) < 9);
    async function addMore(items) {
      const blobs = [];
      for (const it of Array.isArray(items) ? items : [items]) {
        try {
          blobs.push(await compress(it.file));
        } catch {
          /* unreadable file: skipped */
        }
      }
      more.value = [];
      const tag = c.value.status === 'in_progress' ? 'progress' : 'before';
      if (blobs.length) await addPhotos(state.cases[props.id], tag, blobs);
    }
    function preview(list, i) {
      showImagePreview({ images: list.map((p) => p.url), startPosition: i });
    }
    // The position's accuracy and datum are location information, shown
    // here (never in the resident's description).
    const position = computed(() => {
      const l = c.value?.location;
      if (!l || l.lat == null) return '';
      const acc = l.accuracy_m != null ? `精度约 ${l.accuracy_m} 米，` : '';
      return `现场定位，${acc}${c.value.location_datum_label || ''}`;
    });
    return { RISK, address, position, isOpen, c, before, after, actions, go, preview, canDelete, remove, more, canAdd, addMore, deadlineClass, when, yuan, back: () => router.back() };
  },
  template: `
  <div class="page" v-if="c">
    <van-nav-bar :title="c.number" left-arrow @click-left="back"><template #right><sync-badge /></template></van-nav-bar>
    <van-cell-group inset style="margin-top:8px" v-if="c.failedSteps && c.failedSteps.length">
      <van-cell v-for="f in c.failedSteps" :key="f.key" :title="'未能发送：' + f.label" :label="f.reason + '。请在「我的」修改或放弃。'" title-class="red" is-link to="/me" data-test="case-failed" />
    </van-cell-group>
    <van-cell-group inset style="margin-top:8px">
      <van-cell :title="c.title" :label="c.description" />
      <van-cell v-if="c.pendingSteps && c.pendingSteps.length && !(c.failedSteps && c.failedSteps.length)" title="本机待发送" :value="c.pendingSteps.join('、')" value-class="orange" />
      <van-cell title="状态" :value="c.local ? '待发送' : c.status_label + (c.pendingSteps && c.pendingSteps.length ? '（本机）' : '')" data-test="status" />
      <van-cell v-if="c.deadline" :title="c.deadline.label" :value="c.deadline.text" :value-class="deadlineClass(c.deadline)" :label="'截止 ' + when(c.deadline.due_at)" />
      <van-cell title="地址" :value="address" :label="position || undefined" data-test="address" />
      <van-cell v-if="c.contact_name || c.contact_phone" title="联系人" :value="(c.contact_name || '') + ' ' + (c.contact_phone || '')" :url="c.contact_phone && !c.contact_phone.includes('*') ? 'tel:' + c.contact_phone : undefined" :is-link="!!c.contact_phone && !c.contact_phone.includes('*')" />
      <van-cell v-if="c.assigned_name" title="承办干部" :value="c.assigned_name" />
      <van-cell v-if="c.funding && (c.funding.funded || c.funding.waitlisted || isOpen(c.status))" title="资金" :value="c.funding.label" :label="c.funding.reason" data-test="funding" />
      <van-cell v-if="c.assessment" title="评估" :value="yuan(c.assessment.estimate_fen)" :label="'涉及 ' + c.assessment.households + ' 户，风险' + (RISK[c.assessment.risk] || c.assessment.risk) + (c.assessment.elderly ? '，老人 ' + c.assessment.elderly : '') + (c.assessment.disabled ? '，残疾人 ' + c.assessment.disabled : '')" />
      <van-cell v-if="c.status === 'completed' || c.status === 'closed'" title="实际费用" :value="yuan(c.actual_cost_fen)" />
      <van-cell v-if="c.tracking_token" title="居民查询二维码" is-link :to="'/case/' + c.id + '/qr'" />
    </van-cell-group>
    <van-cell-group inset title="办理前照片" v-if="before.length || c.localPhotos">
      <div class="photos">
        <div v-for="(p, i) in before" :key="p.id" class="photo">
          <img :src="p.thumb_url" :alt="p.tag_label" @click="preview(before, i)" data-test="photo" />
          <van-icon v-if="canDelete(p)" name="cross" class="photo-del" @click="remove(p)" aria-label="删除照片" />
        </div>
        <span v-if="c.localPhotos" class="muted">{{ c.localPhotos }} 张照片待发送</span>
      </div>
    </van-cell-group>
    <van-cell-group inset title="补充照片" v-if="canAdd && !c.local">
      <div class="pad"><van-uploader v-model="more" :after-read="addMore" multiple :max-count="9" accept="image/*" capture="environment" upload-text="拍照补充" data-test="more-photos" /></div>
    </van-cell-group>
    <van-cell-group inset title="办结后照片" v-if="after.length">
      <div class="photos">
        <div v-for="(p, i) in after" :key="p.id" class="photo">
          <img :src="p.thumb_url" alt="办结后" @click="preview(after, i)" data-test="photo" />
          <van-icon v-if="canDelete(p)" name="cross" class="photo-del" @click="remove(p)" aria-label="删除照片" />
        </div>
      </div>
    </van-cell-group>
    <van-cell-group inset title="办理记录">
      <van-steps direction="vertical" :active="c.timeline.length - 1" active-color="#c8102e">
        <van-step v-for="(e, i) in c.timeline" :key="i" data-test="timeline-step">
          <div>{{ e.label }}<span v-if="e.to_label"> → {{ e.to_label }}</span></div>
          <div class="muted" v-if="e.note">{{ e.note }}</div>
          <div class="muted">{{ when(e.at) }}</div>
        </van-step>
      </van-steps>
    </van-cell-group>
    <div style="height:64px"></div>
    <div class="actions-bar" v-if="actions.length">
      <van-button v-for="a in actions" :key="a.action" type="primary" round @click="go(a)" :data-test="'act-' + a.action">{{ a.label }}</van-button>
    </div>
  </div>
  <van-empty v-else description="本机没有这个案件，请下拉同步" />`,
};
