// Formatting shared by the views: money in 元 from fen (integers only),
// times in Asia/Shanghai.
/** yuan is fen with its unit, "1,234.56 元" (static/lib/format.js). */
export { yuan } from 'minsheng/format';

/** fenFrom parses "1234.5" (元) into fen without floating point; NaN if invalid. */
export function fenFrom(text) {
  const m = /^\s*(\d{1,11})(?:\.(\d{1,2}))?\s*$/.exec(String(text ?? ''));
  if (!m) return NaN;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
export function when(iso) {
  if (!iso) return '';
  return fmt.format(new Date(iso));
}

const hm = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });
export function clock(d) {
  return hm.format(d instanceof Date ? d : new Date(d));
}

const hms = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
/** clockSeconds is hh:mm:ss, for a retry due in seconds. */
export function clockSeconds(d) {
  return hms.format(d instanceof Date ? d : new Date(d));
}
