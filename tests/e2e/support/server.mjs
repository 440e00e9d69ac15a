// A static server for the test pages: /pkg/ (the built npm package), /lunary-js/ (npm
// lunary's dist, for the side-by-side test) and pages generated per test under /page/.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { lunaryJsDir, pkgDir } from "./paths.mjs";

const MIME = {
  ".wasm": "application/wasm",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".json": "application/json",
  ".html": "text/html; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
};

const MOUNTS = [
  ["/pkg/", pkgDir],
  ["/lunary-js/", lunaryJsDir],
];

/**
 * Builds an HTML page. `before` is a classic script run before anything else; `module` is
 * the body of the module script, which starts with `import lunary from "/pkg/index.js"`
 * (plus `extraImports`) and ends by setting `window.__ready = true`.
 */
export function testPage({ before = "", module = "", extraImports = "" } = {}) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>lunary-wasm e2e</title>
${before ? `<script>${before}</script>` : ""}
<script type="module">
import lunary from "/pkg/index.js";
${extraImports}
window.lunary = lunary;
${module}
window.__ready = true;
</script>
</head><body></body></html>`;
}

export async function startStaticServer() {
  const pages = new Map();
  let pageCounter = 0;

  const server = createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      return send(400, "text/plain", "bad path");
    }
    if (pages.has(path)) return send(200, MIME[".html"], pages.get(path));
    for (const [prefix, dir] of MOUNTS) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(dir, "." + path.slice(prefix.length - 1));
      if (!file.startsWith(dir + sep)) return send(403, "text/plain", "forbidden");
      try {
        const body = await readFile(file);
        return send(200, MIME[extname(file)] ?? "application/octet-stream", body);
      } catch {
        return send(404, "text/plain", "not found");
      }
    }
    send(404, "text/plain", "not found");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    /** Registers a page and returns its URL. */
    addPage(html, name = "test") {
      const path = `/page/${++pageCounter}-${name}.html`;
      pages.set(path, html);
      return origin + path;
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
