// 社区公开诉求 (/gongkai/cases?community=…, no sign-in): the public (公开)
// requests of one community, newest first, paged (GET /api/v1/public/cases),
// each opening its public view. The community comes from the address, else
// the last one chosen on this phone, else the resident picks it.
import { ref, computed, onMounted } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { api, loadOrg, errorText, pagedList } from './shared.js';
import PublicCaseList from './PublicCaseList.js';

const CHOSEN = 'minsheng.site.community';

export default {
  name: 'PublicCasesPage',
  components: { PublicCaseList },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const options = ref([]);
    const names = ref({});
    const community = ref(typeof route.query.community === 'string' ? route.query.community : (localStorage.getItem(CHOSEN) || ''));
    const picked = ref(community.value);
    const showPlace = ref(false);
    const anon = { auth: false, token: '' };
    const { items, next, loading, finished, error, load: loadPage } = pagedList((cursor) =>
      api.request('GET', '/api/v1/public/cases', { ...anon, params: cursor ? { community: community.value, cursor } : { community: community.value } }));
    async function load(more) {
      if (!community.value) return;
      await loadPage(more);
    }
    onMounted(async () => {
      try {
        const org = await loadOrg();
        const n = {};
        options.value = org.sub_districts.map((s) => ({
          text: s.name, value: s.code,
          children: (s.communities || []).map((c) => {
            n[c.code] = `${s.name} · ${c.name}`;
            return { text: c.name, value: c.code };
          }),
        }));
        names.value = n;
      } catch (e) {
        error.value = errorText(e);
      }
      if (community.value) load(false);
    });
    function pick({ selectedOptions }) {
      community.value = selectedOptions[selectedOptions.length - 1].value;
      localStorage.setItem(CHOSEN, community.value);
      router.replace({ query: { community: community.value } });
      showPlace.value = false;
      items.value = [];
      next.value = '';
      finished.value = false;
      load(false);
    }
    const placeName = computed(() => names.value[community.value] || '');
    return { community, picked, showPlace, options, placeName, items, loading, finished, error, load, pick };
  },
  template: `
  <div>
    <van-cell-group inset style="margin-top:12px">
      <van-cell :title="placeName || '选择社区'" :value="placeName ? '切换' : ''" is-link @click="showPlace = true" icon="location-o" class="pick-community" data-test="community" />
    </van-cell-group>
    <van-popup v-model:show="showPlace" round position="bottom">
      <van-cascader v-model="picked" title="选择街道和社区" :options="options" @close="showPlace = false" @finish="pick" />
    </van-popup>
    <div class="section-title">居民公开提交的诉求，不显示提交人、电话和详细地址</div>
    <!-- A map view of the same items (the map helper's) goes here: a
         列表 / 地图 toggle above this line, the map showing these items,
         the list below when 列表 is chosen. -->
    <div v-if="!community" class="empty-note">
      选择一个社区，查看邻居们提交的公开诉求
      <div style="margin-top:12px"><van-button round type="primary" size="small" @click="showPlace = true">选择社区</van-button></div>
    </div>
    <van-empty v-else-if="error" image="error" :description="error" />
    <van-empty v-else-if="finished && !items.length" description="这个社区还没有公开的诉求" />
    <PublicCaseList v-if="community && !error" :items="items" :loading="loading" :finished="finished" @load="load(true)" />
  </div>`,
};
