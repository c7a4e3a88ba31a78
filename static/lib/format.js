// Money as people read it, one rule for the three front ends — the same
// text minsheng.Yuan gives on the server: integer fen in, thousands
// separated, two decimals, no floating point on the fen (BigInt), so
// 123456789 fen reads "1,234,567.89 元" everywhere.

/** amount is fen as a figure without its unit ("1,234.56"), for columns
 *  headed （元）; "—" when there is no amount. */
export function amount(fen) {
  if (fen === null || fen === undefined || fen === '') return '—';
  const n = BigInt(fen);
  const neg = n < 0n;
  const a = neg ? -n : n;
  const whole = (a / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (a % 100n).toString().padStart(2, '0');
  return `${neg ? '-' : ''}${whole}.${cents}`;
}

/** yuan is fen with its unit: "1,234.56 元"; "—" when there is no amount. */
export function yuan(fen) {
  const a = amount(fen);
  return a === '—' ? a : `${a} 元`;
}
