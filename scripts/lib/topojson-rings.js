// Decodes the countries of a TopoJSON topology (world-atlas' countries-10m.json,
// Natural Earth 1:10m) into plain polygons for photofactory.load_places():
//   [{"id": "250", "name": "France", "polygons": [[[lon, lat, lon, lat, ...], <holes>...], ...]}, ...]
// on standard output. Usage: node topojson-rings.js countries-10m.json
'use strict';
const fs = require('fs');
const topo = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const [sx, sy] = topo.transform.scale;
const [tx, ty] = topo.transform.translate;
// Quantized, delta-encoded arcs -> absolute positions (5 decimals: ~1 m).
const arcs = topo.arcs.map((arc) => {
  let x = 0, y = 0;
  return arc.map(([dx, dy]) => {
    x += dx; y += dy;
    return [Math.round((x * sx + tx) * 1e5) / 1e5, Math.round((y * sy + ty) * 1e5) / 1e5];
  });
});
// A ring is a list of arc indexes; ~i means arc i reversed. Consecutive arcs
// share their joining point, kept once.
function ring(indexes) {
  const out = [];
  for (const i of indexes) {
    const pts = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
    pts.forEach((p, k) => { if (k > 0 || out.length === 0) out.push(p[0], p[1]); });
  }
  return out;
}
const result = [];
for (const g of topo.objects.countries.geometries) {
  const polys = g.type === 'Polygon' ? [g.arcs] : g.type === 'MultiPolygon' ? g.arcs : [];
  if (polys.length === 0) continue;
  result.push({ id: g.id === undefined ? null : String(g.id), name: (g.properties || {}).name || null,
                polygons: polys.map((p) => p.map(ring)) });
}
process.stdout.write(JSON.stringify(result));
