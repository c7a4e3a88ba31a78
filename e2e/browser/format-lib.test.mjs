// The front ends' one money formatter (static/lib/format.js) in Node: the
// same text as minsheng.Yuan on the server (money_test.go TestYuan), with
// integers only, for every int64 amount.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amount, yuan } from '../../static/lib/format.js';

test('yuan reads as minsheng.Yuan does', () => {
  for (const [fen, want] of [
    [0, '0.00 元'], [5, '0.05 元'], [123456, '1,234.56 元'], [-150, '-1.50 元'],
    [123456789, '1,234,567.89 元'], ['9223372036854775807', '92,233,720,368,547,758.07 元'],
    ['-9223372036854775808', '-92,233,720,368,547,758.08 元'],
  ]) assert.equal(yuan(fen), want, `yuan(${fen})`);
});

test('amount is the figure without its unit; no amount is —', () => {
  assert.equal(amount(4650000), '46,500.00');
  assert.equal(amount(-1200), '-12.00');
  for (const none of [null, undefined, '']) {
    assert.equal(amount(none), '—');
    assert.equal(yuan(none), '—');
  }
});
