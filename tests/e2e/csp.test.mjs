// The package under a strict Content-Security-Policy (an HTTP response header of the page)
// that allows nothing but the page's own scripts, WebAssembly compilation
// ('wasm-unsafe-eval') and connections to the page's origin and the collector: no
// violation, and the README example is stored. Without 'wasm-unsafe-eval' the module
// cannot compile and the package falls back to its documented no-op. And the shipped
// JavaScript holds none of the constructs a CSP without 'unsafe-eval' would block. The
// browser cases run in every engine of ENGINES; the violations are recorded by the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { engineSuites, TEST_TIMEOUT } from "./support/engine-suite.mjs";
import { PROBE } from "./support/probe.mjs";
import { addExternalTestPage } from "./support/server.mjs";
import { pkgDir, pkgVersion, repoRoot } from "./support/paths.mjs";
import { assertReadmeEvents, runReadmeExample } from "./support/scenarios.mjs";
import { sleep } from "./support/delivery.mjs";

/** The policy, with `script-src` sources and extra directives as given. */
function policy({ collectorOrigin, wasm = true, trustedTypes = true }) {
  return [
    "default-src 'none'",
    `script-src 'self'${wasm ? " 'wasm-unsafe-eval'" : ""}`,
    `connect-src 'self' ${collectorOrigin}`,
    "base-uri 'none'",
    "object-src 'none'",
    ...(trustedTypes ? ["require-trusted-types-for 'script'"] : []),
  ].join("; ");
}

/**
 * Runs first (after the PROBE), from a same-origin file (inline scripts are blocked):
 * records every `securitypolicyviolation` event the document sees, in every engine; then
 * shows the policy is in force (code run through the driver's evaluate may be exempt from
 * it, so this is the place): eval and an inline script are refused, each reported as a
 * violation from this file.
 */
const WATCH_VIOLATIONS = `
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, disposition: e.disposition });
});
window.__cspProbe = {};
try {
  window.__cspProbe.eval = (0, eval)("1 + 1");
} catch (e) {
  window.__cspProbe.eval = e.name;
}
try {
  const s = document.createElement("script");
  s.textContent = "window.__inline = true"; // with Trusted Types, this assignment itself throws
  document.head.append(s);
  window.__cspProbe.inline = "appended";
} catch (e) {
  window.__cspProbe.inline = e.name;
}
`;

/**
 * Loads a page served with `csp`, its scripts as same-origin files (inline scripts are
 * blocked): engines.mjs's PROBE first (page errors, console, the ingest fetches), then
 * WATCH_VIOLATIONS. Checks the static server answered the page (with the policy: it adds
 * the page's headers to every answer for it).
 */
async function loadWithPolicy(suite, t, csp, name) {
  const { server } = suite;
  const page = await suite.newPage(t);
  const url = addExternalTestPage(server, { before: PROBE + WATCH_VIOLATIONS, name, headers: { "Content-Security-Policy": csp } });
  const firstLogged = server.requests.length;
  await page.load(url);
  const path = new URL(url).pathname;
  assert.ok(server.requests.slice(firstLogged).some((r) => r.method === "GET" && r.path === path), "the static server served the page, with the policy");
  return page;
}

/**
 * The violations the document saw, but the browser's own favicon request: Firefox and
 * WebKitGTK ask for /favicon.ico for a page without an icon link, and `img-src 'none'`
 * refuses it (not the page's nor the package's doing). Kept in `t.diagnostic` by the tests.
 */
const violations = async (page) => (await page.evaluate(() => window.__violations)).filter((v) => !(v.directive === "img-src" && /\/favicon\.ico$/.test(v.blocked)));
const allViolations = (page) => page.evaluate(() => window.__violations);

/** Whether the engine enforces `require-trusted-types-for` (it has the Trusted Types API). */
const hasTrustedTypes = (page) => page.evaluate(() => typeof window.trustedTypes === "object" && window.trustedTypes !== null);

