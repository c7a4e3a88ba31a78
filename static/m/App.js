// The frame: the page, a banner when offline or when sending failed, and
// the tab bar with the badges (待办 open work, 通知 unread, 我的 outbox).
import { computed } from 'vue';
import { useRoute } from 'vue-router';
import { state } from './state.js';

export default {
  name: 'App',
  setup() {
    const route = useRoute();
    const tabs = computed(() => !route.meta.open);
    const banner = computed(() => {
      if (!state.online) return state.pending ? `离线：本机 ${state.pending} 条待发送，恢复网络后自动发送` : '离线：显示本机保存的数据';
      if (state.failed) return `有 ${state.failedCount} 条未能发送：${state.failed.lastError}（在「我的」修改或放弃）`;
      return '';
    });
    const openBadge = computed(() => state.me?.counts?.open || '');
    return { state, tabs, banner, openBadge };
  },
  template: `
  <van-notice-bar v-if="tabs && banner" :text="banner" left-icon="info-o" wrapable color="#ed6a0c" background="#fffbe8" />
  <router-view />
  <van-tabbar v-if="tabs" route fixed placeholder active-color="#c8102e">
    <van-tabbar-item to="/" icon="todo-list-o" :badge="openBadge">我的待办</van-tabbar-item>
    <van-tabbar-item to="/file" icon="add-o">代居民登记</van-tabbar-item>
    <van-tabbar-item to="/map" icon="location-o">地图</van-tabbar-item>
    <van-tabbar-item to="/notices" icon="bell" :badge="state.unread || ''">通知</van-tabbar-item>
    <van-tabbar-item to="/me" icon="user-o" :badge="state.pending || ''">我的</van-tabbar-item>
  </van-tabbar>`,
};
