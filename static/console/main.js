// The console's entry: Element Plus in Chinese (weeks start on Monday once
// dayjs's zh-cn locale is registered on the dayjs Element Plus bundles),
// its icons, the router with a guard per role, and the signed-in user.
import { createApp } from 'vue';
import ElementPlus, { dayjs } from 'element-plus';
import zhCn from 'element-plus/locale/zh-cn';
import * as Icons from '@element-plus/icons-vue';
import { createRouter, createWebHistory } from 'vue-router';
import { api, session, mayOpen, homeOf, consoleRoles } from './shared.js';
import Shell from './components/Shell.js';
import Login from './components/Login.js';
import Workbench from './components/Workbench.js';
import CaseList from './components/CaseList.js';
import CaseDetail from './components/CaseDetail.js';
import CaseMap from './components/CaseMap.js';
import LinkBench from './components/LinkBench.js';
import Lines from './components/Lines.js';
import LineDetail from './components/LineDetail.js';
import Allocation from './components/Allocation.js';
import Reports from './components/Reports.js';
import Admin from './components/Admin.js';
import Forbidden from './components/Forbidden.js';

window.dayjs = dayjs;
await import('/vendor/dayjs@1.11.13/locale/zh-cn.js');
dayjs.locale('zh-cn');

const routes = [
  { path: '/login', component: Login, meta: { public: true } },
  {
    path: '/', component: Shell, children: [
      { path: '', redirect: () => homeOf(session.me?.role) },
      { path: 'workbench', name: 'workbench', component: Workbench },
      { path: 'cases', name: 'cases', component: CaseList },
      { path: 'cases/:id', name: 'case', component: CaseDetail, meta: { page: 'cases' } },
      { path: 'map', name: 'map', component: CaseMap },
      { path: 'link', name: 'link', component: LinkBench },
      { path: 'lines', name: 'lines', component: Lines },
      { path: 'lines/:id', name: 'line', component: LineDetail, meta: { page: 'lines' } },
      { path: 'allocation', name: 'allocation', component: Allocation },
      { path: 'reports', name: 'reports', component: Reports },
      { path: 'admin', name: 'admin', component: Admin },
      { path: 'forbidden', name: 'forbidden', component: Forbidden },
      { path: ':rest(.*)*', redirect: '/' },
    ],
  },
];

const router = createRouter({ history: createWebHistory('/console/'), routes });

async function loadMe() {
  if (session.me || !api.session) return session.me;
  try {
    const [me, org] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/org')]);
    session.me = me;
    session.org = org;
  } catch {
    session.me = null;
  }
  return session.me;
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const me = await loadMe();
  if (!me || !consoleRoles.includes(me.role)) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  const page = to.meta.page || to.name;
  if (page && !mayOpen(page, me.role)) return { name: 'forbidden' };
  return true;
});

api.onSession((s) => {
  if (!s) {
    session.me = null;
    if (router.currentRoute.value.path !== '/login') router.push('/login');
  }
});

const app = createApp({ template: '<router-view />' });
app.use(ElementPlus, { locale: zhCn, size: 'small' });
for (const [name, c] of Object.entries(Icons)) app.component(name, c);
app.use(router);
app.mount('#app');
window.__consoleReady = true;
