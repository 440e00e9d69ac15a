// The static server of the bench pages. Every answer makes the page cross-origin isolated
// (COOP + COEP, CORP on the assets): only then does Chromium give performance.now() 5 µs
// resolution instead of 100 µs. Nothing is cached, so every fresh page loads cold.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { buildDir, pageDir, pkgDir } from "./paths.mjs";

const MIME = {
  ".wasm": "application/wasm",
  ".js": "text/javascript",
  ".html": "text/html; charset=utf-8",
};

const MOUNTS = [
  ["/pkg/", pkgDir], // lunary-wasm, the npm package as built
  ["/lunary-js/", buildDir], // lunary-js, bundled by bench/bundle.mjs
  ["/page/", pageDir], // the bench pages and their in-page code
];

const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export async function startStaticServer() {
  const server = createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...ISOLATION });
      res.end(body);
    };
    const path = new URL(req.url, "http://x").pathname;
    for (const [prefix, dir] of MOUNTS) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(dir, "." + decodeURIComponent(path.slice(prefix.length - 1)));
      if (!file.startsWith(dir + sep)) return send(403, "text/plain", "forbidden");
      try {
        return send(200, MIME[extname(file)] ?? "application/octet-stream", await readFile(file));
      } catch {
        return send(404, "text/plain", "not found");
      }
    }
    send(404, "text/plain", "not found");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
