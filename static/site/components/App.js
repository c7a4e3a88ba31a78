// The frame: a nav bar with the page's title and the tab bar of the
// resident entry points (我有诉求 / 我的诉求 / 公开 / 个人中心).
import { computed, onMounted } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { loadMe, state } from './shared.js';

export default {
  name: 'App',
  setup() {
    const route = useRoute();
    const router = useRouter();
    onMounted(() => loadMe().catch(() => {}));
    const tab = computed(() => route.meta.tab || '');
    const back = () => (typeof route.meta.back === 'string' ? router.push(route.meta.back) : router.back());
    // Vant's tab bar routes only when the tab changes, so 我的诉求 on a
    // case page or /track (both under that tab) did nothing: each tab
    // routes itself, to its page, whenever it is not already there.
    const go = (path) => route.path !== path && router.push(path);
    return { route, tab, back, go, state };
  },
  template: `
  <div class="page">
    <van-nav-bar :title="route.meta.title || '民生诉求'" :left-arrow="!!route.meta.back" @click-left="back" fixed placeholder />
    <router-view />
    <van-tabbar :model-value="tab">
      <van-tabbar-item name="file" @click="go('/')" icon="edit">我有诉求</van-tabbar-item>
      <van-tabbar-item name="mine" @click="go('/mine')" icon="orders-o">我的诉求</van-tabbar-item>
      <van-tabbar-item name="board" @click="go('/gongkai')" icon="chart-trending-o">民生公开</van-tabbar-item>
      <van-tabbar-item name="me" @click="go('/me')" icon="user-o">个人中心</van-tabbar-item>
    </van-tabbar>
  </div>`,
};
