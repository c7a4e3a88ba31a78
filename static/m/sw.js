// The cadre app's service worker: the shell (pages, our modules, the
// vendored libraries) comes from the cache, so the app opens with no
// signal. API calls are never cached: the outbox and sync handle them.
// VERSION changes with every release of the app's files; a new worker
// fetches the new shell and drops the old cache.
const VERSION = 'm-2026-12-07.5';
const CACHE = `minsheng-${VERSION}`;
const SHELL = [
  '/m/', '/m/app.css', '/m/manifest.webmanifest', '/m/icons/icon-192.png', '/m/icons/icon.svg',
  '/m/main.js', '/m/App.js', '/m/state.js', '/m/db.js', '/m/outbox.js', '/m/drafts.js', '/m/format.js', '/m/SyncBadge.js',
  '/m/LoginView.js', '/m/TodoView.js', '/m/FileView.js', '/m/CaseView.js', '/m/AssessView.js', '/m/WorkView.js',
  '/m/VerdictView.js', '/m/QrView.js', '/m/NoticeView.js', '/m/MeView.js', '/m/MapView.js',
  '/lib/api.js', '/lib/format.js', '/lib/photo.js', '/lib/deadline.js', '/lib/map.js', '/lib/datum.js',
  '/vendor/vue@3.5.45/dist/vue.esm-browser.prod.js',
  '/vendor/vant@4.10.2/lib/vant.es.js', '/vendor/vant@4.10.2/lib/index.css',
  '/vendor/@vant/use@1.6.0/dist/index.esm.mjs', '/vendor/@vant/popperjs@1.3.0/dist/index.esm.mjs',
  '/vendor/@vue/shared@3.5.45/dist/shared.esm-bundler.js',
  '/vendor/vue-router@4.6.5/dist/vue-router.esm-browser.prod.js',
  '/vendor/idb-keyval@6.3.0/dist/index.js', '/vendor/compressorjs@1.3.0/dist/compressor.esm.js',
  '/vendor/uqr@0.1.3/dist/index.mjs',
  '/vendor/leaflet@1.9.4/dist/leaflet-src.esm.js', '/vendor/leaflet@1.9.4/dist/leaflet.css',
  '/vendor/leaflet@1.9.4/dist/images/marker-icon.png', '/vendor/leaflet@1.9.4/dist/images/layers.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' })))).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k.startsWith('minsheng-') && k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

function isShell(url) {
  return url.origin === self.location.origin && (url.pathname.startsWith('/m/') || url.pathname.startsWith('/vendor/') || url.pathname.startsWith('/lib/'));
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (!isShell(url)) return; // the API and photos go to the network
  if (req.mode === 'navigate') {
    // Pages: the network first (a new release shows at once), the cached
    // shell when there is no signal; every route of the app is index.html.
    event.respondWith(fetch(req).catch(async () => (await caches.match('/m/', { cacheName: CACHE })) || Response.error()));
    return;
  }
  // Files: the cache first; vendored files never change under one name,
  // our modules change only with VERSION.
  event.respondWith((async () => {
    const hit = await caches.match(req, { cacheName: CACHE, ignoreSearch: true });
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok && url.pathname.startsWith('/vendor/')) (await caches.open(CACHE)).put(req, res.clone());
    return res;
  })());
});
