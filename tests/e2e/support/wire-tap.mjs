// A tap on the wire: what a browser really sent, as the server received it.
import { createServer, request as httpRequest } from "node:http";

/**
 * An HTTP server on its own port (so a third origin) that forwards every request to
 * `target` (the collector) as is and logs it as the server received it:
 * `{method, path, headers, body}`. Used as the `apiUrl` to see the request headers a
 * browser really sent, in every engine.
 */
export async function startWireTap(target) {
  const log = [];
  const server = createServer((req, res) => {
    const entry = { method: req.method, path: req.url, headers: { ...req.headers }, body: "" };
    log.push(entry);
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    const url = new URL(req.url, target);
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
      entry.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end("bad gateway");
    });
    req.on("end", () => (entry.body = Buffer.concat(chunks).toString("utf8")));
    req.pipe(upstream);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
