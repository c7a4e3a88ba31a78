// A deadline's text, re-timed on the device: a case view carries its
// deadline with the server's text as of when it was read; a phone may show
// it offline for hours, so live() words it again at the device's clock
// with the server's templates (cases.DeadlineWords, sent in the cadre
// app's bootstrap), chosen as cases.remainingText chooses them. Without
// the templates the server's text stays as it was. e2e/browser/
// deadline-lib.test.mjs checks it against the server's table
// (cases/labels_test.go TestLabelsRemainingText).

/** deadlineClass is the colour of a deadline: red overdue, orange within 24 h. */
export function deadlineClass(d) {
  if (!d) return '';
  if (d.overdue) return 'red';
  if (d.due_soon) return 'orange';
  return 'muted';
}

const M = 60000;
const H = 60 * M;
const D = 24 * H;

/** live re-times the server's deadline d at now with the server's words. */
export function live(d, now = Date.now(), words = null) {
  if (!d?.due_at || !words) return d || null;
  const left = new Date(d.due_at).getTime() - now;
  return { ...d, remaining_seconds: Math.trunc(left / 1000), text: remainingText(left, words), overdue: left < 0, due_soon: left >= 0 && left <= D };
}

const put = (w, d, h, m) => w.replace('{d}', d).replace('{h}', h).replace('{m}', m);

/** remainingText is cases.remainingText for milliseconds left, in the server's words. */
export function remainingText(left, words) {
  if (left < 0) {
    const days = Math.floor(-left / D);
    return days === 0 ? put(words.over_hours, 0, Math.floor(-left / H) + 1, 0) : put(words.over_days, days, 0, 0);
  }
  const days = Math.floor(left / D);
  const hours = Math.floor((left % D) / H);
  if (days > 0) return put(words.days, days, hours, 0);
  if (hours > 0) return put(words.hours, 0, hours, 0);
  return put(words.minutes, 0, 0, Math.floor(left / M));
}
