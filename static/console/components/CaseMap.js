// CaseMap (诉求地图): the cases of the user's scope on a map, filtered by
// status, area and community like the list, clustered; a marker opens the
// case. Cases filed without a position are counted, not placed.
import { ref, reactive, computed, onMounted, onBeforeUnmount } from 'vue';
import { useRouter } from 'vue-router';
import { createMap } from 'minsheng/map';
import { api, session, caseLabels, loadCaseLabels, errText } from '../shared.js';

// How many cases a map loads (pages of 100): a sub-district's open work
// fits; beyond it the map says so and asks for a narrower filter.
const MAX_CASES = 2000;

// Marker colours by status group: waiting (red), in hand (orange),
// finished (green), closed without work (grey).
const COLORS = {
  submitted: '#e53935', accepted: '#fb8c00', assigned: '#fb8c00', assessed: '#fb8c00', in_progress: '#fbc02d',
  completed: '#43a047', closed: '#2e7d32', rejected: '#9e9e9e', merged: '#9e9e9e', cancelled: '#9e9e9e',
};
export const statusColor = (s) => COLORS[s] || '#546e7a';

export default {
  name: 'CaseMap',
  setup() {
    const router = useRouter();
    const f = reactive({ status: '', area: '', sub_district: '', community: '' });
    const el = ref(null);
    const cases = ref([]);
    const truncated = ref(false);
    const loading = ref(false);
    const error = ref('');
    const areas = ref([]);
    const subs = computed(() => session.org?.sub_districts || []);
    const communities = computed(() => {
      const code = session.me?.sub_district || f.sub_district;
      return subs.value.find((s) => s.code === code)?.communities || [];
    });
    const placed = computed(() => cases.value.filter((c) => c.location?.lat != null && c.location?.lng != null));
    // The legend: each status shown, its colour and how many cases.
    const legend = computed(() => {
      const n = {};
      for (const c of placed.value) n[c.status] = (n[c.status] || 0) + 1;
      return Object.entries(n).map(([status, count]) => ({ status, count, color: statusColor(status), label: caseLabels.status[status] || status }));
    });
    let map = null;
    async function load() {
      loading.value = true;
      error.value = '';
      try {
        const all = [];
        let cursor = '';
        do {
          const out = await api.get('/api/v1/cases', {
            status: f.status, area: f.area, sub_district: session.me?.sub_district ? '' : f.sub_district, community: f.community, limit: 100, cursor,
          });
          all.push(...out.items);
          cursor = out.next_cursor || '';
        } while (cursor && all.length < MAX_CASES);
        cases.value = all;
        truncated.value = !!cursor;
        map?.setPoints(placed.value.map((c) => ({
          id: c.id, lat: c.location.lat, lng: c.location.lng, datum: c.location.datum,
          label: `${c.number} ${c.title}（${c.status_label}）`, color: statusColor(c.status),
        })));
        map?.fit();
      } catch (e) {
        error.value = errText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(async () => {
      loadCaseLabels();
      api.get('/api/v1/catalog').then((c) => { areas.value = c.areas || []; }).catch(() => {});
      map = await createMap(el.value, { onOpen: (p) => router.push(`/cases/${p.id}`) });
      load();
    });
    onBeforeUnmount(() => map?.destroy());
    return { f, el, cases, placed, legend, truncated, loading, error, areas, subs, communities, session, caseLabels, load, MAX_CASES };
  },
  template: `
  <div>
    <h2 class="page-title">诉求地图</h2>
    <div class="toolbar">
      <el-select v-model="f.status" placeholder="状态" clearable style="width:110px" @change="load()" data-test="map-status">
        <el-option v-for="s in caseLabels.statuses" :key="s.status" :label="s.label" :value="s.status" />
      </el-select>
      <el-select v-model="f.area" placeholder="领域" clearable style="width:120px" @change="load()">
        <el-option v-for="a in areas" :key="a.code" :label="a.name" :value="a.code" />
      </el-select>
      <el-select v-if="!session.me?.sub_district" v-model="f.sub_district" placeholder="街道" clearable filterable style="width:130px" @change="load()">
        <el-option v-for="s in subs" :key="s.code" :label="s.name" :value="s.code" />
      </el-select>
      <el-select v-model="f.community" placeholder="社区" clearable filterable style="width:150px" @change="load()">
        <el-option v-for="c in communities" :key="c.code" :label="c.name" :value="c.code" />
      </el-select>
      <span class="spacer" />
      <span class="map-count" data-test="map-count" v-if="!loading">
        地图上 {{ placed.length }} 件<template v-if="cases.length > placed.length">，另有 {{ cases.length - placed.length }} 件登记时无位置</template>
      </span>
    </div>
    <el-alert v-if="error" :title="error" type="error" :closable="false" style="margin-bottom:8px" />
    <el-alert v-if="truncated" :title="'只显示前 ' + MAX_CASES + ' 件，请用状态、领域或社区缩小范围'" type="warning" :closable="false" style="margin-bottom:8px" />
    <div class="panel" v-loading="loading">
      <div ref="el" style="height:calc(100vh - 230px);min-height:420px" data-test="case-map"></div>
      <div class="map-legend" data-test="map-legend" style="display:flex;gap:16px;flex-wrap:wrap;margin-top:8px;font-size:13px;color:#555">
        <span v-for="l in legend" :key="l.status"><i :style="{display:'inline-block',width:'10px',height:'10px',borderRadius:'50%',background:l.color,marginRight:'4px'}"></i>{{ l.label }} {{ l.count }}</span>
        <span>圆圈中的数字为该处的诉求件数，点击放大；点标记打开诉求</span>
      </div>
    </div>
  </div>`,
};
