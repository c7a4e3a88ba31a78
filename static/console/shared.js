// What every console page shares: the one API client, the signed-in user,
// which role may open which page (the server enforces the same), and the
// formatting of money (fen → 元), times (Asia/Shanghai) and overdue flags.
import { reactive } from 'vue';
import { createClient } from 'minsheng/api';
import { csvText } from 'minsheng/csv';

export const api = createClient({ storageKey: 'minsheng.console' });

export const session = reactive({ me: null, org: null });

/** pages is the menu; roles are those who may open each page. */
export const pages = [
  { path: '/workbench', name: 'workbench', title: '工作台', icon: 'Odometer', roles: ['subdistrict', 'admin'] },
  { path: '/cases', name: 'cases', title: '诉求', icon: 'Tickets', roles: ['subdistrict', 'admin'] },
  { path: '/link', name: 'link', title: '预算关联工作台', icon: 'Connection', roles: ['subdistrict', 'admin'] },
  { path: '/lines', name: 'lines', title: '预算项目', icon: 'Wallet', roles: ['subdistrict', 'finance', 'admin'] },
  { path: '/allocation', name: 'allocation', title: '资金分配', icon: 'DataAnalysis', roles: ['subdistrict', 'finance', 'admin'] },
  { path: '/reports', name: 'reports', title: '报表与看板', icon: 'PieChart', roles: ['subdistrict', 'finance', 'admin'] },
  { path: '/admin', name: 'admin', title: '系统管理', icon: 'Setting', roles: ['admin'] },
];

export const consoleRoles = ['subdistrict', 'finance', 'admin'];

export function mayOpen(name, role) {
  const p = pages.find((x) => x.name === name);
  return !p || p.roles.includes(role);
}

export function homeOf(role) {
  return role === 'finance' ? '/lines' : '/workbench';
}

/** yuan is fen as a figure without its unit (the columns say 元): the one
 *  money formatter of the front ends, static/lib/format.js. */
export { amount as yuan } from 'minsheng/format';

/** toFen parses a yuan amount typed by a person ("1,234.5") into fen. */
export function toFen(text) {
  const s = String(text ?? '').replace(/[,，\s元]/g, '');
  const m = /^(-?)(\d+)(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return null;
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number((m[3] || '').padEnd(2, '0')));
}

const tz = { timeZone: 'Asia/Shanghai', hour12: false };
export function dt(t) {
  if (!t) return '—';
  return new Date(t).toLocaleString('zh-CN', { ...tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
export function day(t) {
  if (!t) return '—';
  return new Date(t).toLocaleDateString('zh-CN', { ...tz, year: 'numeric', month: '2-digit', day: '2-digit' });
}

/** due is the 接诉即办 flag: 剩余 X 天 X 时 (orange under 24 h) or 已超期 X 天. */
export function due(c, now = Date.now()) {
  const open = !['closed', 'cancelled', 'rejected', 'merged', 'completed'].includes(c.status);
  if (!open) return { text: '', cls: '' };
  const at = c.status === 'submitted' ? c.response_due_at : c.completion_due_at || c.response_due_at;
  if (!at) return { text: '', cls: '' };
  const ms = new Date(at).getTime() - now;
  const h = Math.floor(Math.abs(ms) / 3600000);
  if (ms < 0) return { text: `已超期 ${Math.max(1, Math.ceil(Math.abs(ms) / 86400000))} 天`, cls: 'flag-late', late: true, ms };
  return { text: `剩余 ${Math.floor(h / 24)} 天 ${h % 24} 时`, cls: h < 24 ? 'flag-due' : 'flag-ok', ms };
}

export function permille(v) {
  if (v === null || v === undefined) return '—';
  return `${(v / 10).toFixed(1)}%`;
}

export function rate(r) {
  return r && r.per_mille !== null && r.per_mille !== undefined ? permille(r.per_mille) : '—';
}

export function subName(code) {
  const s = session.org?.sub_districts?.find((x) => x.code === code);
  return s ? s.name : code || '';
}

export function communityName(code) {
  for (const s of session.org?.sub_districts || []) {
    const c = s.communities?.find((x) => x.code === code);
    if (c) return c.name;
  }
  return code || '';
}

export const statusLabels = {
  submitted: '待受理', accepted: '已受理', rejected: '不予受理', merged: '已合并', assigned: '已派单',
  assessed: '已评估', in_progress: '办理中', completed: '已办结', closed: '已关闭', cancelled: '已取消',
};

/** download saves a response blob under the server's file name. */
export async function download(path, params, fallback) {
  const res = await api.request('GET', path, { params, raw: true });
  const blob = await res.blob();
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename\*=UTF-8''([^;]+)/.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallback;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  return name;
}

/**
 * csv downloads rows (arrays) as a UTF-8 CSV that Excel opens, with every
 * formula-like cell neutralised (lib/csv.js): titles come from residents.
 */
export function csv(name, header, rows) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([csvText(header, rows)], { type: 'text/csv;charset=utf-8' }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function fiscalYear() {
  return Number(new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' }).slice(0, 4));
}

/** fail shows an ApiError's message and its field errors. */
export function errText(e) {
  const f = e?.fields && Object.keys(e.fields).length ? '：' + Object.entries(e.fields).map(([k, v]) => `${k} ${v}`).join('；') : '';
  return (e?.message || String(e)) + f;
}

export { newKey as newKeyLike } from 'minsheng/api';

export const verdictLabels = { satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意' };

let catalogOnce = null;
/** catalogItems returns the catalog's items by code, fetched once per page load. */
export function catalogItems() {
  catalogOnce ||= api.get('/api/v1/catalog').then((c) => new Map((c.items || []).map((i) => [i.code, i]))).catch(() => new Map());
  return catalogOnce;
}
