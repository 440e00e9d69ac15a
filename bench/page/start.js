// Start: from import() of the SDK to its first event queued, in a fresh page. For
// lunary-wasm, import() resolves once the wasm is fetched and instantiated (the entry's
// top-level await); then init, openThread and the first trackMessage. ?sdk=&appId=&apiUrl=
import { SDK_URLS } from "./sdks.js";

const q = new URLSearchParams(location.search);
try {
  const t0 = performance.now();
  const sdk = (await import(SDK_URLS[q.get("sdk")])).default;
  const t1 = performance.now();
  sdk.init({ appId: q.get("appId"), apiUrl: q.get("apiUrl") });
  sdk.openThread({ tags: ["bench"] }).trackMessage({ role: "user", content: "Hello" });
  const t2 = performance.now();
  window.__start = { importMs: t1 - t0, firstEventMs: t2 - t1, totalMs: t2 - t0 };
  window.__ready = true;
} catch (err) {
  window.__failed = String(err?.stack || err);
}
