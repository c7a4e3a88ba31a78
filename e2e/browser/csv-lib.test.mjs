// The console's CSV writer (static/lib/csv.js) in Node: no browser, no
// server. Cells a spreadsheet would run as formulas (titles are typed by
// anonymous residents) start with ' and are quoted; the rest are RFC 4180.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, csvText } from '../../static/lib/csv.js';

test('formula-like cells are neutralised with a leading quote', () => {
  const cases = [
    ['=HYPERLINK("http://x","点我")', `"'=HYPERLINK(""http://x"",""点我"")"`],
    ['=1+1', `"'=1+1"`],
    ['+1', `"'+1"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1:A2)', `"'@SUM(A1:A2)"`],
    ['\t=1', `"'\t=1"`],
    ['\r=1', `"'\r=1"`],
    ['\n=1', `"'\n=1"`],
    ['-cmd|\' /C calc\'!A0', `"'-cmd|' /C calc'!A0"`],
    ['＝1+1', `"'＝1+1"`],
    ['-1e3', `"'-1e3"`],
    ['-', `"'-"`],
  ];
  for (const [in_, want] of cases) assert.equal(csvCell(in_), want, JSON.stringify(in_));
});

test('plain numbers, negative amounts included, stay numbers', () => {
  for (const v of ['0', '12', '12.50', '-12.50', '-3', -12.5, 42, 0]) assert.equal(csvCell(v), String(v));
});

test('ordinary text is unchanged or quoted as RFC 4180 asks', () => {
  assert.equal(csvCell('小区路灯不亮'), '小区路灯不亮');
  assert.equal(csvCell('A1-2 楼道=堆物'), 'A1-2 楼道=堆物', 'a formula character inside the text is harmless');
  assert.equal(csvCell('他说"马上修"'), '"他说""马上修"""');
  assert.equal(csvCell('东四,西四'), '"东四,西四"');
  assert.equal(csvCell('第一行\n第二行'), '"第一行\n第二行"');
  assert.equal(csvCell('回车\r在中间'), '"回车\r在中间"');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell("'=already"), "'=already", 'a leading quote is not itself risky');
});

test('csvText writes a BOM, the header and CRLF-separated rows', () => {
  const text = csvText(['编号', '标题', '差额（元）'], [['DC2026-1', '=HYPERLINK("http://x","点我")', '-12.50'], ['DC2026-2', '路灯, 不亮', '3.00']]);
  assert.equal(text, '\ufeff编号,标题,差额（元）\r\n'
    + `DC2026-1,"'=HYPERLINK(""http://x"",""点我"")",-12.50\r\n`
    + 'DC2026-2,"路灯, 不亮",3.00');
});
