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
const withYear = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
const yearOf = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' });
/**
 * when is an instant in Asia/Shanghai, "12/07 10:00"; with its year when
 * that is not this year's ("2027/03/07 10:00": a deadline after New Year).
 */
export function when(iso, now = new Date()) {
  if (!iso) return '';
  const d = new Date(iso);
  return (yearOf.format(d) === yearOf.format(now) ? fmt : withYear).format(d);
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
