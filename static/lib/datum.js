// Datums (坐标系) of positions on the maps: the one place the front ends
// shift a position between WGS-84 (GPS, 天地图's CGCS2000 to well under a
// metre, the org data) and GCJ-02 (国测局坐标, the datum of commercial
// Chinese tiles). Positions are stored with their datum (cases.Location.Datum);
// static/lib/map.js shifts each into the tiles' datum before drawing. The
// server never converts, so this is the only implementation; its known points
// are checked in e2e/browser/map.test.mjs.
//
// GCJ-02 is WGS-84 plus a published, deliberately non-linear offset computed
// on the Krasovsky 1940 ellipsoid; outside mainland China's bounding box no
// offset is applied.

const KRASOVSKY_A = 6378245.0;
const KRASOVSKY_EE = 0.00669342162296594323;

export const WGS84 = 'wgs84';
export const GCJ02 = 'gcj02';

/** outsideChina: the offset applies only inside this box (as the published algorithm does). */
function outsideChina(lat, lng) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

// The offset's two series, in metres-like units of the published formula,
// taken at (x, y) = (lng − 105, lat − 35).
function offsetLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function offsetLng(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

/** delta is GCJ-02 minus WGS-84 at a WGS-84 position, in degrees. */
function delta(lat, lng) {
  const x = lng - 105;
  const y = lat - 35;
  const rad = (lat / 180) * Math.PI;
  const s = Math.sin(rad);
  const m = 1 - KRASOVSKY_EE * s * s;
  const dLat = (offsetLat(x, y) * 180) / (((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (m * Math.sqrt(m))) * Math.PI);
  const dLng = (offsetLng(x, y) * 180) / ((KRASOVSKY_A / Math.sqrt(m)) * Math.cos(rad) * Math.PI);
  return [dLat, dLng];
}

/** wgsToGcj shifts a WGS-84 position to GCJ-02. */
export function wgsToGcj(lat, lng) {
  if (outsideChina(lat, lng)) return [lat, lng];
  const [dLat, dLng] = delta(lat, lng);
  return [lat + dLat, lng + dLng];
}

/**
 * gcjToWgs is the inverse: the offset has no closed inverse, so the WGS-84
 * position is found by fixed-point iteration (converges to 1e-9° in a few
 * steps, the offset being smooth and small).
 */
export function gcjToWgs(lat, lng) {
  if (outsideChina(lat, lng)) return [lat, lng];
  let wLat = lat;
  let wLng = lng;
  for (let i = 0; i < 20; i++) {
    const [gLat, gLng] = wgsToGcj(wLat, wLng);
    const eLat = gLat - lat;
    const eLng = gLng - lng;
    wLat -= eLat;
    wLng -= eLng;
    if (Math.abs(eLat) < 1e-10 && Math.abs(eLng) < 1e-10) break;
  }
  return [wLat, wLng];
}

/**
 * convert moves a position from datum `from` to datum `to` (wgs84|gcj02; a
 * missing `from` is WGS-84, as cases.DatumOf reads an old position).
 */
export function convert(lat, lng, from, to) {
  const src = from || WGS84;
  if (src === to) return [lat, lng];
  if (src === WGS84 && to === GCJ02) return wgsToGcj(lat, lng);
  if (src === GCJ02 && to === WGS84) return gcjToWgs(lat, lng);
  throw new Error(`unknown datum ${src} → ${to}`);
}
