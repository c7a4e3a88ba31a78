#!/usr/bin/env node
// Copies the one browser-loadable file of each front-end library from
// node_modules into static/vendor/<name>@<version>/ (docs/ARCHITECTURE.md's front ends),
// replacing process.env.NODE_ENV where a package still contains it, and
// verifying none is left. The vendored files are committed, so `go run`
// serves the real UI on a fresh clone without npm; `--check` (run by CI
// after `npm ci`) fails when the committed copies differ from what this
// script would write, so nobody edits a vendored file by hand.
//
//   node static/vendor.mjs          write static/vendor/
//   node static/vendor.mjs --check  compare only
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const out = path.join(here, 'vendor');

// name → files to copy (relative to the package) and whether NODE_ENV must be replaced.
const libs = [
  { name: 'vue', files: ['dist/vue.esm-browser.prod.js'] },
  { name: 'vant', files: ['lib/vant.es.js', 'lib/index.css'], nodeEnv: true, stripRemoteFonts: true },
  { name: '@vant/use', files: ['dist/index.esm.mjs'] },
  { name: '@vant/popperjs', files: ['dist/index.esm.mjs'] },
  { name: '@vue/shared', files: ['dist/shared.esm-bundler.js'], nodeEnv: true },
  { name: 'element-plus', files: ['dist/index.full.min.mjs', 'dist/index.css', 'dist/locale/zh-cn.min.mjs'] },
  { name: '@element-plus/icons-vue', files: ['dist/index.min.js'] },
  { name: 'echarts', files: ['dist/echarts.esm.min.mjs', 'NOTICE', 'LICENSE'] },
  { name: 'vue-router', files: ['dist/vue-router.esm-browser.prod.js'] },
  { name: 'idb-keyval', files: ['dist/index.js'] },
  { name: 'compressorjs', files: ['dist/compressor.esm.js'] },
  { name: 'dayjs', files: ['locale/zh-cn.js'] },
  { name: 'uqr', files: ['dist/index.mjs', 'LICENSE'] },
  // Leaflet's ES module build, its CSS and the images the CSS and the
  // default marker name (static/lib/map.js loads the CSS beside the module).
  { name: 'leaflet', files: ['dist/leaflet-src.esm.js', 'dist/leaflet.css', 'dist/images/marker-icon.png',
    'dist/images/marker-icon-2x.png', 'dist/images/marker-shadow.png', 'dist/images/layers.png', 'dist/images/layers-2x.png'] },
];

// Packages are looked up in the repository's node_modules directly:
// several do not export their package.json.
function pkgDir(name) {
  const dir = path.join(root, 'node_modules', name);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new Error(`${name} is not installed: run \`npm ci\` first`);
  }
  return dir;
}

function render(lib, file) {
  const src = path.join(pkgDir(lib.name), file);
  let body = fs.readFileSync(src);
  if (lib.nodeEnv && /\.m?js$/.test(file)) {
    let text = body.toString('utf8').replaceAll('process.env.NODE_ENV', '"production"');
    if (text.includes('process.env')) {
      throw new Error(`${lib.name}/${file}: process.env left after replacement`);
    }
    body = Buffer.from(text, 'utf8');
  }
  if (lib.stripRemoteFonts && file.endsWith('.css')) {
    // Vant's icon font is inline (data: woff2) with a fallback on a CDN;
    // the fallback is dropped so no page ever asks a third party (offline
    // use, CSP font-src 'self' data:, residents' privacy).
    const text = body.toString('utf8');
    const stripped = text.replace(/,url\(\/\/at\.alicdn\.com\/[^)]*\) format\("woff"\)/g, '');
    if (stripped === text || /alicdn/.test(stripped)) throw new Error(`${lib.name}/${file}: remote font fallback not found or left`);
    body = Buffer.from(stripped, 'utf8');
  }
  return body;
}

const check = process.argv.includes('--check');
const want = new Map();
const versions = {};
for (const lib of libs) {
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir(lib.name), 'package.json'), 'utf8')).version;
  versions[lib.name] = version;
  for (const file of lib.files) {
    want.set(path.join(`${lib.name}@${version}`, file), render(lib, file));
  }
  // Every package ships its license beside its file (some spell it LICENCE).
  const license = ['LICENSE', 'LICENCE', 'LICENSE.md'].find((f) => fs.existsSync(path.join(pkgDir(lib.name), f)));
  if (!license) throw new Error(`${lib.name}: no license file`);
  if (!lib.files.includes(license)) {
    want.set(path.join(`${lib.name}@${version}`, license), fs.readFileSync(path.join(pkgDir(lib.name), license)));
  }
}
want.set('versions.json', Buffer.from(JSON.stringify(versions, null, 2) + '\n'));

function listFiles(dir, prefix = '') {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), path.join(prefix, e.name)) : [path.join(prefix, e.name)]);
}

const have = new Set(listFiles(out));
const problems = [];
for (const [rel, body] of want) {
  const dst = path.join(out, rel);
  if (check) {
    if (!have.has(rel)) problems.push(`missing ${rel}`);
    else if (!fs.readFileSync(dst).equals(body)) problems.push(`differs ${rel}`);
  } else {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.writeFileSync(dst, body);
  }
  have.delete(rel);
}
for (const rel of have) {
  if (check) problems.push(`extra ${rel}`);
  else fs.rmSync(path.join(out, rel));
}
// The apps' import map (lib/importmap.json) must name only files written here.
const importMap = JSON.parse(fs.readFileSync(path.join(here, 'lib', 'importmap.json'), 'utf8'));
for (const [name, url] of Object.entries(importMap.imports)) {
  if (url.startsWith('/vendor/') && !want.has(url.slice('/vendor/'.length))) {
    problems.push(`import map entry ${name} → ${url} is not a vendored file`);
  }
}
if (problems.length) {
  console.error('static/vendor is out of date (run `node static/vendor.mjs`):\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log(`${check ? 'checked' : 'wrote'} ${want.size} files in static/vendor`);
