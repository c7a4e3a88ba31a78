// 开始办理 / 办结: photos of the work (after-photos are required to
// complete) and, to complete, the actual cost in 元 (sent in fen).
import { computed, ref, onMounted } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { showFailToast } from 'vant';
import { state, queueAction } from './state.js';
import { db } from './db.js';
import { compress } from 'minsheng/photo';
import { fenFrom, yuan } from './format.js';

export default {
  name: 'WorkView',
  props: { id: String, step: String },
  setup(props) {
    const router = useRouter();
    const c = computed(() => state.cases[props.id]);
    const completing = computed(() => props.step === 'complete');
    const photos = ref([]);
    const cost = ref(c.value?.assessment ? String(c.value.assessment.estimate_fen / 100) : '');
    const note = ref('');
    const busy = ref(false);
    const errors = ref({});
    const fen = computed(() => fenFrom(cost.value));
    // 修改: a refused step comes back with what was entered (its photos
    // went separately and are on the case already).
    const redo = String(useRoute().query.redo || '');
    onMounted(async () => {
      const old = redo && (await db.get(redo));
      if (old?.body) {
        if (old.body.actual_cost_fen !== undefined) cost.value = String(old.body.actual_cost_fen / 100);
        note.value = old.body.note || '';
      }
    });
    const hasAfter = computed(() => (c.value?.photos || []).some((p) => p.tag === 'after'));
    async function afterRead(items) {
      for (const it of Array.isArray(items) ? items : [items]) {
        it.status = 'uploading';
        it.message = '压缩中';
        try {
          it.blob = await compress(it.file);
          it.status = 'done';
          it.message = '';
        } catch {
          it.status = 'failed';
          it.message = '无法读取';
        }
      }
    }
    async function submit() {
      errors.value = {};
      const blobs = photos.value.filter((p) => p.blob).map((p) => ({ tag: completing.value ? 'after' : 'progress', blob: p.blob }));
      if (completing.value) {
        if (Number.isNaN(fen.value)) errors.value.cost = '请输入实际费用（元），最多两位小数';
        if (!blobs.length && !hasAfter.value) errors.value.photos = '请拍摄至少一张办结后照片';
      }
      if (Object.keys(errors.value).length) return showFailToast(errors.value.photos || '请检查填写的内容');
      busy.value = true;
      try {
        const opts = { replaces: redo };
        if (completing.value) await queueAction(c.value, 'complete', '办结', { actual_cost_fen: fen.value, note: note.value }, blobs, opts);
        else await queueAction(c.value, 'start', '开始办理', { note: note.value }, blobs, opts);
        router.replace(`/case/${props.id}`);
      } finally {
        busy.value = false;
      }
    }
    return { c, completing, photos, cost, note, busy, errors, fen, yuan, afterRead, submit, back: () => router.back() };
  },
  template: `
  <div class="page" v-if="c">
    <van-nav-bar :title="completing ? '办结' : '开始办理'" left-arrow @click-left="back" />
    <van-form @submit="submit">
      <van-cell-group inset :title="c.title">
        <template v-if="completing">
          <van-field v-model="cost" label="实际费用" type="number" placeholder="0.00" :error-message="errors.cost" data-test="cost"><template #extra>元</template></van-field>
          <van-cell v-if="!Number.isNaN(fen) && cost" title="金额确认" :value="yuan(fen)" data-test="amount" />
        </template>
        <van-field v-model="note" label="说明" type="textarea" rows="2" autosize maxlength="500" :placeholder="completing ? '办结情况' : '办理安排'" />
      </van-cell-group>
      <van-cell-group inset :title="completing ? '办结后照片（必填）' : '办理中照片（可选）'">
        <div class="pad">
          <van-uploader v-model="photos" :after-read="afterRead" multiple :max-count="9" accept="image/*" capture="environment" data-test="work-photos" />
          <div class="red" v-if="errors.photos">{{ errors.photos }}</div>
        </div>
      </van-cell-group>
      <div class="pad"><van-button round block type="primary" native-type="submit" :loading="busy" :disabled="busy" data-test="work-submit">{{ completing ? '确认办结' : '开始办理' }}</van-button></div>
    </van-form>
  </div>`,
};
