// A minimal XLSX reader for the browser tests: unzips with node:zlib and
// reads a sheet's cells (numbers as numbers, shared strings resolved), so a
// test can check an export's sums the way Excel would compute them.
import zlib from 'node:zlib';

function entries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const lName = buf.readUInt16LE(local + 26);
    const lExtra = buf.readUInt16LE(local + 28);
    const data = buf.subarray(local + 30 + lName + lExtra, local + 30 + lName + lExtra + size);
    out.set(name, method === 8 ? zlib.inflateRawSync(data) : data);
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** readXlsx returns {sheets: {name: {A1: {value, type, style}}}, numFmts: {styleIndex: formatCode}}. */
export function readXlsx(buf) {
  const files = entries(Buffer.from(buf));
  const text = (n) => files.get(n)?.toString('utf8') || '';
  const shared = [...text('xl/sharedStrings.xml').matchAll(/<si>([\s\S]*?)<\/si>/g)]
    .map((m) => unescape([...m[1].matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('')));
  const wb = text('xl/workbook.xml');
  const rels = text('xl/_rels/workbook.xml.rels');
  const styles = text('xl/styles.xml');
  const fmtCodes = Object.fromEntries([...styles.matchAll(/<numFmt numFmtId="(\d+)" formatCode="([^"]*)"/g)].map((m) => [m[1], unescape(m[2])]));
  const xfs = (/<cellXfs[^>]*>([\s\S]*?)<\/cellXfs>/.exec(styles)?.[1] || '').match(/<xf [^>]*?(\/>|>)/g) || [];
  const numFmts = xfs.map((x) => fmtCodes[/numFmtId="(\d+)"/.exec(x)?.[1]] || '');
  const sheets = {};
  for (const m of wb.matchAll(/<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"/g)) {
    const target = new RegExp(`Id="${m[2]}"[^>]*Target="([^"]+)"`).exec(rels)?.[1] || new RegExp(`Target="([^"]+)"[^>]*Id="${m[2]}"`).exec(rels)?.[1];
    const xml = text('xl/' + target.replace(/^\/?xl\//, ''));
    const cells = {};
    for (const c of xml.matchAll(/<c r="([A-Z]+\d+)"([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const attrs = c[2];
      const type = /t="([^"]+)"/.exec(attrs)?.[1] || 'n';
      const style = Number(/s="(\d+)"/.exec(attrs)?.[1] || 0);
      const v = /<v>([\s\S]*?)<\/v>/.exec(c[3] || '')?.[1];
      const is = /<is>[\s\S]*?<t[^>]*>([\s\S]*?)<\/t>/.exec(c[3] || '')?.[1];
      let value = v;
      if (type === 's') value = shared[Number(v)];
      else if (type === 'inlineStr') value = unescape(is || '');
      else if (type === 'str') value = unescape(v || '');
      else if (v !== undefined) value = Number(v);
      cells[c[1]] = { value, type, style, format: numFmts[style] || '' };
    }
    sheets[unescape(m[1])] = cells;
  }
  return sheets;
}
