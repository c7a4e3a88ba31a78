// The outbox: what the cadre did on the phone, waiting to reach the server.
// Each item is its own IndexedDB entry (ob:<seq>) and leaves only after the
// server confirmed it; sending runs one at a time (a promise here, a Web
// Lock across tabs), in order; a failure keeps the item with the reason
// and stops the queue so nothing that depends on it goes out of order.
//
// Items: create {clientId, body} → PUT /mobile/v1/cases/{clientId};
// photo {caseRef, photoId, tag, blob} → PUT …/photos/{photoId}?tag= (the
// image itself as the body, so a resend has the same bytes);
// delphoto {caseRef, photoId} → DELETE …/photos/{photoId};
// action {caseRef, action, body, key, chained} → POST …/actions/{action}
// with Idempotency-Key. caseRef is a server id or the clientId of a case
// filed offline, resolved once its create went through.
import { db } from './db.js';
import { newKey } from 'minsheng/api';

let counter = 0;
function seqKey() {
  counter = (counter + 1) % 1000;
  return `ob:${String(Date.now()).padStart(15, '0')}-${String(counter).padStart(3, '0')}`;
}

const listeners = new Set();
function changed() {
  for (const fn of listeners) fn();
}

export const outbox = {
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  async list() {
    return (await db.prefixed('ob:')).map(([key, v]) => ({ ...v, key }));
  },
  async add(item) {
    const key = seqKey();
    await db.set(key, { id: newKey(), queuedAt: new Date().toISOString(), attempts: 0, lastError: '', ...item });
    changed();
    return key;
  },
  async remove(key) {
    await db.del(key);
    changed();
  },
  async update(key, patch) {
    const cur = await db.get(key);
    if (!cur) return;
    await db.set(key, { ...cur, ...patch });
    changed();
  },
};

/** resolveCase maps a case filed offline (client UUID) to its server id. */
export async function resolveCase(ref) {
  return (await db.get(`idmap:${ref}`)) || ref;
}

/** describe is a short Chinese line for an item (the 我的 screen). */
export function describe(item) {
  switch (item.kind) {
    case 'create':
      return `登记：${item.body.title}`;
    case 'photo':
      return `照片（${{ before: '办理前', progress: '办理中', after: '办结后' }[item.tag] || item.tag}）`;
    case 'delphoto':
      return '删除照片';
    case 'action':
      return `操作：${item.label || item.action}`;
  }
  return item.kind;
}

// sendOne sends one item; it resolves with the server's case, or throws
// the ApiError. The body of an action is fixed at its first attempt and
// stored, so every resend carries the very same bytes.
async function sendOne(api, key, item, known) {
  switch (item.kind) {
    case 'create': {
      const c = await api.request('PUT', `/mobile/v1/cases/${item.clientId}`, { body: item.body, idempotencyKey: item.id });
      await db.set(`idmap:${item.clientId}`, c.id);
      return c;
    }
    case 'photo': {
      const id = await resolveCase(item.caseRef);
      return api.request('PUT', `/mobile/v1/cases/${id}/photos/${item.photoId}`, {
        form: item.blob, headers: { 'Content-Type': item.blob.type || 'image/jpeg' }, params: { tag: item.tag }, idempotencyKey: item.id,
      });
    }
    case 'delphoto': {
      const id = await resolveCase(item.caseRef);
      return api.request('DELETE', `/mobile/v1/cases/${id}/photos/${item.photoId}`, { idempotencyKey: item.id });
    }
    case 'action': {
      const id = await resolveCase(item.caseRef);
      let body = item.sentBody;
      if (!body) {
        // A step queued behind another of the same case reads the version
        // that step produced, as the cadre saw it happen on the phone.
        const version = item.chained ? known.get(id) ?? (await db.get(`ver:${id}`)) ?? item.body.version : item.body.version;
        body = { ...item.body, version };
        await outbox.update(key, { sentBody: body });
      }
      return api.request('POST', `/mobile/v1/cases/${id}/actions/${item.action}`, { body, idempotencyKey: item.key });
    }
  }
  throw new Error(`unknown outbox item ${item.kind}`);
}

let running = null;

/**
 * flush sends everything waiting, one item at a time, and resolves with
 * {sent, failed, error}. A second call while one runs joins it.
 * onCase receives every case the server answered.
 */
export function flush(api, onCase) {
  if (!running) {
    const run = async () => {
      let sent = 0;
      const known = new Map();
      for (const item of await outbox.list()) {
        if (item.failed) return { sent, failed: item, error: item.lastError };
        try {
          const c = await sendOne(api, item.key, item, known);
          if (c?.id) {
            known.set(c.id, c.version);
            await db.set(`ver:${c.id}`, c.version);
            await onCase?.(c);
          }
          await outbox.remove(item.key); // only now: the server confirmed it
          sent++;
        } catch (err) {
          const reason = err?.message || String(err);
          // Offline, rate-limited or a server error: keep it and try later.
          // Anything else (refused by the rules): keep it, marked, with why.
          const fatal = err?.name === 'ApiError' && !err.retryable && err.status !== 401;
          await outbox.update(item.key, { attempts: (item.attempts || 0) + 1, lastError: reason, failed: fatal, failedAt: new Date().toISOString() });
          return { sent, failed: fatal ? item : null, error: reason, offline: !!err?.offline };
        }
      }
      return { sent, failed: null, error: '' };
    };
    const locked = globalThis.navigator?.locks ? navigator.locks.request('minsheng-m-outbox', run) : run();
    running = locked.finally(() => {
      running = null;
    });
  }
  return running;
}

export function isFlushing() {
  return running !== null;
}
