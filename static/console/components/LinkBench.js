// LinkBench (预算关联工作台): a case, its top-3 catalog suggestions with
// reasons, warnings, the sub-district's lines with available money, and
// linking with an estimate; or many similar cases to one line at once,
// previewing which fit.
import { ref, reactive, computed, onMounted, watch } from 'vue';
import { useRoute } from 'vue-router';
import { ElMessage } from 'element-plus';
import { api, session, yuan, toFen, fiscalYear, errText, communityName } from '../shared.js';

export default {
  name: 'LinkBench',
  setup() {
    const route = useRoute();
    const queue = ref([]);
    const lines = ref([]);
    const cur = ref(null);
    const sugg = ref([]);
    const busy = ref(false);
    const error = ref('');
    const form = reactive({ item: '', line: '', estimate: '' });
    const bulk = reactive({ on: false, selected: [], line: '' });
    const year = fiscalYear();
    async function loadQueue() {
      try {
        const lists = await Promise.all(['assessed', 'in_progress', 'assigned'].map((s) => api.get('/api/v1/cases', { status: s, limit: 100 })));
        queue.value = lists.flatMap((l) => l.items).filter((c) => !c.budget);
        lines.value = (await api.get('/api/v1/budget/lines', { year, limit: 100 })).items || [];
      } catch (e) {
        error.value = errText(e);
      }
    }
    async function pick(c) {
      if (!c) return;
      cur.value = await api.get(`/api/v1/cases/${c.id}`);
      form.item = cur.value.catalog_item || '';
      form.estimate = cur.value.assessment ? yuan(cur.value.assessment.estimate_fen).replace(/,/g, '') : '';
      form.line = '';
      try {
        sugg.value = (await api.get('/api/v1/catalog/suggest', { case_id: c.id })).items || [];
        if (!form.item && sugg.value[0]) form.item = sugg.value[0].code;
      } catch (e) {
        sugg.value = [];
      }
    }
    onMounted(async () => {
      await loadQueue();
      const id = route.query.case;
      if (id) pick({ id });
    });
    // Lines of the chosen item first, the most money first: the ones staff look for.
    const linesOfSub = computed(() => lines.value.filter((l) => !cur.value || l.sub_district === cur.value.location.sub_district)
      .sort((a, b) => (b.item_code === form.item) - (a.item_code === form.item) || b.available_fen - a.available_fen));
    const matching = computed(() => linesOfSub.value.filter((l) => !form.item || l.item_code === form.item));
    const warnings = computed(() => {
      const w = [];
      if (!cur.value) return w;
      if (!cur.value.assessment) w.push('该诉求尚未现场评估，估算金额未知');
      const s = sugg.value.find((x) => x.code === form.item);
      if (form.item && cur.value.area && form.item.slice(0, 2) !== cur.value.area) w.push(`所选分类 ${form.item} 不属于该诉求的领域（${cur.value.area_label}）`);
      if (form.item && !matching.value.length) w.push('本街道没有该分类的预算项目');
      if (s && s.score < 30) w.push('该分类与诉求内容匹配度较低，请核对');
      return w;
    });
    // Choosing a line classifies the case to the line's item: the line decides where its money is booked.
    function pickLine(r) {
      if (!r) return;
      form.line = r.id;
      form.item = r.item_code;
    }
    async function confirmItem() {
      busy.value = true;
      try {
        cur.value = await api.post(`/api/v1/cases/${cur.value.id}/catalog-item`, { version: cur.value.version, item_code: form.item });
        ElMessage.success('已确认分类');
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    async function link() {
      const fen = toFen(form.estimate);
      if (fen === null || fen <= 0) return ElMessage.error('请填写正确的估算金额（元）');
      busy.value = true;
      try {
        if (cur.value.catalog_item !== form.item) await confirmItem();
        await api.post(`/api/v1/cases/${cur.value.id}/budget-link`, { line_id: form.line, estimate_fen: fen });
        ElMessage.success('已关联并预留资金');
        cur.value = null;
        await loadQueue();
      } catch (e) {
        ElMessage.error(errText(e));
      } finally {
        busy.value = false;
      }
    }
    const bulkLine = computed(() => lines.value.find((l) => l.id === bulk.line));
    const preview = computed(() => {
      let left = bulkLine.value?.available_fen ?? 0;
      return bulk.selected.map((c) => {
        const est = c.assessment?.estimate_fen ?? 0;
        let why = '';
        if (!bulkLine.value) why = '请选择预算项目';
        else if (est <= 0) why = '未评估，无估算金额';
        else if (c.catalog_item && c.catalog_item !== bulkLine.value.item_code) why = `已分类为 ${c.catalog_item}，与项目分类不同`;
        else if (est > left) why = `余额 ${yuan(left)} 元不足`;
        const fits = !why;
        if (fits) left -= est;
        return { c, est, fits, why, left };
      });
    });
    const bulkFits = computed(() => preview.value.filter((p) => p.fits));
    const bulkSum = computed(() => bulkFits.value.reduce((t, p) => t + p.est, 0));
    async function bulkLink() {
      busy.value = true;
      let ok = 0;
      for (const p of preview.value.filter((x) => x.fits)) {
        try {
          let c = p.c;
          if (c.catalog_item !== bulkLine.value.item_code) c = await api.post(`/api/v1/cases/${c.id}/catalog-item`, { version: c.version, item_code: bulkLine.value.item_code });
          await api.post(`/api/v1/cases/${c.id}/budget-link`, { line_id: bulk.line, estimate_fen: p.est });
          ok++;
        } catch (e) {
          ElMessage.error(`${p.c.number}：${errText(e)}`);
        }
      }
      ElMessage.success(`已关联 ${ok} 件`);
      bulk.selected = [];
      busy.value = false;
      loadQueue();
    }
    return { pickLine, queue, lines, cur, sugg, form, bulk, busy, error, pick, linesOfSub, matching, warnings, confirmItem, link, preview, bulkLink, bulkLine, bulkFits, bulkSum, yuan, communityName, session };
  },
  template: `
  <div>
    <h2 class="page-title">预算关联工作台 <el-switch v-model="bulk.on" active-text="批量关联" /></h2>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <div class="grid2">
      <div class="panel">
        <h3>待关联预算的诉求（{{ queue.length }}）</h3>
        <el-table :data="queue" border size="small" highlight-current-row @current-change="(r) => !bulk.on && pick(r)" @selection-change="(s) => bulk.selected = s" max-height="520">
          <el-table-column v-if="bulk.on" type="selection" width="36" />
          <el-table-column prop="number" label="编号" width="125" />
          <el-table-column prop="title" label="标题" show-overflow-tooltip />
          <el-table-column label="社区" width="110" show-overflow-tooltip><template #default="{ row }">{{ communityName(row.location?.community) }}</template></el-table-column>
          <el-table-column label="估算（元）" width="100" align="right"><template #default="{ row }"><span class="money">{{ row.assessment ? yuan(row.assessment.estimate_fen) : '未评估' }}</span></template></el-table-column>
        </el-table>
      </div>
      <div class="panel" v-if="bulk.on">
        <h3>批量关联到一个预算项目</h3>
        <div class="muted" style="margin-bottom:6px" v-if="!bulk.selected.length">在左侧勾选相似的诉求，再选择预算项目；按勾选顺序依次放入项目可用资金。</div>
        <el-select v-model="bulk.line" filterable placeholder="选择预算项目" style="width:100%;margin-bottom:8px" data-test="bulk-line">
          <el-option v-for="l in lines" :key="l.id" :label="l.project_name + '（' + l.item_name + '，可用 ' + yuan(l.available_fen) + ' 元）'" :value="l.id" />
        </el-select>
        <el-table :data="preview" border size="small" data-test="bulk-preview" empty-text="尚未勾选诉求">
          <el-table-column label="编号" width="125"><template #default="{ row }">{{ row.c.number }}</template></el-table-column>
          <el-table-column label="标题" show-overflow-tooltip><template #default="{ row }">{{ row.c.title }}</template></el-table-column>
          <el-table-column label="估算（元）" width="100" align="right"><template #default="{ row }">{{ yuan(row.est) }}</template></el-table-column>
          <el-table-column label="预览" width="150"><template #default="{ row }"><el-tag :type="row.fits ? 'success' : 'danger'" size="small">{{ row.fits ? '可关联' : '放不下' }}</el-tag> <span v-if="!row.fits" class="muted">{{ row.why }}</span></template></el-table-column>
          <el-table-column label="余额（元）" width="110" align="right"><template #default="{ row }">{{ yuan(row.left) }}</template></el-table-column>
        </el-table>
        <div class="muted" style="margin-top:8px" data-test="bulk-summary" v-if="bulkLine">可关联 {{ bulkFits.length }} 件，合计 {{ yuan(bulkSum) }} 元；项目可用 {{ yuan(bulkLine.available_fen) }} 元，关联后余 {{ yuan(bulkLine.available_fen - bulkSum) }} 元</div>
        <el-button type="primary" style="margin-top:8px" :disabled="!bulkFits.length" :loading="busy" @click="bulkLink" data-test="bulk-link">关联可放下的 {{ bulkFits.length }} 件</el-button>
      </div>
      <div class="panel" v-else-if="cur" data-test="link-panel">
        <h3>{{ cur.number }} {{ cur.title }}</h3>
        <el-alert v-for="w in warnings" :key="w" :title="w" type="warning" :closable="false" show-icon style="margin-bottom:6px" />
        <div class="muted" style="margin:6px 0">分类建议（前三）</div>
        <el-radio-group v-model="form.item" style="display:block">
          <div v-for="s in sugg" :key="s.code" style="margin-bottom:6px">
            <el-radio :value="s.code">{{ s.code }} {{ s.name }} <span class="muted">（匹配 {{ s.score }}）</span></el-radio>
            <ul class="why muted"><li v-for="w in s.why" :key="w">{{ w }}</li></ul>
          </div>
        </el-radio-group>
        <el-button size="small" @click="confirmItem" :disabled="!form.item" :loading="busy" data-test="confirm-item">确认分类（待资金分配）</el-button>
        <div class="muted" style="margin:10px 0 6px">本街道预算项目（可用资金）</div>
        <el-table :data="linesOfSub" border size="small" highlight-current-row @current-change="pickLine" max-height="240">
          <el-table-column prop="project_name" label="项目" show-overflow-tooltip />
          <el-table-column prop="item_name" label="分类" width="120" show-overflow-tooltip />
          <el-table-column label="可用（元）" width="120" align="right"><template #default="{ row }"><span class="money">{{ yuan(row.available_fen) }}</span></template></el-table-column>
          <el-table-column label="匹配" width="60"><template #default="{ row }"><el-tag v-if="row.item_code === form.item" type="success" size="small">是</el-tag></template></el-table-column>
        </el-table>
        <el-form inline style="margin-top:8px" @submit.prevent="link">
          <el-form-item label="估算（元）"><el-input v-model="form.estimate" style="width:140px" /></el-form-item>
          <el-form-item><el-button type="primary" :disabled="!form.line" :loading="busy" native-type="submit" data-test="link">关联并立即预留</el-button></el-form-item>
        </el-form>
      </div>
      <div class="panel muted" v-else>从左侧选择一件诉求</div>
    </div>
  </div>`,
};
