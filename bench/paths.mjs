// Paths resolved from this file, so make bench runs from any clone.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(benchDir, "..");
export const pkgDir = resolve(repoRoot, "pkg");
export const pageDir = resolve(benchDir, "page");
export const buildDir = resolve(benchDir, ".build");
export const collectorBin = resolve(repoRoot, "target/debug/lunary-collector");
/** The release build before wasm-bindgen and wasm-opt: it still has function names. */
export const preOptWasm = resolve(repoRoot, "target/wasm32-unknown-unknown/release/lunary_wasm.wasm");
export const lunaryDir = resolve(repoRoot, "node_modules/lunary");
