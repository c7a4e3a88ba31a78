// 回访: the resident's verdict as the cadre records it on the return visit.
import { computed, ref, onMounted } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { showFailToast } from 'vant';
import { state, queueAction } from './state.js';
import { db } from './db.js';

const CHOICES = [
  { v: 'satisfied', label: '满意', type: 'success' },
  { v: 'basically_satisfied', label: '基本满意', type: 'primary' },
  { v: 'dissatisfied', label: '不满意', type: 'danger' },
];

export default {
  name: 'VerdictView',
  props: { id: String },
  setup(props) {
    const router = useRouter();
    const c = computed(() => state.cases[props.id]);
    const verdict = ref('');
    const comment = ref('');
    const busy = ref(false);
    const redo = String(useRoute().query.redo || '');
    onMounted(async () => {
      const old = redo && (await db.get(redo));
      if (old?.body) {
        verdict.value = old.body.verdict || '';
        comment.value = old.body.comment || '';
      }
    });
    async function submit() {
      if (!verdict.value) return showFailToast('请选择居民的评价');
      busy.value = true;
      try {
        const label = CHOICES.find((x) => x.v === verdict.value).label;
        await queueAction(c.value, 'verdict', `回访：${label}`, { verdict: verdict.value, comment: comment.value }, [], { replaces: redo });
        router.replace(`/case/${props.id}`);
      } finally {
        busy.value = false;
      }
    }
    return { c, CHOICES, verdict, comment, busy, submit, back: () => router.back() };
  },
  template: `
  <div class="page" v-if="c">
    <van-nav-bar title="回访评价" left-arrow @click-left="back" />
    <van-cell-group inset :title="c.title">
      <van-cell title="请按居民的原话选择" />
      <div class="pad big-choice" style="display:flex;flex-direction:column;gap:10px">
        <van-button v-for="x in CHOICES" :key="x.v" :type="verdict === x.v ? x.type : 'default'" block round @click="verdict = x.v" :data-test="'verdict-' + x.v">{{ x.label }}</van-button>
      </div>
      <van-field v-model="comment" label="居民意见" type="textarea" rows="2" autosize maxlength="500" placeholder="可不填" />
    </van-cell-group>
    <div class="pad"><van-button round block type="primary" :loading="busy" :disabled="busy || !verdict" @click="submit" data-test="verdict-submit">记录评价</van-button></div>
  </div>`,
};
