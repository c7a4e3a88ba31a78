// The deadline as the server words it (cases/labels.go), kept current on
// the phone. Every case view carries its deadline with the server's text,
// as of when it was read; a cadre may look at the queue offline for hours,
// so live() re-times that text at the phone's clock with the server's rule
// (cases.remainingText). It makes no rule of its own: e2e/browser/
// deadline-lib.test.mjs checks it against the server's table
// (cases/labels_test.go TestLabelsRemainingText).

/** deadlineClass is the colour of a deadline: red overdue, orange within 24 h. */
export function deadlineClass(d) {
  if (!d) return '';
  if (d.overdue) return 'red';
  if (d.due_soon) return 'orange';
  return 'muted';
}

/**
 * live re-times the server's deadline at now: "剩余 X 天 X 时" (under a day
 * "剩余 X 时", under an hour "剩余 X 分"), "已超期 X 天" (under a day "已超期 X 时").
 */
export function live(d, now = Date.now()) {
  if (!d?.due_at) return d || null;
  const left = new Date(d.due_at).getTime() - now;
  return { ...d, text: remainingText(left), overdue: left < 0, due_soon: left >= 0 && left <= D };
}

const M = 60000;
const H = 60 * M;
const D = 24 * H;

/** remainingText is cases.remainingText for a number of milliseconds left. */
export function remainingText(left) {
  if (left < 0) {
    const days = Math.floor(-left / D);
    return days === 0 ? `已超期 ${Math.floor(-left / H) + 1} 时` : `已超期 ${days} 天`;
  }
  const days = Math.floor(left / D);
  const hours = Math.floor((left % D) / H);
  if (days > 0) return `剩余 ${days} 天 ${hours} 时`;
  if (hours > 0) return `剩余 ${hours} 时`;
  return `剩余 ${Math.floor(left / M)} 分`;
}
