// The resident site (/): 我有诉求, 我的诉求, 个人中心, the public board
// /gongkai and the community's public cases /gongkai/cases. Plain ES modules through the shared import map; templates are
// compiled in the browser (no build step, docs/ARCHITECTURE.md).
import { createApp } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import Vant from 'vant';
import App from './components/App.js';
import FilePage from './components/FilePage.js';
import MinePage from './components/MinePage.js';
import CasePage from './components/CasePage.js';
import TrackPage from './components/TrackPage.js';
import ProfilePage from './components/ProfilePage.js';
import BoardPage from './components/BoardPage.js';
import PublicCasesPage from './components/PublicCasesPage.js';
import PublicCasePage from './components/PublicCasePage.js';
import PrivacyPage from './components/PrivacyPage.js';
import SignInPage from './components/SignInPage.js';

const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/', component: FilePage, meta: { title: '我有诉求', tab: 'file' } },
    { path: '/mine', component: MinePage, meta: { title: '我的诉求', tab: 'mine' } },
    { path: '/mine/:id', component: CasePage, props: true, meta: { title: '诉求详情', tab: 'mine', back: '/mine' } },
    { path: '/track', component: TrackPage, meta: { title: '查询诉求进度', tab: 'mine' } },
    { path: '/me', component: ProfilePage, meta: { title: '个人中心', tab: 'me' } },
    { path: '/gongkai', component: BoardPage, meta: { title: '民生实事公开', tab: 'board' } },
    { path: '/gongkai/cases', component: PublicCasesPage, meta: { title: '社区公开诉求', tab: 'board', back: '/gongkai' } },
    { path: '/gongkai/cases/:id', component: PublicCasePage, props: true, meta: { title: '公开诉求', tab: 'board', back: true } },
    { path: '/privacy', component: PrivacyPage, meta: { title: '个人信息保护说明', back: true } },
    { path: '/login', component: SignInPage, meta: { title: '短信验证码登录', back: true } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});
router.afterEach((to) => {
  document.title = `${to.meta.title || '民生诉求'} · 民生诉求`;
});

createApp(App).use(router).use(Vant).mount('#app');
