// The app's state: session, the cadre's cases as last synced (kept in
// IndexedDB so the phone works offline), the outbox count and what the
// last sync said. Views read it; only the functions here change it.
import { reactive, toRaw } from 'vue';
import { createClient, newKey } from 'minsheng/api';
import { db } from './db.js';
import { outbox, flush, isFlushing, refOf, resolveCase } from './outbox.js';
import { drafts } from './drafts.js';

export const api = createClient({
  storageKey: 'minsheng.m.session',
  authPaths: { login: '/mobile/v1/auth/login', refresh: '/mobile/v1/auth/refresh', logout: '/mobile/v1/auth/logout' },
});

export const state = reactive({
  session: api.session,
  me: null,
  cases: {}, // id → case as the server last sent it (with pending local steps applied)
  pending: 0, // steps waiting in the outbox (a step with its photos is one)
  failed: null, // the first item the server refused, if any
  failedCount: 0, // steps the server refused (kept until retried, changed or dropped)
  // The server's bootstrap (/mobile/v1/catalog), kept for offline use:
  // areas with their catalog items and residents' common requests, and
  // the label table (statuses with whether they are open, verdicts).
  boot: null,
  drafts: 0, // drafts of 代居民登记 kept on the phone
  syncing: false,
  online: navigator.onLine,
  lastSyncAt: '',
  lastError: '',
  notices: [],
  unread: 0,
  persisted: null,
});

api.onSession((s) => {
  state.session = s;
});

export function caseList() {
  return Object.values(state.cases);
}

/** isOpen says whether work on a case in this state is still pending (the server's label table). */
export function isOpen(status) {
  return !!state.boot?.labels?.statuses?.find((s) => s.status === status)?.open;
}

/**
 * ahead applies queued steps to the state the server last sent: each step
 * is looked up among the steps offered (the server's, each with the state
 * it leads to and the steps after it: cases.ActionsAhead), so the case
 * shows the state after them and offers the next step. A step not found
 * there (an older server's view) leaves nothing offered until it went.
 */
function ahead(server, steps) {
  let { status, status_label: label, actions } = server;
  for (const a of steps) {
    const o = (actions || []).find((x) => x.action === a);
    if (!o?.to) return { status, status_label: label, actions: [] };
    status = o.to;
    label = o.to_label;
    actions = o.then || [];
  }
  return { status, status_label: label, actions: actions || [] };
}

async function saveCase(c, waiting = null) {
  // The filing's answer alone carries the tracking token and client id;
  // later syncs of the case keep them.
  const prev = state.cases[c.id];
  if (prev && !c.local) {
    c = { ...c, tracking_token: c.tracking_token || prev.tracking_token, client_id: c.client_id || prev.client_id };
  }
  if (!c.local) {
    // Steps still in the outbox are applied to the server's copy: the
    // case shows the state after them and offers the step after them,
    // never one already queued (no double taps). server keeps what the
    // server sent, for when they went; a refused step offers nothing
    // more until it was changed or dropped.
    const items = (waiting || (await outbox.list())).filter((i) => i.kind === 'action' && (i.caseRef === c.id || (c.client_id && i.caseRef === c.client_id)));
    const server = c.server || { status: c.status, status_label: c.status_label, actions: c.actions || [] };
    const now = ahead(server, items.map((i) => i.action));
    c = {
      ...c, server, ...now, actions: items.some((i) => i.failed) ? [] : now.actions,
      pendingSteps: items.map((i) => i.label || i.action), failedSteps: items.filter((i) => i.failed).map((i) => ({ key: i.key, label: i.label, reason: i.lastError })),
    };
  }
  const plain = JSON.parse(JSON.stringify(c)); // no proxies into IndexedDB
  state.cases[c.id] = plain;
  await db.set(`case:${c.id}`, plain);
}

async function dropCase(id) {
  delete state.cases[id];
  await db.del(`case:${id}`);
}

/** load restores what the phone holds, before any network. */
export async function load() {
  for (const [, c] of await db.prefixed('case:')) state.cases[c.id] = c;
  state.me = (await db.get('me')) || null;
  state.lastSyncAt = (await db.get('lastSyncAt')) || '';
  state.notices = (await db.get('notices')) || [];
  state.boot = (await db.get('catalog')) || null;
  state.unread = state.notices.filter((n) => !n.read).length;
  await countOutbox();
}

/** steps counts what the cadre did: a step with its photos is one (items share its step id). */
function steps(items) {
  return new Set(items.map((i) => i.step || i.key)).size;
}

export async function countOutbox() {
  const items = await outbox.list();
  state.pending = steps(items);
  const failed = items.filter((i) => i.failed);
  state.failed = failed[0] || null;
  state.failedCount = steps(failed);
  state.drafts = (await drafts.list()).length;
  return items;
}
outbox.onChange(() => {
  countOutbox();
});
drafts.onChange(() => {
  countOutbox();
});