/** A violation's source as a path of the static server (engines give a URL, some a path). */
const sourcePath = (suite, v) => String(v.source ?? "").replace(suite.server.origin, "");

engineSuites("csp", (suite) => {
  for (const trustedTypes of [true, false]) {
    const what = trustedTypes ? "with require-trusted-types-for 'script'" : "without Trusted Types";
    test(`a strict CSP (${what}) plus 'wasm-unsafe-eval': the package causes no violation, the README example is stored`, { timeout: TEST_TIMEOUT }, async (t) => {
      const { collector } = suite;
      const key = suite.newProjectKey();
      const csp = policy({ collectorOrigin: new URL(collector.url).origin, trustedTypes });
      t.diagnostic(`Content-Security-Policy: ${csp}`);
      const page = await loadWithPolicy(suite, t, csp, trustedTypes ? "csp-strict-tt" : "csp-strict");
      // An engine without Trusted Types ignores the directive: there the page is as without it.
      const enforced = trustedTypes && (await hasTrustedTypes(page));
      t.diagnostic(`${suite.engine}: Trusted Types ${trustedTypes ? (enforced ? "enforced" : "not supported, the directive is ignored") : "not asked for"}`);

      // The policy is in force: eval and the inline script were refused, and reported.
      const probe = await page.evaluate(() => ({ ...window.__cspProbe, ran: window.__inline === true }));
      assert.deepEqual(
        probe,
        { eval: "EvalError", inline: enforced ? "TypeError" : "appended", ran: false },
        "the policy refuses eval and inline scripts",
      );
      // With Trusted Types, eval and the script's text are refused as Trusted Types sinks first.
      const expectedProbeViolations = enforced
        ? [
            { directive: "require-trusted-types-for", blocked: "trusted-types-sink" },
            { directive: "require-trusted-types-for", blocked: "trusted-types-sink" },
          ]
        : [
            { directive: "script-src", blocked: "eval" },
            { directive: "script-src-elem", blocked: "inline" },
          ];

      const ids = await runReadmeExample(page, { key, apiUrl: collector.url });
      assert.equal(ids.userId, "user123");
      const events = await collector.waitForEvents(key, 3);
      assertReadmeEvents(events, { ids, runtime: `lunary-wasm/${pkgVersion()}` });
      // And the page's life beyond one flush: a thread event, logs, a reload-free second batch.
      await page.evaluate(async () => {
        const thread = lunary.openThread({ tags: ["csp"] });
        thread.trackMessage({ role: "user", content: "second batch" });
        thread.trackEvent("csp-check", { ok: true });
        lunary.info("a log line");
        await lunary.flush();
      });
      await collector.waitForEvents(key, 6);
      const stats = await page.evaluate(() => lunary.stats());
      assert.equal(stats.delivered, 6);
      assert.equal(stats.dropped.total, 0);

      const seen = await violations(page);
      t.diagnostic(`${suite.engine}: violations: ${JSON.stringify(await allViolations(page))}`);
      assert.deepEqual(
        seen.map(({ directive, blocked }) => ({ directive, blocked })),
        expectedProbeViolations,
        "no securitypolicyviolation but the probes' own",
      );
      assert.ok(seen.every((v) => /-before\.js$/.test(sourcePath(suite, v))), "…which came from the probe's file");
      const problems = await page.problems();
      assert.deepEqual(problems.pageErrors, []);
      assert.deepEqual(problems.consoleErrors, [], "no console error from the package");
      assert.deepEqual(problems.warnings.filter((w) => /lunary/.test(w)), [], "no warning from the package");
      assert.equal((await page.ingests()).length, stats.requests, "the ingest fetches went through the page's fetch (the probe saw each)");
    });
  }

  test("control: the same policy without 'wasm-unsafe-eval' blocks the module; the package falls back to its no-op and the app keeps working", { timeout: TEST_TIMEOUT }, async (t) => {
    const { collector } = suite;
    const key = suite.newProjectKey();
    const page = await loadWithPolicy(suite, t, policy({ collectorOrigin: new URL(collector.url).origin, wasm: false }), "csp-no-wasm");
    await sleep(100);
    const seen = await violations(page);
    t.diagnostic(`${suite.engine}: violations: ${JSON.stringify(await allViolations(page))}`);
    const theirs = seen.filter((v) => !/-before\.js$/.test(sourcePath(suite, v)));
    // WebKitGTK refuses the compilation (the CompileError below names the policy) but fires
    // no securitypolicyviolation event for it; Chromium and Firefox report it.
    assert.deepEqual(
      theirs.map((v) => ({ directive: v.directive, blocked: v.blocked, source: sourcePath(suite, v) })),
      suite.engine === "webkit" ? [] : [{ directive: "script-src", blocked: "wasm-eval", source: "/pkg/lunary_wasm.js" }],
      "the glue's WebAssembly compilation, refused and reported as a script-src violation (the only one besides the probes')",
    );
    const before = await page.problems();
    const why = before.warnings.filter((w) => w.startsWith("lunary-wasm: the WebAssembly module did not load; tracking is off."));
    t.diagnostic(`${suite.engine}: ${JSON.stringify(why)}`);
    assert.equal(why.length, 1, `the package says why, once: ${JSON.stringify(before.warnings)}`);
    assert.match(why[0], /CompileError/, "the reason: the compilation was refused");
    assert.match(why[0], /unsafe-eval|Content Security Policy|CSP/, "…by the policy");

    // Every call is a no-op that does not throw; openThread still gives threads and ids.
    const result = await page.evaluate(
      async ({ key, apiUrl }) => {
        const out = {};
        lunary.init({ appId: key, apiUrl });
        lunary.identify("user123", { name: "John" });
        const thread = lunary.openThread({ userId: "user123", tags: ["support"] });
        const { trackMessage, trackEvent } = thread;
        out.threadId = thread.id;
        out.messageId = trackMessage({ role: "user", content: "Hello" });
        out.ownId = thread.trackMessage({ role: "user", content: "x", id: "my-id" });
        trackEvent("e", {});
        lunary.trackFeedback(out.messageId, { thumb: "up" });
        lunary.trackEvent("custom", "custom-event", {});
        lunary.info("x");
        lunary.warn("x");
        lunary.error("x");
        lunary.optOut();
        lunary.optIn();
        lunary.reset();
        out.threadFromId = lunary.openThread("given-id").id;
        out.flush = await Promise.race([lunary.flush().then(() => "resolved"), new Promise((r) => setTimeout(() => r("pending"), 2_000))]);
        out.userId = lunary.getUserId() ?? null;
        out.stats = lunary.stats() ?? null;
        return out;
      },
      { key, apiUrl: collector.url },
    );
    assert.match(result.threadId, /^[0-9a-f-]{36}$/, "openThread() gives a thread with an id");
    assert.match(result.messageId, /^[0-9a-f-]{36}$/, "trackMessage() gives an id");
    assert.equal(result.ownId, "my-id", "a message's own id is kept");
    assert.equal(result.threadFromId, "given-id");
    assert.equal(result.flush, "resolved", "flush() resolves");
    assert.equal(result.userId, null, "getUserId() is undefined");
    assert.equal(result.stats, null, "stats() is undefined");
    await sleep(500);
    assert.deepEqual(await collector.events(key), [], "nothing was sent");
    assert.deepEqual(await page.ingests(), [], "the page made no ingest fetch");
    const problems = await page.problems();
    assert.deepEqual(problems.pageErrors, [], "nothing reached the page as an error");
    assert.deepEqual(problems.consoleErrors, [], `nothing logged as an error by the page's scripts: ${JSON.stringify(problems.consoleErrors)}`);
    assert.equal(problems.warnings.filter((w) => w.startsWith("lunary-wasm: the WebAssembly module did not load")).length, 1, "one warning");
  });
});

