// 现场评估: the catalog item (top-3 suggestions), the estimate typed in 元
// and sent in fen, households, risk, elderly and disabled residents.
import { computed, reactive, ref, onMounted } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { showFailToast } from 'vant';
import { api, state, queueAction } from './state.js';
import { db } from './db.js';
import { fenFrom, yuan } from './format.js';

export default {
  name: 'AssessView',
  props: { id: String },
  setup(props) {
    const router = useRouter();
    const c = computed(() => state.cases[props.id]);
    const a = c.value?.assessment;
    const form = reactive({
      item: '', estimate: a ? String(a.estimate_fen / 100) : '', households: a?.households || c.value?.households || 1,
      risk: String(a?.risk || 1), elderly: a?.elderly || 0, disabled: a?.disabled || 0, note: '',
    });
    const suggestions = ref([]);
    const hint = ref('');
    const errors = ref({});
    const busy = ref(false);
    // 修改: a refused assessment comes back with what was entered.
    const redo = String(useRoute().query.redo || '');
    onMounted(async () => {
      const old = redo && (await db.get(redo));
      if (old?.body) {
        const b = old.body;
        Object.assign(form, {
          item: b.catalog_item || form.item, estimate: String(b.estimate_fen / 100), households: b.households, risk: String(b.risk),
          elderly: b.elderly, disabled: b.disabled, note: b.note || '',
        });
      }
      try {
        suggestions.value = (await api.get(`/mobile/v1/cases/${props.id}/suggestions`)).items;
        if (suggestions.value[0] && !form.item) form.item = suggestions.value[0].code;
      } catch (err) {
        hint.value = err.offline ? '离线：联网后可看支出事项建议' : err.message;
      }
    });
    const fen = computed(() => fenFrom(form.estimate));
    async function submit() {
      errors.value = {};
      if (Number.isNaN(fen.value)) errors.value.estimate = '请输入金额（元），最多两位小数';
      if (Object.keys(errors.value).length) return showFailToast('请检查填写的内容');
      busy.value = true;
      try {
        await queueAction(c.value, 'assess', '现场评估', {
          estimate_fen: fen.value, households: Number(form.households), risk: Number(form.risk),
          elderly: Number(form.elderly), disabled: Number(form.disabled), catalog_item: form.item, note: form.note,
        }, [], { replaces: redo });
        router.replace(`/case/${props.id}`);
      } finally {
        busy.value = false;
      }
    }
    return { c, form, suggestions, hint, errors, busy, fen, yuan, submit, back: () => router.back() };
  },
  template: `
  <div class="page" v-if="c">
    <van-nav-bar title="现场评估" left-arrow @click-left="back" />
    <van-cell-group inset :title="c.title">
      <van-radio-group v-model="form.item">
        <van-cell v-for="s in suggestions" :key="s.code" :title="s.name" :label="s.code + (s.why && s.why.length ? ' · ' + s.why.join('、') : '')" clickable @click="form.item = s.code">
          <template #right-icon><van-radio :name="s.code" /></template>
        </van-cell>
      </van-radio-group>
      <van-cell v-if="hint" :title="hint" />
    </van-cell-group>
    <van-form @submit="submit">
      <van-cell-group inset title="估算">
        <van-field v-model="form.estimate" label="估算金额" type="number" placeholder="0.00" :error-message="errors.estimate" data-test="estimate">
          <template #extra>元</template>
        </van-field>
        <van-cell v-if="!Number.isNaN(fen) && form.estimate" title="金额确认" :value="yuan(fen)" data-test="amount" />
        <van-field label="涉及户数"><template #input><van-stepper v-model="form.households" min="1" max="100000" integer /></template></van-field>
        <van-field label="风险等级"><template #input>
          <van-radio-group v-model="form.risk" direction="horizontal"><van-radio name="1">低</van-radio><van-radio name="2">中</van-radio><van-radio name="3">高</van-radio></van-radio-group>
        </template></van-field>
        <van-field label="老年人"><template #input><van-stepper v-model="form.elderly" min="0" max="1000000" integer /></template></van-field>
        <van-field label="残疾人"><template #input><van-stepper v-model="form.disabled" min="0" max="1000000" integer /></template></van-field>
        <van-field v-model="form.note" label="说明" type="textarea" rows="2" autosize maxlength="500" placeholder="现场情况" />
      </van-cell-group>
      <div class="pad"><van-button round block type="primary" native-type="submit" :loading="busy" :disabled="busy" data-test="assess-submit">提交评估</van-button></div>
    </van-form>
  </div>`,
};