/** pull fetches the delta since the stored cursor, page by page. */
async function pull() {
  let cursor = (await db.get('cursor')) || '';
  for (let page = 0; page < 50; page++) {
    const res = await api.get('/mobile/v1/sync', { cursor });
    if (res.reset) {
      // Keep cases filed offline that the server does not know yet.
      for (const id of Object.keys(state.cases)) if (!state.cases[id].local) await dropCase(id);
    }
    const waiting = await outbox.list();
    for (const c of res.items) await saveCase(c, waiting);
    for (const t of res.tombstones) await dropCase(t.id);
    cursor = res.cursor;
    await db.set('cursor', cursor);
    if (!res.more) break;
  }
}

/**
 * refreshBoot fetches the server's bootstrap and keeps it for offline use;
 * without network the kept one stays. Every sync calls it; a screen that
 * needs it before the first sync (an app updated since) may too.
 */
export async function refreshBoot() {
  try {
    const b = await api.get('/mobile/v1/catalog');
    await db.set('catalog', b);
    state.boot = b;
  } catch (err) {
    if (!err?.offline && err?.status !== 401) console.warn('bootstrap', err?.message || err);
  }
}

async function refreshMe() {
  const me = await api.get('/mobile/v1/me');
  await db.set('me', me);
  state.me = me;
  const n = await api.get('/mobile/v1/notifications');
  await db.set('notices', n.items);
  state.notices = n.items;
  state.unread = n.unread;
}

/**
 * syncNow sends the outbox, then pulls changes: one sync at a time. The
 * badge says what is left and why, never "done" before the server said so.
 */
let syncing = null;
let lastRunAt = 0;
let again = null; // a call while a sync runs: {force}, run once more after it
export function syncNow({ force = false } = {}) {
  if (!state.session) return Promise.resolve();
  if (navigator.onLine === false) {
    // No network at all: nothing to try (the online event sends it).
    state.online = false;
    state.lastError = '网络不可用，待发送的内容会在恢复网络后自动发送';
    return Promise.resolve();
  }
  if (syncing) {
    // The running sync may have read the outbox before this call's item
    // was added: one more round follows it.
    again = { force: force || !!again?.force };
    return syncing;
  }
  syncing = (async () => {
    state.syncing = true;
    lastRunAt = Date.now();
    try {
      const res = await flush(api, async (c) => {
        // A case filed offline is replaced by the server's.
        for (const id of Object.keys(state.cases)) if (state.cases[id].local && state.cases[id].client_id === c.client_id && c.client_id) await dropCase(id);
        await saveCase(c);
      }, { force });
      if (res.offline) {
        state.lastError = '网络不可用，待发送的内容会在恢复网络后自动发送';
        return;
      }
      if (res.failed.length) state.lastError = `${res.failed.length} 条未能发送：${res.failed[0].lastError}`;
      else if (res.error) state.lastError = `稍后自动重试：${res.error}`;
      else state.lastError = '';
      await pull();
      await refreshMe();
      await refreshBoot();
      state.lastSyncAt = new Date().toISOString();
      await db.set('lastSyncAt', state.lastSyncAt);
    } catch (err) {
      state.lastError = err?.offline ? '网络不可用，已显示本机保存的数据' : `同步失败：${err?.message || err}`;
      if (err?.status === 401) state.session = null;
    } finally {
      await countOutbox();
      state.syncing = false;
      syncing = null;
      if (again) {
        const next = again;
        again = null;
        syncNow(next);
      }
    }
  })();
  return syncing;
}

export { isFlushing };

/** fileCase queues a filing with its photos; the case shows at once. */
export async function fileCase(body, photos) {
  const clientId = newKey();
  body = JSON.parse(JSON.stringify(body));
  await outbox.add({ kind: 'create', clientId, body, step: clientId });
  for (const p of photos) await outbox.add({ kind: 'photo', caseRef: clientId, photoId: newKey(), tag: 'before', blob: toRaw(p), step: clientId });
  const now = new Date().toISOString();
  await saveCase({
    id: clientId, client_id: clientId, local: true, number: '待同步', status: 'submitted', status_label: '待发送',
    title: body.title, description: body.description, area: body.area, location: { address: body.address },
    filed_at: now, version: 1, actions: [], photos: [], timeline: [{ at: now, label: '本机 · 登记（待发送）', action: 'submit' }],
    localPhotos: photos.length,
  });
  syncNow();
  return clientId;
}

/**
 * queueAction records a step on a case and applies it on the phone.
 * replaces is the key of a refused step this one corrects (修改): that
 * one leaves the outbox, and this one is sent on the version now known.
 */
