// The one map module of the three front ends (console, cadre app, site):
// Leaflet with the deployment's tile source from GET /api/v1/map, or — with
// none configured (the default, and offline) — the district's boundary and
// the sub-district and community reference points from the same answer on
// a plain background, so a map always orients. Every position is shifted
// from its own datum into the tiles' datum here (static/lib/datum.js), and
// nearby points are grouped by a small grid clustering (clusterPoints).
import * as L from 'leaflet';
import { convert, WGS84 } from './datum.js';

let configPromise = null;
const CACHE_KEY = 'minsheng.map';

/**
 * mapConfig is GET /api/v1/map ({tiles, outline}), fetched once per page and
 * kept in localStorage so a phone without signal still draws the outline.
 */
export function mapConfig() {
  if (!configPromise) {
    configPromise = fetch('/api/v1/map')
      .then((res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.json();
      })
      .then((cfg) => {
        try {
          localStorage.setItem(CACHE_KEY, JSON.stringify(cfg));
        } catch {
          /* storage full or denied: the map still works online */
        }
        return cfg;
      })
      .catch((err) => {
        const kept = localStorage.getItem(CACHE_KEY);
        if (kept) return JSON.parse(kept);
        configPromise = null;
        throw err;
      });
  }
  return configPromise;
}

let cssLoaded = false;
/** loadCSS adds Leaflet's stylesheet (beside the module the import map names) once. */
function loadCSS() {
  if (cssLoaded) return;
  cssLoaded = true;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('leaflet.css', import.meta.resolve('leaflet')).href;
  document.head.appendChild(link);
  const style = document.createElement('style');
  style.textContent = `
.ms-map{position:relative;background:#eef1f4;border-radius:8px;overflow:hidden;z-index:0}
.ms-map.ms-untiled .leaflet-container{background:#eef1f4}
.ms-pin{width:22px;height:22px;border-radius:50% 50% 50% 0;transform:rotate(-45deg);border:2px solid #fff;box-shadow:0 1px 3px rgba(0,0,0,.4);cursor:pointer}
.ms-cluster{display:flex;align-items:center;justify-content:center;border-radius:50%;color:#fff;font:600 13px/1 sans-serif;border:3px solid rgba(255,255,255,.85);box-shadow:0 1px 4px rgba(0,0,0,.35);cursor:pointer}
.ms-pick{width:18px;height:18px;border-radius:50%;background:#1989fa;border:3px solid #fff;box-shadow:0 0 0 6px rgba(25,137,250,.25)}
.ms-label{background:transparent;border:0;box-shadow:none;color:#455a64;font-size:11px;padding:0;text-shadow:0 0 3px #fff,0 0 3px #fff}
.ms-label::before{display:none}
.ms-label-sub{font-size:13px;font-weight:600;color:#37474f}
.ms-label-picked{font-size:13px;font-weight:700;color:#c8102e}
.ms-map-note{position:absolute;left:8px;bottom:6px;z-index:500;font-size:11px;color:#607d8b;background:rgba(255,255,255,.8);padding:1px 6px;border-radius:4px}`;
  document.head.appendChild(style);
}

/** esc makes text safe for Leaflet's HTML tooltips and popups. */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/**
 * clusterPoints groups projected points whose pixel positions share a grid
 * cell of `cell` pixels: one group per occupied cell, placed at its members'
 * mean. Pure, so it is tested without a map.
 */
export function clusterPoints(projected, cell = 56) {
  const cells = new Map();
  for (const p of projected) {
    const key = `${Math.floor(p.x / cell)}:${Math.floor(p.y / cell)}`;
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { members: [], x: 0, y: 0 }));
    c.members.push(p);
  }
  return [...cells.values()].map((c) => {
    c.x = c.members.reduce((s, p) => s + p.x, 0) / c.members.length;
    c.y = c.members.reduce((s, p) => s + p.y, 0) / c.members.length;
    return c;
  });
}

/**
 * createMap draws a map into el and resolves to its handle:
 *   setPoints(points)  points [{id, lat, lng, datum, label, color, count}] clustered (a cluster shows the
 *                      sum of its points' count, 1 each by default); a click calls onOpen(point)
 *   setPick(pos)       a chosen position {lat, lng, datum} (null clears it)
 *   showCommunity(code) emphasises a community's point and label, centring it
 *   fit()              fits the points (or the district)
 *   destroy()
 * Options: onOpen(point); cluster (default true); unit of a cluster's count (件).
 */
