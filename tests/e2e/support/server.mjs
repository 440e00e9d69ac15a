// A static server for the test pages: /pkg/ (the built npm package), /lunary-js/ (npm
// lunary's dist, for the side-by-side test) and pages generated per test under /page/
// (optionally with extra response headers, e.g. a Content-Security-Policy, and with their
// scripts as separate files); it can forward a path prefix to another server (a
// same-origin apiUrl), and logs every request it receives.
import { createServer, request as httpRequest } from "node:http";
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

/**
 * The same page as `testPage`, for pages where inline scripts are not allowed (a strict
 * Content-Security-Policy): `before` and the module script are registered on `server` as
 * separate files under /page/ and loaded with `src`. Returns the page's URL.
 */
export function addExternalTestPage(server, { before = "", module = "", extraImports = "", name = "test", headers = {} } = {}) {
  const beforeSrc = before ? server.addScript(before, `${name}-before`) : null;
  const moduleSrc = server.addScript(
    `import lunary from "/pkg/index.js";
${extraImports}
window.lunary = lunary;
${module}
window.__ready = true;
`,
    `${name}-module`,
  );
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>lunary-wasm e2e</title>
${beforeSrc ? `<script src="${beforeSrc}"></script>` : ""}
<script type="module" src="${moduleSrc}"></script>
</head><body></body></html>`;
  return server.addPage(html, name, { headers });
}

export async function startStaticServer() {
  const pages = new Map();
  let pageCounter = 0;
  /** [prefix, target origin] of the forwarded path prefixes. */
  const proxies = [];
  /** Every request received: {method, path, headers}. */
  const requestLog = [];

  const server = createServer(async (req, res) => {
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
      res.end(body);
    };
    requestLog.push({ method: req.method, path: req.url, headers: { ...req.headers } });
    const proxy = proxies.find(([prefix]) => req.url.startsWith(prefix));
    if (proxy) return forward(req, res, proxy[1]);
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      return send(400, "text/plain", "bad path");
    }
    if (pages.has(path)) {
      const page = pages.get(path);
      return send(200, page.type, page.body, page.headers);
    }
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
    /** Registers a page and returns its URL; `headers` are added to its response. */
    addPage(html, name = "test", { headers = {} } = {}) {
      const path = `/page/${++pageCounter}-${name}.html`;
      pages.set(path, { type: MIME[".html"], body: html, headers });
      return origin + path;
    },
    /** Registers a JavaScript file and returns its path (same origin as the pages). */
    addScript(source, name = "script") {
      const path = `/page/${++pageCounter}-${name}.js`;
      pages.set(path, { type: MIME[".js"], body: source, headers: {} });
      return path;
    },
    /**
     * Forwards every request whose path starts with `prefix` to `target` (an origin), as
     * is: method, path, headers (Cookie included) and body; the answer comes back as is.
     */
    forward(prefix, target) {
      proxies.push([prefix, target]);
    },
    /** Every request this server received so far: [{method, path, headers}]. */
    requests: requestLog,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Sends `req` on to `target` (an origin) and its answer back through `res`. */
function forward(req, res, target) {
  const url = new URL(req.url, target);
  const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
    res.end("bad gateway");
  });
  req.pipe(upstream);
}