export async function queueAction(c, action, label, body, photos = [], { replaces = '' } = {}) {
  body = JSON.parse(JSON.stringify(body));
  if (replaces) await outbox.remove(replaces);
  const key = newKey();
  for (const p of photos) await outbox.add({ kind: 'photo', caseRef: c.id, photoId: newKey(), tag: p.tag, blob: toRaw(p.blob), step: key });
  const waiting = (await outbox.list()).some((i) => i.kind === 'action' && i.caseRef === c.id);
  await outbox.add({ kind: 'action', caseRef: c.id, action, label, key, body: { ...body, version: c.version }, chained: waiting, step: key });
  const now = new Date().toISOString();
  // saveCase applies the queued steps (this one too) to the server's copy.
  await saveCase({
    ...JSON.parse(JSON.stringify(c)),
    timeline: [...(c.timeline || []), { at: now, label: `本机 · ${label}（待发送）`, action }],
  });
  syncNow();
}

/**
 * reviseFiling turns a filing the server refused back into a draft (with
 * its photos, which wait with it) so the cadre can correct it (修改); it
 * leaves the outbox and returns the draft's id.
 */
export async function reviseFiling(item) {
  const photos = (await outbox.list()).filter((i) => i.kind === 'photo' && i.caseRef === item.clientId);
  const b = item.body;
  const id = drafts.newId();
  await drafts.save(id, {
    area: b.area || '', item: '', title: b.title || '', description: b.description || '', address: b.address || '',
    contact_name: b.contact_name || '', contact_phone: b.contact_phone || '', households: b.households || 1,
  }, photos.map((p) => p.blob));
  for (const p of photos) await outbox.remove(p.key);
  await outbox.remove(item.key);
  await dropCase(item.clientId);
  return id;
}

/**
 * discardItem drops a refused item (放弃) after the cadre confirmed: a
 * filing goes with its photos and its case on the phone; the case of a
 * step offers its steps again.
 */
export async function discardItem(item) {
  await outbox.remove(item.key);
  if (item.kind === 'create') {
    for (const p of await outbox.list()) if (p.kind === 'photo' && p.caseRef === item.clientId) await outbox.remove(p.key);
    await dropCase(item.clientId);
    return;
  }
  const id = await resolveCase(refOf(item));
  if (state.cases[id] && !state.cases[id].local) await saveCase(state.cases[id]);
}

/** caseOf is the case id an outbox item is for, as the phone knows it now. */
export async function caseOf(item) {
  return resolveCase(refOf(item));
}

/** addPhotos queues photos taken later for a case (补充照片). */
export async function addPhotos(c, tag, blobs) {
  const step = newKey(); // the photos taken at once are one step
  for (const b of blobs) await outbox.add({ kind: 'photo', caseRef: c.id, photoId: newKey(), tag, blob: toRaw(b), step });
  await saveCase({ ...JSON.parse(JSON.stringify(c)), localPhotos: (c.localPhotos || 0) + blobs.length });
  syncNow();
}

/** deletePhoto queues removing a wrongly taken photo and hides it at once. */
export async function deletePhoto(c, photoId) {
  await outbox.add({ kind: 'delphoto', caseRef: c.id, photoId });
  await saveCase({ ...JSON.parse(JSON.stringify(c)), photos: (c.photos || []).filter((p) => p.id !== photoId) });
  syncNow();
}

export async function signIn(username, password, device) {
  await api.login(username, password, { device });
  state.session = api.session;
  await db.set('device', device);
  await syncNow();
}

export async function signOut() {
  // (MeView warned about the outbox and drafts before calling this.)
  await api.logout();
  for (const k of await db.keys()) await db.del(k);
  for (const id of Object.keys(state.cases)) delete state.cases[id];
  state.me = null;
  state.session = null;
  state.notices = [];
  await countOutbox();
}

export async function markAllRead() {
  const r = await api.post('/mobile/v1/notifications/read', { all: true });
  state.unread = r.unread;
  for (const n of state.notices) n.read = true;
  await db.set('notices', JSON.parse(JSON.stringify(state.notices)));
}

// Sending resumes on reconnect and on a timer.
window.addEventListener('online', () => {
  state.online = true;
  syncNow();
});
window.addEventListener('offline', () => {
  state.online = false;
});
// Items whose backoff ran out are sent when due; anything else waiting
// (never tried, or the network was gone) every 30 s while online.
setInterval(async () => {
  if (!state.session || !state.online || syncing || state.pending === state.failedCount) return;
  const items = (await outbox.list()).filter((i) => !i.failed);
  const now = Date.now();
  const due = items.some((i) => (i.retryAt ? Date.parse(i.retryAt) <= now : now - lastRunAt >= 30000));
  if (due) syncNow();
}, 2000);
