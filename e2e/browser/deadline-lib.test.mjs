// The one JS deadline formatter (static/lib/deadline.js) in Node: with the
// server's templates — read here from their one home, cases/labels.go
// (deadlineWords), as the cadre app's bootstrap sends them — it words a
// deadline as cases.remainingText does, case by case on the table of
// cases/labels_test.go TestLabelsRemainingText.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { live, remainingText } from '../../static/lib/deadline.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** serverWords parses cases/labels.go's deadlineWords into the bootstrap's JSON names. */
function serverWords() {
  const src = fs.readFileSync(new URL('../../cases/labels.go', import.meta.url), 'utf8');
  const lit = /var deadlineWords = DeadlineWords\{([\s\S]*?)\n\}/.exec(src);
  assert.ok(lit, 'cases/labels.go declares deadlineWords');
  const json = { Days: 'days', Hours: 'hours', Minutes: 'minutes', OverDays: 'over_days', OverHours: 'over_hours' };
  const out = {};
  for (const [, k, v] of lit[1].matchAll(/(\w+):\s*"([^"]*)"/g)) out[json[k]] = v;
  assert.deepEqual(Object.keys(out).sort(), Object.values(json).sort());
  return out;
}
const words = serverWords();

test('remainingText reads as cases.remainingText does', () => {
  for (const [left, want] of [
    [2 * D + 3 * H + 20 * M, '剩余 2 天 3 时'],
    [D, '剩余 1 天 0 时'],
    [D - S, '剩余 23 时'],
    [5 * H + 59 * M, '剩余 5 时'],
    [40 * M + 30 * S, '剩余 40 分'],
    [0, '剩余 0 分'],
    [-S, '已超期 1 时'],
    [-(2 * H + M), '已超期 3 时'],
    [-(D - S), '已超期 24 时'],
    [-D, '已超期 1 天'],
    [-(3 * D + 23 * H), '已超期 3 天'],
  ]) assert.equal(remainingText(left, words), want, `remainingText(${left})`);
});

test('live keeps the server deadline and re-times it with the server words', () => {
  const now = Date.parse('2026-12-07T02:00:00Z');
  const d = { kind: 'completion', label: '办结时限', due_at: '2026-12-07T07:30:00Z', text: '剩余 1 天 5 时', overdue: false, due_soon: false, remaining_seconds: 99999 };
  assert.deepEqual(live(d, now, words), { ...d, text: '剩余 5 时', due_soon: true, remaining_seconds: 5.5 * 3600 });
  assert.equal(live(d, now + 6 * H, words).text, '已超期 1 时');
  assert.equal(live(d, now + 6 * H, words).overdue, true);
  // Without the server's words (no bootstrap yet) the server's text stays.
  assert.equal(live(d, now + 6 * H, null), d);
  assert.equal(live(null, now, words), null);
});
