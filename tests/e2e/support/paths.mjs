// Paths resolved from this file, so the suite runs from any clone of the repository.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const pkgDir = resolve(repoRoot, "pkg");
export const lunaryJsDir = resolve(repoRoot, "node_modules/lunary/dist");
export const collectorBin = resolve(repoRoot, "target/debug/lunary-collector");
export const artifactsDir = resolve(repoRoot, "target/e2e");

/** The version the built package declares (pkg/package.json). */
export function pkgVersion() {
  return JSON.parse(readFileSync(resolve(pkgDir, "package.json"), "utf8")).version;
}
