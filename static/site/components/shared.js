// What the site's components share: the one API client, the signed-in
// state, the six areas and the formatting of times and money.
import { reactive, ref } from 'vue';
import { createClient } from 'minsheng/api';

export const api = createClient();

/** state.user is the signed-in resident ({id, phone, name, …}) or null. */
export const state = reactive({ user: null, loaded: false, org: null });

export async function loadMe() {
  if (!api.session?.access_token) {
    state.user = null;
  } else {
    try {
      state.user = await api.get('/api/v1/me');
    } catch (e) {
      if (e.status === 401 || e.status === 404) {
        await api.logout();
        state.user = null;
      } else throw e;
    }
  }
  state.loaded = true;
  return state.user;
}

/**
 * loadLabels is the server's label table (GET /api/v1/cases/labels: every
 * status, verdict and step with its words), read once: the site keeps no
 * copy of its own (cases/labels.go is the one home).
 */
let labels = null;
export function loadLabels() {
  if (!labels) {
    labels = api.request('GET', '/api/v1/cases/labels', { auth: false, token: '' }).catch((e) => {
      labels = null;
      throw e;
    });
  }
  return labels;
}

export async function loadOrg() {
  if (!state.org) state.org = await api.get('/api/v1/org');
  return state.org;
}

/** The catalog's six areas, each with its icon and typical requests. */
export const AREAS = [
  { code: 'SQ', name: '社区建设', icon: 'wap-home-o', typical: '旱厕改造 · 停车自治 · 楼道改造' },
  { code: 'MS', name: '民生保障', icon: 'friends-o', typical: '养老驿站 · 老年助餐 · 助残' },
  { code: 'CG', name: '城市管理', icon: 'delete-o', typical: '大件垃圾清运 · 道路保洁 · 绿化' },
  { code: 'PA', name: '平安建设', icon: 'shield-o', typical: '消防隐患 · 电动车充电 · 治安' },
  { code: 'ZH', name: '综合保障', icon: 'gold-coin-o', typical: '困难救助 · 临时救助 · 其他' },
  { code: 'DQ', name: '党群工作', icon: 'flag-o', typical: '党群服务 · 志愿服务 · 议事' },
];

const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});
const dateOnly = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** when formats an RFC 3339 time in Beijing time: 2026/12/01 21:30. */
export function when(t) {
  return t ? dateTime.format(new Date(t)) : '';
}
export function day(t) {
  return t ? dateOnly.format(new Date(t)) : '';
}

/** yuan is fen with its unit, "1,234.56 元" (static/lib/format.js). */
export { yuan } from 'minsheng/format';

/** toastError shows an ApiError's message (and the request id for support). */
export function errorText(e) {
  if (!e) return '';
  const fields = e.fields && Object.values(e.fields).length ? `（${Object.values(e.fields).join('；')}）` : '';
  return `${e.message || '操作失败'}${fields}`;
}

/**
 * pagedList holds a list read page by page: fetchPage(cursor) resolves to
 * {items, next_cursor} ('' asks for the first page). load(true) appends
 * the next page, load(false) starts over; an error ends the list with its
 * message.
 */
export function pagedList(fetchPage) {
  const items = ref([]);
  const next = ref('');
  const loading = ref(false);
  const finished = ref(false);
  const error = ref('');
  async function load(more) {
    loading.value = true;
    try {
      const r = await fetchPage(more && next.value ? next.value : '');
      items.value = more ? items.value.concat(r.items) : r.items;
      next.value = r.next_cursor;
      finished.value = !r.next_cursor;
      error.value = '';
    } catch (e) {
      error.value = errorText(e);
      finished.value = true;
    } finally {
      loading.value = false;
    }
  }
  return { items, next, loading, finished, error, load };
}
