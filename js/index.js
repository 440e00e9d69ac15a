// The package entry: loads the WebAssembly module once (top-level await), so every call
// made after `import` — even on the very next line — goes to a ready module, in order.
// If the module cannot load (a CSP without 'wasm-unsafe-eval', a network error), the app
// keeps working: every call becomes a no-op and one warning says why.
import load, * as wasm from "./lunary_wasm.js";

let loaded = false;
try {
  await load();
  loaded = true;
} catch (reason) {
  console.warn("lunary-wasm: the WebAssembly module did not load; tracking is off.", reason);
}

const noop = () => {};
/** A UUID v4 (`crypto.randomUUID` exists only in secure contexts; `getRandomValues` everywhere). */
function newId() {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  if (typeof crypto?.getRandomValues !== "function") return "";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// wasm-bindgen methods live on the prototype and need `this`; lunary-js threads are
// used destructured (`const { trackMessage } = thread`), so bind them on the instance.
function bindThread(thread) {
  thread.trackMessage = thread.trackMessage.bind(thread);
  thread.trackEvent = thread.trackEvent.bind(thread);
  return thread;
}

function offlineThread(idOrOptions) {
  const id = (typeof idOrOptions === "string" ? idOrOptions : idOrOptions?.id) || newId();
  return { id, trackMessage: (message) => message?.id || newId(), trackEvent: noop };
}

export const init = loaded ? wasm.init : noop;
export const identify = loaded ? wasm.identify : noop;
export const reset = loaded ? wasm.reset : noop;
export const getUserId = loaded ? wasm.getUserId : () => undefined;
export const optOut = loaded ? wasm.optOut : noop;
export const optIn = loaded ? wasm.optIn : noop;
export const openThread = loaded ? (idOrOptions) => bindThread(wasm.openThread(idOrOptions)) : offlineThread;
export const trackFeedback = loaded ? wasm.trackFeedback : noop;
export const trackEvent = loaded ? wasm.trackEvent : noop;
export const info = loaded ? wasm.info : noop;
export const warn = loaded ? wasm.warn : noop;
export const error = loaded ? wasm.error : noop;
export const flush = loaded ? wasm.flush : () => Promise.resolve();
export const stats = loaded ? wasm.stats : () => undefined;

const lunary = { init, identify, reset, getUserId, optOut, optIn, openThread, trackFeedback, trackEvent, info, warn, error, flush, stats };
export default lunary;
