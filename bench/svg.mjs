// bench/ratios.svg: one horizontal bar per lunary-wasm / lunary-js ratio, on a log scale
// centred on 1.0 (equal), so ×2 and ×0.5 are the same length. Written by hand, no library.
const W = 760;
const LEFT = 260; // room for the labels
const RIGHT = 40;
const ROW = 34;
const TOP = 78;

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (r) => (r >= 10 ? r.toFixed(1) : r >= 1 ? r.toFixed(2) : r.toFixed(3));

/** bars: [{label, ratio, note?}]; ratio null draws "not measured". */
export function ratiosSvg(bars, { title, subtitle }) {
  const logs = bars.filter((b) => b.ratio > 0).map((b) => Math.abs(Math.log2(b.ratio)));
  const span = Math.max(2, Math.ceil(Math.max(0, ...logs))); // powers of two either side
  const x = (r) => LEFT + ((Math.log2(r) + span) / (2 * span)) * (W - LEFT - RIGHT);
  const height = TOP + bars.length * ROW + 56;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="13">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="16" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="16" y="44" fill="#555">${esc(subtitle)}</text>`);
  // Grid: every power of two, labelled ×0.25 … ×4.
  for (let e = -span; e <= span; e++) {
    const r = 2 ** e;
    const gx = x(r).toFixed(1);
    out.push(`<line x1="${gx}" y1="${TOP - 8}" x2="${gx}" y2="${TOP + bars.length * ROW}" stroke="${e === 0 ? "#000" : "#ddd"}" stroke-width="${e === 0 ? 2 : 1}"/>`);
    out.push(`<text x="${gx}" y="${TOP + bars.length * ROW + 16}" text-anchor="middle" fill="#555" font-size="11">×${r >= 1 ? r : `1/${1 / r}`}</text>`);
  }
  bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    out.push(`<text x="${LEFT - 10}" y="${y + 18}" text-anchor="end">${esc(bar.label)}</text>`);
    if (!(bar.ratio > 0)) {
      out.push(`<text x="${x(1) + 8}" y="${y + 18}" fill="#999">not measured</text>`);
      return;
    }
    const r = Math.min(2 ** span, Math.max(2 ** -span, bar.ratio));
    const [a, b] = [x(1), x(r)].sort((p, q) => p - q);
    // Green: lunary-wasm smaller or cheaper (ratio ≤ 1); orange: lunary-js is.
    const color = bar.ratio <= 1 ? "#2e9d5b" : "#e07b24";
    out.push(`<rect x="${a.toFixed(1)}" y="${y + 6}" width="${Math.max(1, b - a).toFixed(1)}" height="18" fill="${color}"/>`);
    const right = bar.ratio >= 1;
    out.push(`<text x="${(right ? b + 6 : a - 6).toFixed(1)}" y="${y + 19}" text-anchor="${right ? "start" : "end"}" font-weight="bold">×${fmt(bar.ratio)}</text>`);
  });
  const foot = TOP + bars.length * ROW + 40;
  out.push(`<text x="16" y="${foot}" fill="#555" font-size="12">lunary-wasm ÷ lunary-js, log scale. Left of the 1.0 line (green): lunary-wasm is smaller, cheaper or faster; right (orange): lunary-js is.</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
