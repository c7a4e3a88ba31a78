// 民生实事公开 (/gongkai, no sign-in): per sub-district and community, the
// funded public needs with their catalog item, money and progress, the
// three 12345 rates, and the execution of the sub-district's budget lines.
// The needs' map places them at their community's reference point, never at
// a filed position: the board is public, and a need's own position (公开 or
// not) could point at a resident's home (docs/ARCHITECTURE.md, front ends).
import { ref, computed, onMounted, onBeforeUnmount, watch, nextTick } from 'vue';
import { createMap, mapConfig } from 'minsheng/map';
import { showDialog } from 'vant';
import { api, loadOrg, yuan, day, errorText } from './shared.js';

export default {
  name: 'BoardPage',
  setup() {
    const subs = ref([{ text: '西城区全部街道', value: '' }]);
    const sub = ref(new URLSearchParams(location.search).get('sub_district') || '');
    const board = ref(null);
    // A line's figures are named by the server (GET /api/v1/budget/labels),
    // with the words the console uses for the same sums.
    const fig = ref({});
    const error = ref('');
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        board.value = await api.request('GET', '/api/v1/public/board', { auth: false, token: '', params: { sub_district: sub.value } });
        error.value = '';
      } catch (e) {
        error.value = errorText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(async () => {
      loadOrg().then((org) => {
        subs.value = [{ text: `${org.name}全部街道`, value: '' }, ...org.sub_districts.map((s) => ({ text: s.name, value: s.code }))];
      }).catch(() => {});
      api.request('GET', '/api/v1/budget/labels', { auth: false, token: '' })
        .then((t) => { fig.value = Object.fromEntries((t.figures || []).map((f) => [f.key, f.label])); }).catch(() => {});
      load();
    });
    watch(sub, () => {
      history.replaceState(null, '', sub.value ? `/gongkai?sub_district=${sub.value}` : '/gongkai');
      load();
    });
    const needs = computed(() => board.value?.communities?.reduce((n, c) => n + c.needs.length, 0) || 0);
    const open = ref([]);
    watch(board, (b) => {
      const first = b?.communities?.find((c) => c.needs.length);
      open.value = first ? [first.code] : [];
    });
    // The status in the server's words (status_label); only its colour is chosen here.
    const done = (n) => n.status === 'closed' || n.status === 'completed';
    // The map of funded needs: one marker per community, its count as label.
    const mapEl = ref(null);
    let needsMap = null;
    let mapping = null;
    async function drawNeeds() {
      const b = board.value;
      if (!b || !mapEl.value) return;
      if (!mapping) mapping = createMap(mapEl.value, { onOpen: (p) => openCommunity(p.id), unit: '项' }).then((m) => (needsMap = m));
      const m = await mapping;
      m.invalidate(); // the block may have been hidden (v-show) while drawn
      let centers = new Map();
      try {
        centers = new Map((await mapConfig()).outline.communities.map((c) => [c.code, c.center]));
      } catch {
        /* no outline: no markers */
      }
      m.setPoints(b.communities.filter((cm) => cm.needs.length && centers.has(cm.code)).map((cm) => ({
        id: cm.code, ...centers.get(cm.code), datum: 'wgs84', label: `${cm.name}：${cm.needs.length} 项已安排资金`, color: '#1989fa', count: cm.needs.length,
      })));
      m.fit();
    }
    function openCommunity(code) {
      if (!open.value.includes(code)) open.value = [...open.value, code];
      nextTick(() => document.querySelector(`[data-community="${code}"]`)?.scrollIntoView({ behavior: 'smooth', block: 'start' }));
    }
    watch(board, () => nextTick(drawNeeds));
    onBeforeUnmount(() => needsMap?.destroy());
    // The server counts the rates (one definition for every screen) and
    // sends each with its counts, its text ("—" when nothing was due), the
    // period and the definition; the board only shows them.
    const rateCells = computed(() => (board.value?.rates?.definitions || []).map((d) => ({ ...d, rate: board.value.rates[d.key] })));
    function explain(c) {
      showDialog({
        title: `${c.label}：${c.rate.text}`,
        message: `${c.formula}\n\n分子 ${c.rate.num}：${c.numerator}\n分母 ${c.rate.den}：${c.denominator}\n\n${board.value.rates.period.text}`,
        messageAlign: 'left',
        confirmButtonText: '知道了',
      });
    }
    return { subs, sub, board, error, loading, needs, open, mapEl, yuan, day, done, rateCells, explain, fig };
  },
  template: `
  <div>
    <van-dropdown-menu><van-dropdown-item v-model="sub" :options="subs" /></van-dropdown-menu>
    <van-cell-group inset style="margin-top:8px">
      <van-cell title="浏览社区公开诉求" label="看看邻居们提了哪些诉求，办到哪一步了" is-link to="/gongkai/cases" icon="bars" class="browse-cases" />
    </van-cell-group>
    <van-empty v-if="error" image="error" :description="error" />
    <template v-if="board">
      <div class="section-title">{{ board.fiscal_year }} 年度 · {{ board.sub_district_name || '全区' }} · 12345 考评三率</div>
      <div class="board-rates" data-test="rates">
        <div v-for="c in rateCells" :key="c.key" class="rate" :data-rate="c.key" @click="explain(c)">
          <div class="v">{{ c.rate.text }}</div>
          <div class="l">{{ c.label }} <van-icon name="info-o" :aria-label="c.label + '的口径'" /></div>
          <div class="n">{{ c.rate.num }} / {{ c.rate.den }}</div>
        </div>
      </div>
      <div class="rate-notes" data-test="rate-notes">
        <div>统计范围：{{ board.rates.period.text }}</div>
        <div v-for="c in rateCells" :key="c.key">{{ c.label }} = {{ c.formula }}</div>
        <div>无应计诉求时显示“—”。点 ⓘ 查看分子、分母说明。</div>
      </div>
      <div class="section-title">预算执行</div>
      <van-cell-group inset>
        <van-cell v-for="k in ['approved_fen', 'adjusted_fen', 'committed_fen', 'spent_fen']" :key="k" :title="fig[k]" :label="k === 'committed_fen' ? '尚未支出' : ''" :value="yuan(board.execution[k])" :data-figure="k" />
      </van-cell-group>
      <van-collapse v-if="board.lines.length" :model-value="[]" style="margin-top:8px">
        <van-collapse-item title="各预算项目明细" name="lines">
          <div v-for="l in board.lines" :key="l.sub_district + l.item_code + l.project_name" style="padding:6px 0;border-bottom:1px solid #eee;font-size:13px">
            <div><b>{{ l.project_name }}</b> <span style="color:#888">{{ l.item_code }} {{ l.item_name }}</span></div>
            <div class="money" style="color:#555">{{ fig.approved_fen }} {{ yuan(l.approved_fen) }} · {{ fig.adjusted_fen }} {{ yuan(l.adjusted_fen) }} · {{ fig.spent_fen }} {{ yuan(l.spent_fen) }}</div>
          </div>
        </van-collapse-item>
      </van-collapse>
      <div class="section-title">已获预算安排的民生需求（{{ needs }} 项，仅显示公开诉求）</div>
      <div v-if="!needs" class="empty-note">暂无公开的已安排预算的需求</div>
      <div v-show="needs" class="board-map-wrap">
        <div ref="mapEl" class="board-map" data-test="board-map"></div>
        <div class="board-map-note">按社区标注（社区参考点），不显示诉求的具体位置；点标记查看该社区的需求</div>
      </div>
      <!-- One fold per community, so a sub-district's board is a list a
           phone can scroll; the first community with needs starts open. -->
      <van-collapse v-if="needs" v-model="open" class="communities">
        <van-collapse-item v-for="cm in board.communities" :key="cm.code" :name="cm.code" :title="cm.name" :value="cm.needs.length + ' 项'" :data-community="cm.code">
          <div v-for="n in cm.needs" :key="n.id" class="need" data-test="need">
            <div class="row" style="display:flex;justify-content:space-between;gap:8px">
              <div class="title">{{ n.title }}</div>
              <van-tag :type="done(n) ? 'success' : 'primary'" data-test="need-state">{{ n.status_label }}</van-tag>
            </div>
            <div class="meta">{{ n.number }} · {{ n.area_label }} · {{ n.item_name || n.item_code }}</div>
            <div class="meta money">
              <!-- Spending releases the reservation: a finished need shows what it cost. -->
              <template v-if="n.spent_fen > 0">{{ fig.spent_fen }} {{ yuan(n.spent_fen) }}<template v-if="n.approved_fen > 0"> · {{ fig.committed_fen }} {{ yuan(n.approved_fen) }}</template></template>
              <template v-else>{{ fig.committed_fen }} {{ yuan(n.approved_fen) }}</template>
            </div>
            <div class="meta">提交 {{ day(n.filed_at) }}<span v-if="n.completed_at"> · 办结 {{ day(n.completed_at) }}</span><span v-if="n.cosign_count"> · {{ n.cosign_count }} 人附议</span></div>
            <div v-if="n.photos.length" class="photos" style="padding:8px 0 0">
              <div v-for="(p, i) in n.photos" :key="i" class="ph"><van-image :src="p.thumb_url" width="72" height="72" fit="cover" radius="4" /><div>{{ p.tag === 'after' ? '办结后' : '办理前' }}</div></div>
            </div>
          </div>
        </van-collapse-item>
      </van-collapse>
    </template>
    <van-loading v-else-if="loading" style="padding:48px;text-align:center" />
  </div>`,
};
