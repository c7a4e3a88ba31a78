// 地图: the cadre's cases on a map for a day's route — 我的 (assigned to
// me, or filed here and not sent yet) and 附近 (every open case of the
// synced ones within NEARBY_M of where the phone stands) — with the list
// below in route order (nearest first once located, else by deadline).
// Works offline: the cases are the synced ones, the map's outline is kept.
import { computed, ref, onMounted, onBeforeUnmount, watch } from 'vue';
import { useRouter } from 'vue-router';
import { showToast } from 'vant';
import { createMap, distanceM } from 'minsheng/map';
import { convert } from 'minsheng/datum';
import { state, caseList, isOpen } from './state.js';
import { deadlineClass, live } from 'minsheng/deadline';
import SyncBadge from './SyncBadge.js';

const NEARBY_M = 1000;

export default {
  name: 'MapView',
  components: { SyncBadge },
  setup() {
    const router = useRouter();
    const tab = ref('mine');
    const here = ref(null); // WGS-84, from the phone
    const locating = ref(false);
    const el = ref(null);
    let map = null;
    // A case's position in WGS-84 (positions keep their own datum), so
    // distances compare like with like.
    const wgsOf = (c) => {
      const l = c.location;
      if (l?.lat == null || l?.lng == null) return null;
      const [lat, lng] = convert(l.lat, l.lng, c.location_datum || l.datum, 'wgs84');
      return { lat, lng };
    };
    const open = computed(() => caseList()
      .filter((c) => c.local || isOpen(c.status) || (c.actions || []).length)
      .map((c) => ({ ...c, deadline: live(c.deadline, Date.now(), state.boot?.deadline_words), at: wgsOf(c) })));
    const shown = computed(() => {
      let list = open.value.filter((c) => (tab.value === 'mine' ? c.local || c.assigned_to_me : true));
      if (here.value) list = list.map((c) => ({ ...c, dist: c.at ? distanceM(here.value, c.at) : null }));
      if (tab.value === 'near') list = here.value ? list.filter((c) => c.dist != null && c.dist <= NEARBY_M) : [];
      return list.sort((a, b) => {
        if (here.value) return (a.dist ?? Infinity) - (b.dist ?? Infinity);
        return (a.deadline?.due_at || '9999').localeCompare(b.deadline?.due_at || '9999');
      });
    });
    const unplaced = computed(() => shown.value.filter((c) => !c.at).length);
    function draw() {
      if (!map) return;
      map.setPoints(shown.value.filter((c) => c.at).map((c) => ({
        id: c.id, lat: c.at.lat, lng: c.at.lng, datum: 'wgs84', label: `${c.title}（${c.local ? '待发送' : c.status_label}）`,
        color: c.deadline?.overdue ? '#ee0a24' : c.assigned_to_me ? '#c8102e' : '#1989fa',
      })));
      map.setPick(here.value ? { ...here.value, datum: 'wgs84' } : null);
      map.fit();
    }
    watch(shown, draw);
    function locate() {
      if (!navigator.geolocation) return showToast('此设备不支持定位');
      locating.value = true;
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          here.value = { lat: pos.coords.latitude, lng: pos.coords.longitude };
          locating.value = false;
        },
        () => {
          locating.value = false;
          showToast('无法获取位置，请检查定位权限');
        },
        { enableHighAccuracy: true, timeout: 10000 },
      );
    }
    watch(tab, (t) => {
      if (t === 'near' && !here.value) locate();
    });
    onMounted(async () => {
      map = await createMap(el.value, { onOpen: (p) => router.push(`/case/${p.id}`) });
      draw();
    });
    onBeforeUnmount(() => map?.destroy());
    const distText = (m) => (m == null ? '无位置' : m < 1000 ? `${m} 米` : `${(m / 1000).toFixed(1)} 公里`);
    return { tab, el, shown, unplaced, here, locating, locate, deadlineClass, distText, state, NEARBY_M };
  },
  template: `
  <div class="page">
    <van-nav-bar title="地图"><template #right><sync-badge /></template></van-nav-bar>
    <van-tabs v-model:active="tab" shrink>
      <van-tab name="mine" title="我的案件" />
      <van-tab name="near" title="附近 1 公里" />
    </van-tabs>
    <div style="position:relative;margin:8px 12px 0">
      <div ref="el" style="height:46vh;min-height:260px" data-test="cadre-map"></div>
      <van-button size="small" round icon="aim" :loading="locating" class="locate-me" style="position:absolute;right:8px;top:8px;z-index:800" @click="locate">我的位置</van-button>
    </div>
    <div class="muted" style="padding:6px 16px" data-test="route-note">
      <template v-if="tab === 'near' && !here">定位后显示附近 {{ NEARBY_M }} 米内的案件</template>
      <template v-else>{{ shown.length }} 件{{ here ? '，按距离排列，可作今日路线' : '，按时限排列；定位后按距离排列' }}<template v-if="unplaced">（{{ unplaced }} 件登记时无位置）</template></template>
    </div>
    <van-cell-group inset>
      <van-cell v-for="c in shown" :key="c.id" :to="'/case/' + c.id" is-link data-test="route-row" title-style="flex:4">
        <template #title>
          <div class="case-title">{{ c.title }}</div>
          <div class="muted">{{ c.number }} · {{ c.location && c.location.address }}</div>
        </template>
        <template #label>
          <van-tag :type="c.local ? 'warning' : 'primary'" plain>{{ c.local ? '待发送' : c.status_label }}</van-tag>
          <span v-if="c.deadline" :class="deadlineClass(c.deadline)" style="margin-left:6px">{{ c.deadline.text }}</span>
        </template>
        <template #value><span v-if="here">{{ distText(c.dist) }}</span></template>
      </van-cell>
    </van-cell-group>
  </div>`,
};
