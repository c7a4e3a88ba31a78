// 回访: the resident's verdict as the cadre records it on the return visit
// (recorded as 社区干部代居民录入, under the cadre's account). 不满意 needs the
// resident's reason: the server refuses it without one on every route
// (cases.RecordVerdict), so the form asks before the outbox sends it.
import { computed, ref, onMounted } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { showFailToast } from 'vant';
import { state, queueAction } from './state.js';
import { db } from './db.js';

export default {
  name: 'VerdictView',
  props: { id: String },
  setup(props) {
    const router = useRouter();
    const c = computed(() => state.cases[props.id]);
    // The verdicts and their words are the server's (its label table, kept
    // on the phone with the bootstrap).
    const CHOICES = computed(() => (state.boot?.labels?.verdicts || []).map((x) => ({
      v: x.verdict, label: x.label, type: x.verdict === 'dissatisfied' ? 'danger' : 'success',
    })));
    const verdict = ref('');
    const comment = ref('');
    const resolved = ref('');
    const busy = ref(false);
    const redo = String(useRoute().query.redo || '');
    onMounted(async () => {
      const old = redo && (await db.get(redo));
      if (old?.body) {
        verdict.value = old.body.verdict || '';
        comment.value = old.body.comment || '';
        resolved.value = old.body.resolved === true ? 'yes' : old.body.resolved === false ? 'no' : '';
      }
    });
    async function submit() {
      if (!verdict.value) return showFailToast('请选择居民的评价');
      if (verdict.value === 'dissatisfied' && !comment.value.trim()) return showFailToast('请记录居民不满意的原因');
      busy.value = true;
      try {
        const label = CHOICES.value.find((x) => x.v === verdict.value).label;
        const body = { verdict: verdict.value, comment: comment.value.trim() };
        if (resolved.value) body.resolved = resolved.value === 'yes';
        await queueAction(c.value, 'verdict', `回访：${label}`, body, [], { replaces: redo });
        router.replace(`/case/${props.id}`);
      } finally {
        busy.value = false;
      }
    }
    return { c, CHOICES, verdict, comment, resolved, busy, submit, back: () => router.back() };
  },
  template: `
  <div class="page" v-if="c">
    <van-nav-bar title="回访评价" left-arrow @click-left="back" />
    <van-cell-group inset :title="c.title">
      <van-cell title="请按居民的原话选择" />
      <div class="pad big-choice" style="display:flex;flex-direction:column;gap:10px">
        <van-button v-for="x in CHOICES" :key="x.v" :type="verdict === x.v ? x.type : 'default'" block round @click="verdict = x.v" :data-test="'verdict-' + x.v">{{ x.label }}</van-button>
      </div>
      <van-cell title="问题是否解决" />
      <div class="pad" style="display:flex;gap:10px">
        <van-button v-for="x in [{ v: 'yes', label: '已解决' }, { v: 'no', label: '未解决' }]" :key="x.v" :type="resolved === x.v ? 'primary' : 'default'"
          round style="flex:1" @click="resolved = resolved === x.v ? '' : x.v" :data-test="'resolved-' + x.v">{{ x.label }}</van-button>
      </div>
      <van-field v-model="comment" :label="verdict === 'dissatisfied' ? '不满意原因' : '居民意见'" type="textarea" rows="2" autosize maxlength="500"
        :placeholder="verdict === 'dissatisfied' ? '必填：居民的原话' : '可不填'" data-test="verdict-comment" />
    </van-cell-group>
    <div class="pad"><van-button round block type="primary" :loading="busy" :disabled="busy || !verdict" @click="submit" data-test="verdict-submit">记录评价</van-button></div>
  </div>`,
};
