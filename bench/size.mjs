// Bytes an app's users download: raw, gzip -9 and brotli (quality 11) of each file of the
// npm package and of lunary-js bundled, and what the wasm's bytes are spent on (twiggy).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { buildDir, pkgDir, preOptWasm, repoRoot } from "./paths.mjs";

export const WASM_FILES = [
  ["wasm", "lunary_wasm_bg.wasm"],
  ["glue", "lunary_wasm.js"],
  ["entry", "index.js"],
];

/** Gzip sizes (kB) of the big peers' shipped bundles, as quoted in issue 7: not measured here. */
export const PEERS_QUOTED = [
  ["Segment (analytics.js)", 30.1],
  ["Mixpanel", 33.6],
  ["RudderStack", 34.3],
  ["PostHog (slim)", 54.3],
  ["Amplitude", 69.1],
];

export function compressedSizes(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

const sum = (rows) => ({
  raw: rows.reduce((a, r) => a + r.raw, 0),
  gzip: rows.reduce((a, r) => a + r.gzip, 0),
  brotli: rows.reduce((a, r) => a + r.brotli, 0),
});

/** The JS snippets wasm-bindgen copies into pkg/snippets/ (the glue imports them). */
function snippetFiles() {
  const dir = resolve(pkgDir, "snippets");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .filter((file) => file.endsWith(".js"))
    .map((file, i) => [`snippet${i ? i + 1 : ""}`, `snippets/${file}`]);
}

/** The package's files the browser loads, each and summed (they are served separately). */
export function wasmPackageSizes() {
  const files = {};
  const buffers = [];
  for (const [role, name] of [...WASM_FILES, ...snippetFiles()]) {
    const bytes = readFileSync(resolve(pkgDir, name));
    buffers.push(bytes);
    files[role] = { file: `pkg/${name}`, ...compressedSizes(bytes) };
  }
  // Also the figure `make pkg` prints (the files concatenated, then gzip -9).
  const concatenatedGzip = gzipSync(Buffer.concat(buffers), { level: 9 }).length;
  return { files, total: sum(Object.values(files)), concatenatedGzip };
}

export function bundleSizes(file) {
  return { file: file.slice(repoRoot.length + 1), ...compressedSizes(readFileSync(file)) };
}

function twiggyTop(file, n) {
  const out = execFileSync("twiggy", ["top", "-n", String(n), "--format", "json", file], { encoding: "utf8" });
  // The last rows are "... and N more" and the total; keep the items.
  return JSON.parse(out)
    .filter((row) => !row.name.startsWith("... and") && !row.name.startsWith("Σ"))
    .map((row) => ({ name: row.name, bytes: row.shallow_size, percent: row.shallow_size_percent }));
}

/**
 * The shipped wasm has no names (wasm-opt --strip-debug), so twiggy can only call its items
 * code[N]. For names, the release build goes through wasm-bindgen and the same wasm-opt
 * flags again, keeping the name section (-g); when its items have the same sizes as the
 * shipped ones, their names are the shipped items' names. The flags come from the Makefile
 * (WASM_OPT_FLAGS), so this never drifts from `make pkg`.
 */
export function wasmTopContributors(n = 15) {
  const shipped = resolve(pkgDir, "lunary_wasm_bg.wasm");
  const shippedTop = twiggyTop(shipped, n);
  const flags = wasmOptFlags();
  if (!flags || !existsSync(preOptWasm)) {
    return { source: "pkg/lunary_wasm_bg.wasm (no names: no release build in target/ or no WASM_OPT_FLAGS)", rows: shippedTop };
  }
  try {
    const named = namedBuild(flags);
    // The name section itself is not shipped: leave it out of the ranking.
    const namedTop = twiggyTop(named, n + 5).filter((row) => !row.name.includes("subsection")).slice(0, n);
    const sizes = (rows) => rows.map((r) => r.bytes).join(",");
    if (sizes(namedTop) === sizes(shippedTop)) {
      // Percentages of the shipped file, names of the named twin.
      const rows = namedTop.map((row, i) => ({ ...shippedTop[i], name: shortName(row.name), shippedName: shippedTop[i].name }));
      const total = readFileSync(shipped).length;
      return { source: "pkg/lunary_wasm_bg.wasm, named from a -g twin of the same build", rows, groups: byGroup(named, total) };
    }
    return {
      source: "pkg/lunary_wasm_bg.wasm (the release build in target/ differs from pkg/, so no names)",
      rows: shippedTop,
    };
  } catch (err) {
    return { source: `pkg/lunary_wasm_bg.wasm (naming failed: ${String(err.message).split("\n")[0]})`, rows: shippedTop };
  }
}

/** `make bench` passes make's own WASM_OPT_FLAGS; run directly, read them from the Makefile. */
function wasmOptFlags() {
  const fromMake = process.env.WASM_OPT_FLAGS?.trim();
  if (fromMake) return fromMake.split(/\s+/);
  const makefile = readFileSync(resolve(repoRoot, "Makefile"), "utf8");
  const match = /^WASM_OPT_FLAGS\s*:?=((?:.*\\\n)*.*)$/m.exec(makefile);
  return match ? match[1].replace(/\\\n/g, " ").trim().split(/\s+/) : null;
}

/** Every item of the named twin summed by where it comes from: which layer, which crate. */
function byGroup(named, total) {
  const groups = new Map();
  for (const row of twiggyTop(named, 1_000_000)) {
    const group = groupOf(shortName(row.name));
    if (group) groups.set(group, (groups.get(group) ?? 0) + row.bytes);
  }
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .map(([group, bytes]) => ({ group, bytes, percent: (100 * bytes) / total }));
}

function groupOf(name) {
  if (name.includes("subsection")) return null; // the names themselves are not shipped
  // wasm-opt inlines an export's Rust body into wasm-bindgen's shim for it.
  if (name.includes(" shim")) return "exports (bindgen shims with their bodies inlined)";
  if (name.startsWith("data segment")) return "data segments (strings, tables)";
  const path = /^<?([A-Za-z_]\w*)(?:::([A-Za-z_]\w*))?/.exec(name);
  if (!path || /^(import|export|type|elem|custom|code|table|memory|global)$/.test(path[1])) return "wasm sections, unnamed code";
  if (path[1] === "lunary_wasm" && path[2]) return `lunary_wasm::${path[2]}`;
  if (["core", "alloc", "std", "__rustc", "dlmalloc", "wasm_bindgen", "js_sys", "web_sys", "wasm_bindgen_futures"].includes(path[1])) return path[1];
  return "other (generic impls)";
}

/** Rust symbols end in a hash; crate names carry a disambiguator in brackets. */
const shortName = (name) => name.replace(/::h[0-9a-f]{16}\b/g, "").replace(/\[[0-9a-f]{16}\]/g, "");

/** wasm-bindgen + wasm-opt with names kept; cached by input and flags (wasm-opt takes ~8 s). */
function namedBuild(flags) {
  const optFlags = flags.filter((f) => f !== "--strip-debug").concat("-g");
  const key = createHash("sha256").update(readFileSync(preOptWasm)).update(optFlags.join(" ")).digest("hex").slice(0, 16);
  const dir = resolve(buildDir, "named");
  const out = resolve(dir, `lunary_wasm_named_${key}.wasm`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  execFileSync("wasm-bindgen", ["--target", "web", "--weak-refs", "--out-dir", dir, "--out-name", "lunary_wasm", preOptWasm]);
  const wasmOpt = resolve(repoRoot, "node_modules/.bin/wasm-opt");
  execFileSync(wasmOpt, [...optFlags, resolve(dir, "lunary_wasm_bg.wasm"), "-o", out]);
  return out;
}
