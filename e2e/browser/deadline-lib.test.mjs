// The cadre app's offline re-timing of a deadline (static/m/deadline.js) in
// Node: the same text as the server's rule, cases.remainingText — the table
// of cases/labels_test.go TestLabelsRemainingText, case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { live, remainingText } from '../../static/m/deadline.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

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
  ]) assert.equal(remainingText(left), want, `remainingText(${left})`);
});

test('live keeps the server deadline and re-times it', () => {
  const now = Date.parse('2026-12-07T02:00:00Z');
  const d = { kind: 'completion', label: '办结时限', due_at: '2026-12-07T07:30:00Z', text: '剩余 1 天 5 时', overdue: false, due_soon: false };
  assert.deepEqual(live(d, now), { ...d, text: '剩余 5 时', due_soon: true });
  assert.equal(live(d, now + 6 * H).text, '已超期 1 时');
  assert.equal(live(d, now + 6 * H).overdue, true);
  assert.equal(live(null), null);
});
