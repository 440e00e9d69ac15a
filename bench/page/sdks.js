// The two SDKs under the same names in every bench page, and how each is made to send
// everything it queued. Both are called the same way: lunary-wasm is a drop-in.
export const SDK_URLS = {
  wasm: "/pkg/index.js", // the npm package as built: entry, glue, wasm (top-level await)
  js: "/lunary-js/lunary-js.min.js", // lunary/browser bundled and minified by esbuild
};

export async function loadSdk(name) {
  return (await import(SDK_URLS[name])).default;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once everything `sdk` queued has been delivered: not timed, between segments. */
export async function settle(name, sdk) {
  // lunary-wasm's flush() waits for delivery.
  if (name === "wasm") return sdk.flush();
  // lunary-js's flush() starts a request but returns at once while one is in flight:
  // watch its queue (a public field) until it is empty and nothing is in flight.
  for (let i = 0; i < 6000; i++) {
    await sdk.flush();
    if (sdk.queue.length === 0 && !sdk.queueRunning) return;
    await sleep(5);
  }
  throw new Error("lunary-js did not empty its queue in 30 s");
}