export async function createMap(el, { onOpen = () => {}, cluster = true, unit = '件' } = {}) {
  loadCSS();
  let cfg = { tiles: null, outline: { boundary: [], sub_districts: [], communities: [] } };
  try {
    cfg = await mapConfig();
  } catch {
    /* no config and nothing kept: the points alone are drawn */
  }
  const datum = cfg.tiles?.datum || WGS84;
  const toMap = (lat, lng, from) => convert(lat, lng, from || WGS84, datum);
  el.classList.add('ms-map');
  el.classList.toggle('ms-untiled', !cfg.tiles);
  const map = L.map(el, { zoomControl: true, attributionControl: !!cfg.tiles, minZoom: 10, maxZoom: 18 });
  map.attributionControl?.setPrefix('Leaflet');
  if (cfg.tiles) {
    const opts = { maxZoom: 18, attribution: esc(cfg.tiles.attribution) };
    if (cfg.tiles.subdomains) opts.subdomains = cfg.tiles.subdomains;
    L.tileLayer(cfg.tiles.url, opts).addTo(map);
  } else {
    const note = document.createElement('div');
    note.className = 'ms-map-note';
    note.textContent = '未配置底图：显示街道、社区位置示意';
    el.appendChild(note);
  }

  // The outline: boundary, sub-district labels, community points (and
  // their names once zoomed in).
  const o = cfg.outline;
  const outline = L.layerGroup().addTo(map);
  let districtBounds = null;
  if (o.boundary?.length >= 3) {
    const ring = o.boundary.map((p) => toMap(p.lat, p.lng, o.datum));
    const poly = L.polygon(ring, { color: '#c8102e', weight: 2, fill: !cfg.tiles, fillColor: '#fff', fillOpacity: 0.6, interactive: false, className: 'ms-boundary' });
    poly.addTo(outline);
    districtBounds = poly.getBounds();
  }
  const communityMarkers = new Map();
  for (const c of o.communities || []) {
    const m = L.circleMarker(toMap(c.center.lat, c.center.lng, o.datum), {
      radius: 3, color: '#78909c', weight: 1, fillColor: '#b0bec5', fillOpacity: 0.9, interactive: false, className: 'ms-community',
    }).bindTooltip(esc(c.name), { permanent: true, direction: 'right', className: 'ms-label', opacity: 1 });
    m.addTo(outline);
    communityMarkers.set(c.code, m);
  }
  const subLabels = L.layerGroup().addTo(outline);
  for (const s of o.sub_districts || []) {
    L.tooltip({ permanent: true, direction: 'center', className: 'ms-label ms-label-sub', opacity: 1 })
      .setLatLng(toMap(s.center.lat, s.center.lng, o.datum))
      .setContent(esc(s.name))
      .addTo(subLabels);
  }
  let picked = '';
  // Community names crowd the map at district zoom: shown from zoom 15, the
  // picked one always.
  const labelZoom = () => {
    const z = map.getZoom();
    for (const [code, m] of communityMarkers) {
      const t = m.getTooltip();
      const show = z >= 15 || code === picked;
      if (show && !m.isTooltipOpen()) m.openTooltip();
      if (!show && m.isTooltipOpen()) m.closeTooltip();
      t?.getElement()?.classList.toggle('ms-label-picked', code === picked);
    }
    if (z >= 15 && map.hasLayer(subLabels)) subLabels.remove();
    if (z < 15 && !map.hasLayer(subLabels)) subLabels.addTo(outline);
  };

  const layer = L.layerGroup().addTo(map);
  let points = [];
  const colorOf = (members) => (members.every((p) => p.color === members[0].color) ? members[0].color : '#546e7a');
  const draw = () => {
    layer.clearLayers();
    const projected = points.map((p) => ({ p, ...map.latLngToLayerPoint(p.at) }));
    const groups = cluster ? clusterPoints(projected) : projected.map((q) => ({ members: [q], x: q.x, y: q.y }));
    for (const g of groups) {
      if (g.members.length === 1) {
        const p = g.members[0].p;
        const icon = L.divIcon({
          className: '', iconSize: [22, 22], iconAnchor: [11, 22],
          html: `<div class="ms-pin" data-case="${esc(p.id)}" title="${esc(p.label)}" aria-label="${esc(p.label)}" style="background:${esc(p.color || '#c8102e')}"></div>`,
        });
        L.marker(p.at, { icon, title: p.label, keyboard: true })
          .on('click', () => onOpen(p))
          .addTo(layer);
        continue;
      }
      // A point may stand for several things (the board's community with
      // its needs): the cluster shows their sum.
      const n = g.members.reduce((sum, m) => sum + (m.p.count || 1), 0);
      const size = n < 10 ? 32 : n < 100 ? 38 : 46;
      const icon = L.divIcon({
        className: '', iconSize: [size, size],
        html: `<div class="ms-cluster" data-count="${n}" title="${n} ${esc(unit)}" style="width:${size}px;height:${size}px;background:${esc(colorOf(g.members.map((m) => m.p)))}">${n}</div>`,
      });
      const at = map.layerPointToLatLng([g.x, g.y]);
      L.marker(at, { icon, title: `${n} ${unit}` })
        .on('click', () => {
          const b = L.latLngBounds(g.members.map((m) => m.p.at));
          if (map.getZoom() >= map.getMaxZoom() || b.getNorthEast().equals(b.getSouthWest())) {
            const list = g.members.map((m) => `<li><a href="#" data-open="${esc(m.p.id)}">${esc(m.p.label)}</a></li>`).join('');
            L.popup().setLatLng(at).setContent(`<ul style="margin:0;padding-left:16px;max-height:200px;overflow:auto">${list}</ul>`).openOn(map);
          } else {
            map.fitBounds(b.pad(0.3));
          }
        })
        .addTo(layer);
    }
  };
  map.on('popupopen', (e) => {
    e.popup.getElement()?.querySelectorAll('[data-open]').forEach((a) =>
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        const p = points.find((q) => q.id === a.dataset.open);
        if (p) onOpen(p);
      }));
  });
  map.on('zoomend', () => {
    draw();
    labelZoom();
  });

  let pickLayer = null;
  const handle = {
    map,
    tiled: !!cfg.tiles,
    /** the points drawn, each with `at`, its place in the tiles' datum */
    get points() {
      return points;
    },
    datum,
    setPoints(list) {
      points = (list || [])
        .filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lng))
        .map((p) => ({ ...p, at: L.latLng(toMap(p.lat, p.lng, p.datum)) }));
      draw();
    },
    setPick(pos) {
      pickLayer?.remove();
      pickLayer = null;
      if (!pos) return;
      const icon = L.divIcon({ className: '', iconSize: [18, 18], html: '<div class="ms-pick" title="您的位置"></div>' });
      pickLayer = L.marker(toMap(pos.lat, pos.lng, pos.datum), { icon, interactive: false, zIndexOffset: 1000 }).addTo(map);
    },
    showCommunity(code) {
      picked = code || '';
      for (const [c, m] of communityMarkers) {
        const on = c === picked;
        m.setStyle(on ? { radius: 7, color: '#c8102e', weight: 2, fillColor: '#ff8a80' } : { radius: 3, color: '#78909c', weight: 1, fillColor: '#b0bec5' });
        m.getElement()?.classList.toggle('ms-community-picked', on);
      }
      const m = communityMarkers.get(picked);
      if (m) {
        const around = [m.getLatLng()];
        if (pickLayer) around.push(pickLayer.getLatLng());
        map.fitBounds(L.latLngBounds(around).pad(0.6), { maxZoom: 15 });
      }
      labelZoom();
    },
    fit() {
      if (points.length) map.fitBounds(L.latLngBounds(points.map((p) => p.at)).pad(0.15), { maxZoom: 16 });
      else if (districtBounds) map.fitBounds(districtBounds);
      else map.setView([39.91, 116.37], 12);
    },
    invalidate() {
      map.invalidateSize();
    },
    destroy() {
      map.remove();
    },
  };
  if (districtBounds) map.fitBounds(districtBounds);
  else map.setView([39.91, 116.37], 12);
  labelZoom();
  el.msMap = handle; // for the browser tests and a console's curiosity
  return handle;
}

/** distanceM is the distance in metres between two positions of one datum (Leaflet's great circle). */
export function distanceM(a, b) {
  return Math.round(L.latLng(a.lat, a.lng).distanceTo(L.latLng(b.lat, b.lng)));
}
