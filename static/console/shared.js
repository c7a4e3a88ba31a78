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
  { path: '/map', name: 'map', title: '诉求地图', icon: 'MapLocation', roles: ['subdistrict', 'admin'] },
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

/**
 * caseLabels holds the server's label table (GET /api/v1/cases/labels) for
 * screens that list statuses without a case: a case itself carries its
 * status_label, verdict_label, deadline and actions (cases/labels.go).
 */
export const caseLabels = reactive({ statuses: [], status: {} });
let labelsOnce = null;
export function loadCaseLabels() {
  labelsOnce ||= api.get('/api/v1/cases/labels').then((t) => {
    caseLabels.statuses = t.statuses || [];
    caseLabels.status = Object.fromEntries(caseLabels.statuses.map((x) => [x.status, x.label]));
  }).catch(() => { labelsOnce = null; });
  return labelsOnce;
}

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

let catalogOnce = null;
/** catalogItems returns the catalog's items by code, fetched once per page load. */
export function catalogItems() {
  catalogOnce ||= api.get('/api/v1/catalog').then((c) => new Map((c.items || []).map((i) => [i.code, i]))).catch(() => new Map());
  return catalogOnce;
}
