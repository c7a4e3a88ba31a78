// The cadre app (社区干部移动端): Vue 3 + Vant 4 from the import map, no
// build step. Registers the service worker (the shell works offline) and
// asks the browser to keep the app's data (storage.persist).
import { createApp } from 'vue';
import Vant from 'vant';
import { createRouter, createWebHistory } from 'vue-router';
import App from './App.js';
import { state, load, syncNow } from './state.js';
import TodoView from './TodoView.js';
import LoginView from './LoginView.js';
import FileView from './FileView.js';
import CaseView from './CaseView.js';
import AssessView from './AssessView.js';
import WorkView from './WorkView.js';
import VerdictView from './VerdictView.js';
import QrView from './QrView.js';
import NoticeView from './NoticeView.js';
import MeView from './MeView.js';
import MapView from './MapView.js';

const router = createRouter({
  history: createWebHistory('/m/'),
  routes: [
    { path: '/', component: TodoView },
    { path: '/login', component: LoginView, meta: { open: true } },
    { path: '/file', component: FileView },
    { path: '/case/:id', component: CaseView, props: true },
    { path: '/case/:id/assess', component: AssessView, props: true },
    { path: '/case/:id/work/:step', component: WorkView, props: true },
    { path: '/case/:id/verdict', component: VerdictView, props: true },
    { path: '/case/:id/qr', component: QrView, props: true },
    { path: '/notices', component: NoticeView },
    { path: '/me', component: MeView },
    { path: '/map', component: MapView },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  scrollBehavior: () => ({ top: 0 }),
});
router.beforeEach((to) => {
  if (!to.meta.open && !state.session) return '/login';
  if (to.path === '/login' && state.session) return '/';
  return true;
});

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch((e) => console.warn('service worker', e));
}
// iOS and Chrome may evict site data of an app not used for a while;
// a persisted store is kept (docs/ARCHITECTURE.md, field-app lessons).
navigator.storage?.persist?.().then((ok) => {
  state.persisted = ok;
});

await load();
const app = createApp(App);
app.use(Vant).use(router);
app.mount('#app');
if (state.session) syncNow();
