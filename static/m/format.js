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

export function deadlineClass(d) {
  if (!d) return '';
  if (d.overdue) return 'red';
  if (d.due_soon) return 'orange';
  return 'muted';
}

/**
 * live recomputes a case's deadline at now (the server's text is as of
 * the last sync): "剩余 X 天 X 时", orange under 24 h, red "已超期 X 天".
 */
export function live(d, now = Date.now()) {
  if (!d?.due_at) return d || null;
  const left = new Date(d.due_at).getTime() - now;
  const H = 3600000;
  const D = 24 * H;
  let text;
  if (left < 0) {
    const days = Math.floor(-left / D);
    text = days === 0 ? `已超期 ${Math.floor(-left / H) + 1} 时` : `已超期 ${days} 天`;
  } else {
    const days = Math.floor(left / D);
    const hours = Math.floor((left % D) / H);
    if (days > 0) text = `剩余 ${days} 天 ${hours} 时`;
    else if (hours > 0) text = `剩余 ${hours} 时`;
    else text = `剩余 ${Math.floor(left / 60000)} 分`;
  }
  return { ...d, text, overdue: left < 0, due_soon: left >= 0 && left <= D };
}
