// Going offline in every engine, one call for the scenarios:
//
//   const network = await offlineNetwork(suite, t);   // pages send to network.url
//   await initIn(page, { key, collector: network, … });
//   await network.setOffline(context, true);          // … false
//
// Chromium has the real thing (Playwright's `context.setOffline`: `navigator.onLine`
// false, `offline`/`online` events, no request leaves) and pages send straight to the
// collector. WebDriver in geckodriver and WebKitWebDriver has no network emulation, so
// Firefox and WebKit get an equivalent in two halves: every tab of the context sees
// itself offline (engines.mjs's `context.setOffline`: `navigator.onLine` false and the
// events, emulated in the page), and the pages send through a switch in front of the
// collector that, while off, resets every request that still goes out, so that it fails
// as a network error as it would offline. As in Chromium (measured: a request in flight
// when the context goes offline still gets its answer), requests already through are
// left alone.
import { createServer, request as httpRequest } from "node:http";

/**
 * An HTTP forwarder to `target` on its own port: `{url, offline, cut, stop()}`. While
 * `offline` is true every request it receives is reset unanswered (`cut` counts them).
 * Otherwise the request goes to the target on a connection of its own (no reused
 * upstream socket that could fail on its own) and the answer comes back as is; a
 * connection the target resets (the collector's `drop-before`/`drop-after`) is reset
 * here too, so such faults stay network errors for the page.
 */
export async function startNetworkSwitch(target) {
  const sw = { url: "", offline: false, cut: 0, stop: null };
  const reset = (socket) => (socket.resetAndDestroy ? socket.resetAndDestroy() : socket.destroy());
  const server = createServer((req, res) => {
    if (sw.offline) {
      sw.cut++;
      reset(req.socket);
      return;
    }
    const url = new URL(req.url, target);
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host }, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on("error", () => reset(req.socket));
    });
    upstream.on("error", () => reset(req.socket));
    req.pipe(upstream);
  });
  // Longer than any pause of the scenarios: an idle connection closed by this side just
  // as the browser reuses it would be a network error nobody scheduled.
  server.keepAliveTimeout = 120_000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  sw.url = `http://127.0.0.1:${server.address().port}`;
  sw.stop = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return sw;
}

/**
 * Where the pages of test `t` send (`url`) and how the test takes a context offline
 * (`setOffline(context, offline)`, every page of it), in `suite.engine`; see the top of
 * this file. `cut()`: the requests the switch reset (always 0 in Chromium, where none
 * leaves the browser while offline).
 */
export async function offlineNetwork(suite, t) {
  if (suite.engine === "chromium") {
    return {
      url: suite.collector.url,
      setOffline: (context, offline) => context.setOffline(offline),
      cut: () => 0,
    };
  }
  const sw = await startNetworkSwitch(suite.collector.url);
  t.after(() => sw.stop());
  return {
    url: sw.url,
    async setOffline(context, offline) {
      // The network goes first and comes back first: a page that still thinks it is
      // online cannot get a request through, and one told it is online again can.
      sw.offline = offline;
      await context.setOffline(offline);
    },
    cut: () => sw.cut,
  };
}
