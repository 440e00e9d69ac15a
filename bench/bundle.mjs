// lunary-js as an app ships it: `import lunary from "lunary/browser"` bundled and minified
// by esbuild (ESM, browser platform). The same file is measured for size and loaded by the
// bench pages, so the bytes and the timings are of one build.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { build, version as esbuildVersion } from "esbuild";
import { buildDir, lunaryDir } from "./paths.mjs";

export const LUNARY_JS_BUNDLE = "lunary-js.min.js";

export async function bundleLunaryJs() {
  const manifest = JSON.parse(readFileSync(resolve(lunaryDir, "package.json"), "utf8"));
  // The file the package's "./browser" export points a bundler at.
  const entry = resolve(lunaryDir, manifest.exports["./browser"].import);
  const outfile = resolve(buildDir, LUNARY_JS_BUNDLE);
  await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile,
    logLevel: "warning",
  });
  return { file: outfile, entry, lunaryVersion: manifest.version, esbuildVersion };
}
