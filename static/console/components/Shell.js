// Shell is the frame: the menu of the pages the user's role may open, the
// user's name and scope, and sign-out.
import { computed } from 'vue';
import { useRouter, useRoute } from 'vue-router';
import { api, session, pages } from '../shared.js';

export default {
  name: 'Shell',
  setup() {
    const router = useRouter();
    const route = useRoute();
    const menu = computed(() => pages.filter((p) => p.roles.includes(session.me?.role)));
    const active = computed(() => '/' + (route.path.split('/')[1] || ''));
    const scope = computed(() => session.me?.sub_district_name || (session.me?.role === 'finance' ? '西城区财政局' : '西城区'));
    async function logout() {
      await api.logout();
      router.push('/login');
    }
    return { session, menu, active, scope, logout };
  },
  template: `
  <div class="shell">
    <aside class="shell-aside">
      <div class="brand">民生 · 管理台</div>
      <el-menu :default-active="active" router background-color="#1d2b3a" text-color="#c9d1d9" active-text-color="#ffffff">
        <el-menu-item v-for="p in menu" :key="p.path" :index="p.path" :data-page="p.name">
          <el-icon><component :is="p.icon" /></el-icon><span>{{ p.title }}</span>
        </el-menu-item>
      </el-menu>
    </aside>
    <section class="shell-main">
      <header class="shell-header">
        <span class="muted">{{ scope }}</span>
        <span>
          <el-tag size="small" type="info">{{ session.me?.role_label || session.me?.role }}</el-tag>
          <b style="margin:0 10px">{{ session.me?.name }}</b>
          <el-button link type="primary" @click="logout">退出</el-button>
        </span>
      </header>
      <main class="shell-body"><router-view /></main>
    </section>
  </div>`,
};
