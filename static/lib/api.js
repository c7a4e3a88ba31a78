// The one API client shared by the resident site, the cadre app and the
// console. It knows the server's conventions so the apps do not have to:
// bearer tokens with one refresh at a time (the server rotates refresh
// tokens and revokes the whole family when one is reused, so two tabs
// refreshing at once would sign the user out), the error shape
// {"error":{code,message,fields,request_id}}, and an Idempotency-Key on
// every write, kept by the caller across retries so a write the server
// already did is answered with its first result instead of done twice.

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** ApiError is every failure the client reports: from the server's error
 * shape, or code "network" / "timeout" / "bad_response" made here. */
export class ApiError extends Error {
  constructor({ status = 0, code, message, fields = {}, requestId = '', retryAfter = 0, idempotencyKey = '' }) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
    this.idempotencyKey = idempotencyKey;
  }

  /** offline: the request may not have reached the server; retry with the same key. */
  get offline() {
    return this.code === 'network' || this.code === 'timeout';
  }

  /** retryable: worth sending again later with the same Idempotency-Key. */
  get retryable() {
    return this.offline || this.status === 429 || this.status >= 500;
  }
}

/** newKey returns a random id for Idempotency-Key and client UUIDs; on a
 * plain-http LAN address crypto.randomUUID is missing, getRandomValues is not. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function errorFrom(res, idempotencyKey) {
  const retryAfter = Number(res.headers.get('Retry-After')) || 0;
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not our error shape: a proxy's page, say */
  }
  const e = body?.error;
  if (e?.code) {
    return new ApiError({
      status: res.status, code: e.code, message: e.message || '请求失败', fields: e.fields || {},
      requestId: e.request_id || '', retryAfter, idempotencyKey,
    });
  }
  return new ApiError({
    status: res.status, code: 'bad_response', message: `服务器返回了无法识别的响应（HTTP ${res.status}）`,
    retryAfter, idempotencyKey,
  });
}

/**
 * createClient makes a client. The session (tokens and user) is kept in
 * localStorage under storageKey so a phone app stays signed in offline.
 */
export function createClient({ base = '', storageKey = 'minsheng.session', timeoutMs = 20000, fetchImpl, authPaths = {} } = {}) {
  // authPaths lets an app sign in elsewhere (the cadre app: /mobile/v1/auth/…).
  const paths = { login: '/api/v1/auth/login', refresh: '/api/v1/auth/refresh', logout: '/api/v1/auth/logout', ...authPaths };
  const doFetch = fetchImpl || ((...a) => fetch(...a));
  const listeners = new Set();
  let refreshing = null;

  function load() {
    try {
      return JSON.parse(localStorage.getItem(storageKey) || 'null');
    } catch {
      return null;
    }
  }
  function save(s) {
    if (s) localStorage.setItem(storageKey, JSON.stringify(s));
    else localStorage.removeItem(storageKey);
    for (const fn of listeners) fn(s);
  }

  async function send(method, path, { body, form, params, headers = {}, idempotencyKey, signal, auth = true, token } = {}) {
    const h = { Accept: 'application/json', ...headers };
    // Sign-in, refresh and logout (auth: false) carry no key: their answers
    // are credentials, which no server should keep for a replay.
    const key = WRITE.has(method) && auth !== false ? idempotencyKey || newKey() : '';
    if (key) h['Idempotency-Key'] = key;
    const s = load();
    const bearer = token ?? (auth ? s?.access_token : '');
    if (bearer) h.Authorization = `Bearer ${bearer}`;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
    const onAbort = () => ctl.abort(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await doFetch(base + path + query(params), { method, headers: h, body: payload, signal: ctl.signal });
      return { res, key };
    } catch (err) {
      if (signal?.aborted) throw err;
      const timeout = ctl.signal.reason?.name === 'TimeoutError';
      throw new ApiError({
        code: timeout ? 'timeout' : 'network',
        message: timeout ? '请求超时，请稍后重试' : '网络连接失败，请检查网络后重试',
        idempotencyKey: key,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  // refresh trades the refresh token once for everyone: one promise per
  // page and, where the browser has Web Locks, one refresh across tabs
  // (a tab that waited finds the new tokens already stored).
  function refresh(stale) {
    if (!refreshing) {
      const run = async () => {
        const cur = load();
        if (!cur?.refresh_token) throw new ApiError({ status: 401, code: 'unauthorized', message: '请先登录' });
        if (stale && cur.access_token !== stale) return cur; // another tab refreshed meanwhile
        const { res } = await send('POST', paths.refresh, { body: { refresh_token: cur.refresh_token }, auth: false });
        if (!res.ok) {
          const err = await errorFrom(res, '');
          if (res.status === 401) save(null);
          throw err;
        }
        const next = await res.json();
        save(next);
        return next;
      };
      const locked = globalThis.navigator?.locks ? navigator.locks.request(`${storageKey}.refresh`, run) : run();
      refreshing = locked.finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function request(method, path, opts = {}) {
    const key = WRITE.has(method) ? opts.idempotencyKey || newKey() : '';
    const o = { ...opts, idempotencyKey: key };
    let { res } = await send(method, path, o);
    if (res.status === 401 && opts.auth !== false && load()?.refresh_token) {
      const used = load()?.access_token;
      await refresh(used);
      ({ res } = await send(method, path, o)); // same key: the server answers a repeat with the first result
    }
    if (!res.ok) throw await errorFrom(res, key);
    if (res.status === 204) return null;
    if (opts.raw) return res;
    const type = res.headers.get('Content-Type') || '';
    return type.includes('json') ? res.json() : res.blob();
  }

  async function signIn(path, body) {
    const { res } = await send('POST', path, { body, auth: false });
    if (!res.ok) throw await errorFrom(res, '');
    const s = await res.json();
    save(s);
    return s;
  }

  return {
    /** session is the stored {access_token, refresh_token, expires_at, user}, or null. */
    get session() {
      return load();
    },
    onSession(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** login signs a staff member in; extra fields (the cadre app's device) go in the body. */
    login: (username, password, extra = {}) => signIn(paths.login, { ...extra, username, password }),
    requestOtp: (phone) => request('POST', '/api/v1/auth/otp', { body: { phone }, auth: false }),
    verifyOtp: (phone, code) => signIn('/api/v1/auth/otp/verify', { phone, code }),
    async logout() {
      const s = load();
      save(null);
      if (s?.refresh_token) {
        await send('POST', paths.logout, { body: { refresh_token: s.refresh_token }, auth: false }).catch(() => {});
      }
    },
    refresh: () => refresh(),
    request,
    get: (path, params, opts) => request('GET', path, { ...opts, params }),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    put: (path, body, opts) => request('PUT', path, { ...opts, body }),
    patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
    del: (path, opts) => request('DELETE', path, opts),
    upload: (path, form, opts) => request('POST', path, { ...opts, form }),
  };
}