// What a CSP without 'unsafe-eval' blocks, looked for in the text of every .js file
// shipped in pkg/ (comments included: a false positive there would only ask for a look):
//   `eval`           any reference to eval, a call or an alias (`(0, eval)(…)`), but not
//                    a longer name (`evaluate`, `myeval`), a member (`.eval`) or the CSP
//                    keyword `'wasm-unsafe-eval'` in a comment;
//   `new Function`   the Function constructor (not `instanceof Function`, not `Function.prototype`);
//   `Function(`      the Function constructor called without `new` (not a longer name such
//                    as `isLikeFunction(`, not a method `.Function(`);
//   `.constructor(`  reaching Function through a function's constructor, with any argument;
//   `setTimeout("…")`/`setInterval("…")` a string (or template) as the handler.
// `setTimeout(` with a non-literal argument cannot be judged from the text: the glue's one
// call forwards what Rust passes, and the Rust side declares that argument a
// `js_sys::Function` (checked below in src/browser/timer.rs); the CSP tests above would
// catch a string handler at run time too.
const FORBIDDEN = [
  ["eval", /(?<![\w$.\-])eval(?![\w$\-])/g],
  ["new Function", /\bnew\s+Function\b/g],
  ["Function(", /(?<![\w$.])Function\s*\(/g],
  [".constructor(", /\.constructor\s*\(/g],
  ['setTimeout/setInterval("…")', /\bset(?:Timeout|Interval)\s*\(\s*["'`]/g],
];

test("the shipped JavaScript holds no eval, no Function constructor, no string timer", { timeout: TEST_TIMEOUT }, async () => {
  const files = (await readdir(pkgDir)).filter((f) => f.endsWith(".js"));
  assert.deepEqual(files.sort(), ["index.js", "lunary_wasm.js"], "the package's .js files");
  const found = [];
  for (const file of files) {
    const text = await readFile(resolve(pkgDir, file), "utf8");
    for (const [name, pattern] of FORBIDDEN) {
      for (const match of text.matchAll(pattern)) {
        const line = text.slice(0, match.index).split("\n").length;
        found.push(`${file}:${line}: ${name}: ${text.split("\n")[line - 1].trim()}`);
      }
    }
    // Every timer call's first argument is an identifier, never a literal.
    for (const match of text.matchAll(/\bset(?:Timeout|Interval)\s*\(\s*([^,)]*)/g)) {
      if (!/^[A-Za-z_$][\w$]*$/.test(match[1].trim())) found.push(`${file}: timer with handler ${match[1]}`);
    }
  }
  assert.deepEqual(found, [], "none of the constructs 'unsafe-eval' would be needed for");

  // The patterns do find what they are meant to find.
  const samples = ["eval('1')", "(0, eval)(s)", "new Function('return 1')", "Function('x')", "f.constructor('code')", 'setTimeout("tick()", 5)', "setInterval(`x`)"];
  for (const sample of samples) {
    assert.ok(FORBIDDEN.some(([, p]) => new RegExp(p.source).test(sample)), `a pattern matches ${sample}`);
  }
  for (const harmless of ["x instanceof Function", "isLikeFunction(x)", "obj.eval(1)", "Function.prototype.call", "setTimeout(arg0, arg1)"]) {
    assert.ok(!FORBIDDEN.some(([, p]) => new RegExp(p.source).test(harmless)), `no pattern matches ${harmless}`);
  }

  // The glue's timer import forwards a Function, as the Rust side declares it.
  const timer = await readFile(resolve(repoRoot, "src/browser/timer.rs"), "utf8");
  assert.match(timer, /js_name = setTimeout\)\]\s*fn set_timeout\(handler: &js_sys::Function,/, "setTimeout is imported with a Function handler");
});
