// Reads a field of an object the app passed in. One import for every field the SDK reads,
// named by its index in FIELDS (the order of `Field` in src/api/fields.rs), so no key
// string crosses into JS per call. A getter or a Proxy may throw: the Rust side catches.
const FIELDS = ["appId", "publicKey", "apiUrl", "verbose", "maxBatchSize", "flushIntervalMs",
  "maxQueueSize", "maxEventBytes", "maxQueueBytes", "retryBaseMs", "retryMaxMs",
  "respectDoNotTrack", "onError", "id", "userId", "userProps", "tags", "role", "content",
  "feedback", "message", "stack", "toJSON"];

export function field(object, index) {
  return object[FIELDS[index]];
}
