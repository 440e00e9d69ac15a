// What make bench runs, and how each workload maps to each SDK's calls (the calls are
// the same: lunary-wasm takes lunary-js's signatures). The bodies are in page/workloads.js.
export const SDKS = ["js", "wasm"];
export const SDK_LABEL = { js: "lunary-js", wasm: "lunary-wasm" };

export const PER_CALL = {
  rounds: 5, // measured rounds; which SDK goes first alternates
  warmupRounds: 1, // at a tenth of the iterations, not recorded: JIT and caches warm up
  chunk: 25, // iterations per performance.now() pair: a 5 µs step / 25 = 0.2 µs per call
  segment: 500, // iterations between untimed flushes (lunary-wasm keeps 1,000 events at most)
  workloads: [
    { name: "trackMessage", label: "thread.trackMessage", iterations: 10_000, calls: "thread.trackMessage({role, content})" },
    {
      name: "identifyEvent",
      label: "identify + trackEvent",
      iterations: 10_000,
      calls: 'identify("user123", props); trackEvent("thread", "custom-event", {runId, parentRunId, name, metadata})',
    },
    { name: "trackFeedback", label: "trackFeedback", iterations: 1_000, calls: "trackFeedback(messageId, {thumb, comment})" },
  ],
};

export const BURST = { events: 10_000, windowMs: 5_000 };

export const START = { pagesPerSdk: 7 }; // start times are noisy on shared cores: the median of 7
