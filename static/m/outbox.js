// The outbox: what the cadre did on the phone, waiting to reach the server.
// Each item is its own IndexedDB entry (ob:<seq>) and leaves only after the
// server confirmed it; sending runs one at a time (a promise here, a Web
// Lock across tabs), in order; a failure keeps the item with the reason
// and holds back only the later items of the same case (see flush).
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

// backoff is how long a transient failure waits before the next automatic
// attempt: 5 s, 10 s, 20 s … up to 5 minutes; the server's Retry-After wins.
export function backoff(attempts, retryAfterSeconds = 0) {
  if (retryAfterSeconds > 0) return Math.min(retryAfterSeconds, 3600) * 1000;
  return Math.min(5000 * 2 ** Math.max(0, attempts - 1), 300000);
}

/** refOf is the case an item belongs to (a server id or a client id). */
export function refOf(item) {
  return item.kind === 'create' ? item.clientId : item.caseRef;
}

/** reasonOf is the server's Chinese message, with the fields it named. */
function reasonOf(err) {
  const msg = err?.message || String(err);
  const fields = Object.values(err?.fields || {}).filter(Boolean);
  return fields.length ? `${msg}（${fields.join('；')}）` : msg;
}

let running = null;

/**
 * flush sends what is due, one item at a time, in order, and resolves
 * with {sent, failed, error, offline}. Items of different cases do not
 * wait for each other: a failure holds back only the later items of its
 * own case (a photo or step of a case still waiting for its filing
 * waits with it). A transient failure (network, 5xx, 429) is retried
 * after a backoff; a refusal (4xx: a stale version, invalid input) is
 * kept, marked failed with the server's reason, until the cadre retries,
 * changes or drops it — never dropped here. No network at all stops the
 * run. force (立即同步) sends transient failures now, ignoring backoff.
 * A second call while one runs joins it. onCase receives every case the
 * server answered.
 */
export function flush(api, onCase, { force = false } = {}) {
  if (!running) {
    const run = async () => {
      let sent = 0;
      let error = '';
      const failed = [];
      const known = new Map();
      const held = new Set(); // cases with an earlier item not sent in this run
      for (const item of await outbox.list()) {
        const ref = refOf(item);
        if (held.has(ref)) continue;
        if (item.failed) {
          held.add(ref);
          failed.push(item);
          continue;
        }
        if (!force && item.retryAt && Date.parse(item.retryAt) > Date.now()) {
          held.add(ref);
          continue;
        }
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
          held.add(ref);
          const reason = reasonOf(err);
          const attempts = (item.attempts || 0) + 1;
          const at = new Date().toISOString();
          if (err?.name !== 'ApiError' || err.offline || err.status === 401) {
            // No network (or no session): nothing else would get through.
            await outbox.update(item.key, { attempts, lastError: reason, failedAt: at, retryAt: '' });
            return { sent, failed, error: reason, offline: !!err?.offline };
          }
          if (err.retryable) {
            const retryAt = new Date(Date.now() + backoff(attempts, err.retryAfter)).toISOString();
            await outbox.update(item.key, { attempts, lastError: reason, failedAt: at, retryAt });
            error = error || reason;
            continue;
          }
          await outbox.update(item.key, { attempts, lastError: reason, failed: true, failedAt: at, status: err.status, retryAt: '' });
          failed.push({ ...item, lastError: reason, failed: true });
          error = error || reason;
        }
      }
      return { sent, failed, error, offline: false };
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
