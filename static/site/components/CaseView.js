// One case as its resident sees it: state, deadline, who handles it, the
// photos, the timeline in Beijing time and the verdict (满意 / 基本满意 /
// 不满意 + 问题是否解决; 不满意 needs a reason and sends it back to work).
// The parent supplies rate(body) and addPhoto(blob), so the signed-in and
// the tracking-link pages share it. A public view (a co-signer's, or any
// public case browsed on the site: "public_view": true, cases/public.go)
// has no description, handler, office or timeline, so those sections are
// left out and the slot "public-note" says what the reader can follow.
// The verdict choices are the server's (GET /api/v1/cases/labels).
import { ref, computed } from 'vue';
import { showToast, showSuccessToast, showImagePreview } from 'vant';
import { when, errorText, loadOrg, loadLabels, state } from './shared.js';
import { compress } from 'minsheng/photo';

export default {
  name: 'CaseView',
  props: { c: { type: Object, required: true }, rate: Function, addPhoto: Function },
  emits: ['refresh'],
  setup(props, { emit }) {
    // Photo links live 15 minutes: an expired one asks the page for the
    // case again (fresh links), at most every 30 seconds.
    let refreshed = 0;
    const stale = () => {
      if (Date.now() - refreshed > 30000) {
        refreshed = Date.now();
        emit('refresh');
      }
    };
    const verdict = ref('');
    const resolved = ref('');
    const comment = ref('');
    const sending = ref(false);
    const uploading = ref(false);
    const communityName = ref('');
    const verdicts = ref([]);
    loadLabels().then((t) => { verdicts.value = t.verdicts; }).catch(() => {});
    // Only the test hooks differ per verdict; the words are the server's.
    const verdictClass = { satisfied: 'v-satisfied', basically_satisfied: 'v-basic', dissatisfied: 'v-dissatisfied' };
    loadOrg().then((org) => {
      for (const s of org.sub_districts) {
        for (const cm of s.communities || []) if (cm.code === (props.c.location?.community || props.c.community)) communityName.value = `${s.name} ${cm.name}`;
      }
    }).catch(() => {});
    // The deadline in the server's words (cases/labels.go): 响应时限 / 办结时限
    // 剩余 X 天 X 时, orange under 24 h, red 已超期 X 天.
    const due = computed(() => {
      const d = props.c.deadline;
      if (!d) return null;
      return { text: d.label + props.c.deadline_text, cls: d.overdue ? 'due-over' : d.due_soon ? 'due-soon' : '', at: when(d.due_at) };
    });
    const before = computed(() => (props.c.photos || []).filter((p) => p.tag !== 'after'));
    const after = computed(() => (props.c.photos || []).filter((p) => p.tag === 'after'));
    const timeline = computed(() => [...(props.c.timeline || [])].reverse());
    const tag = computed(() => ({
      closed: 'success', completed: 'warning', rejected: 'danger', cancelled: 'default', merged: 'default',
    }[props.c.status] || 'primary'));
    const canRate = computed(() => props.c.status === 'completed' && !!props.rate);
    const canAddPhoto = computed(() => ['submitted', 'accepted', 'assigned', 'assessed', 'in_progress'].includes(props.c.status)
      && !!props.addPhoto && (props.c.photos || []).length < 9);
    const lastVerdict = computed(() => {
      const v = props.c.verdicts || [];
      const last = v.length ? v[v.length - 1] : (props.c.verdict ? { verdict: props.c.verdict, comment: props.c.verdict_comment } : null);
      return last && { ...last, label: props.c.verdict_label }; // the latest is the case's verdict
    });

    function label(e) {
      return e.action_label || e.action; // the server's words for residents (cases.TimelineLabel)
    }
    function who(e) {
      return e.actor_label || ''; // the server names who acted (cases.ActorLabel)
    }
    async function submitRating() {
      if (!verdict.value) return showToast('请选择满意程度');
      if (!resolved.value) return showToast('请选择问题是否解决');
      if (verdict.value === 'dissatisfied' && !comment.value.trim()) return showToast('请说明不满意的原因，我们将重新办理');
      sending.value = true;
      try {
        await props.rate({ version: props.c.version, verdict: verdict.value, resolved: resolved.value === 'yes', comment: comment.value.trim() });
        showSuccessToast(verdict.value === 'dissatisfied' ? '已提交，将重新办理' : '感谢您的评价');
      } catch (e) {
        showToast(errorText(e));
      } finally {
        sending.value = false;
      }
    }
    function preview(p) {
      const all = [...before.value, ...after.value];
      showImagePreview({ images: all.map((x) => x.url), startPosition: Math.max(0, all.indexOf(p)) });
    }
    async function onPhoto(item) {
      uploading.value = true;
      try {
        for (const it of Array.isArray(item) ? item : [item]) await props.addPhoto(await compress(it.file));
        showSuccessToast('照片已上传');
      } catch (e) {
        showToast(errorText(e));
      } finally {
        uploading.value = false;
      }
    }
    return {
      verdict, resolved, comment, sending, uploading, due, before, after, timeline, tag, canRate, canAddPhoto, lastVerdict,
      communityName, label, who, when, submitRating, onPhoto, state, stale, preview, verdicts, verdictClass,
    };
  },
  template: `
  <div>
    <div class="case-card">
      <div class="row">
        <div class="title">{{ c.title }}</div>
        <van-tag :type="tag" size="medium" data-test="status">{{ c.status === 'closed' && c.verdict ? '已评价' : c.status_label }}</van-tag>
      </div>
      <div class="meta">编号 {{ c.number }} · {{ c.area_label }} · 提交于 {{ when(c.filed_at) }}</div>
      <div class="meta">{{ communityName }} {{ c.location?.address }}</div>
      <div v-if="due" class="meta" :class="due.cls">{{ due.text }}（{{ due.at }}前）</div>
      <div v-if="c.cosign_count" class="meta">{{ c.cosign_count }} 位居民附议</div>
    </div>
    <template v-if="c.public_view">
      <div class="public-note" data-test="public-note">
        <slot name="public-note">您已附议此诉求，可在这里查看办理状态、时限和结果照片；诉求描述、地址和办理记录仅提交人和办理人员可见。</slot>
      </div>
      <van-cell-group inset data-test="public-progress">
        <van-cell title="办理状态" :value="c.status_label" :label="c.deadline_text" :value-class="c.overdue ? 'due-over' : ''" />
        <van-cell title="提交时间" :value="when(c.filed_at)" />
        <van-cell v-if="c.accepted_at" title="受理时间" :value="when(c.accepted_at)" />
        <van-cell v-if="c.completed_at" title="办结时间" :value="when(c.completed_at)" />
      </van-cell-group>
    </template>
    <van-cell-group v-else inset>
      <van-cell title="描述" :label="c.description" />
      <van-cell title="办理人" :value="c.assigned_name || '待街道派单'" data-test="handler" />
      <van-cell v-if="c.office" :title="c.office.name" label="可致电咨询办理情况" data-test="office">
        <template #value><a :href="'tel:' + c.office.phone" class="tel">{{ c.office.phone }}</a></template>
      </van-cell>
      <van-cell v-if="c.reason" title="原因" :label="c.reason" />
    </van-cell-group>

    <template v-if="before.length || after.length">
      <div class="section-title">照片</div>
      <div class="photos">
        <div v-for="p in before" :key="p.id" class="ph"><van-image :src="p.thumb_url" width="88" height="88" fit="cover" radius="4" @error="stale" @click="preview(p)" /><div>{{ p.tag === 'progress' ? '办理中' : '办理前' }}</div></div>
        <div v-for="p in after" :key="p.id" class="ph"><van-image :src="p.thumb_url" width="88" height="88" fit="cover" radius="4" @error="stale" @click="preview(p)" /><div>办结后</div></div>
      </div>
    </template>
    <div v-if="canAddPhoto" style="padding: 0 16px">
      <van-uploader :after-read="onPhoto" accept="image/*" :disabled="uploading" class="add-photo">
        <van-button icon="photograph" size="small" :loading="uploading">补充照片</van-button>
      </van-uploader>
    </div>

    <div v-if="canRate" class="rating" data-test="rating">
      <div class="section-title">诉求已办结，请评价办理结果</div>
      <van-radio-group v-model="verdict" style="padding: 4px 16px" data-test="verdicts">
        <van-radio v-for="v in verdicts" :key="v.verdict" :name="v.verdict" style="margin: 8px 0" :class="verdictClass[v.verdict]">
          {{ v.label }}<span v-if="v.verdict === 'dissatisfied'" class="hint">（将重新办理）</span>
        </van-radio>
      </van-radio-group>
      <div class="section-title">问题是否解决</div>
      <van-radio-group v-model="resolved" direction="horizontal" style="padding: 4px 16px 8px">
        <van-radio name="yes" class="r-yes">已解决</van-radio>
        <van-radio name="no" class="r-no">未解决</van-radio>
      </van-radio-group>
      <van-field v-model="comment" type="textarea" rows="2" maxlength="500" :label="verdict === 'dissatisfied' ? '原因' : '意见'"
        :placeholder="verdict === 'dissatisfied' ? '请说明哪里不满意（必填）' : '选填'" />
      <div class="actions"><van-button type="primary" block round :loading="sending" @click="submitRating" class="submit-rating">提交评价</van-button></div>
      <div class="privacy-link"><router-link to="/privacy">个人信息保护说明</router-link></div>
    </div>
    <div v-else-if="lastVerdict" class="rated" data-test="rated">
      <van-icon name="passed" color="#07c160" /> {{ lastVerdict.source === 'on_site' ? '社区干部记录的您的评价' : '您的评价' }}：{{ lastVerdict.label }}<span v-if="lastVerdict.resolved === true">，问题已解决</span><span v-if="lastVerdict.resolved === false">，问题未解决</span>
      <div v-if="lastVerdict.comment" class="meta" style="color:#666;font-size:13px;margin-top:4px">{{ lastVerdict.comment }}</div>
    </div>

    <template v-if="!c.public_view">
    <div class="section-title">办理进度（北京时间）</div>
    <van-steps direction="vertical" :active="0">
      <van-step v-for="(e, i) in timeline" :key="i">
        <div><b>{{ label(e) }}</b> <span style="color:#888;font-size:12px">{{ who(e) }}</span></div>
        <div v-if="e.note && e.action !== 'submit'" style="font-size:13px;color:#555;margin-top:2px">{{ e.note }}</div>
        <div style="font-size:12px;color:#999;margin-top:2px">{{ when(e.at) }}</div>
      </van-step>
    </van-steps>
    </template>
  </div>`,
};
