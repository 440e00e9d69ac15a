//! The TypeScript types of the objects the API takes, emitted into the package's `.d.ts`
//! next to the functions that take them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Options for `init`. */
export interface InitOptions {
  /** The project's public key (a UUID). `publicKey` is the newer name for the same thing. */
  appId?: string;
  publicKey?: string;
  /** Where to send events; default `https://api.lunary.ai`. */
  apiUrl?: string;
  /** Log every event and request to the console. */
  verbose?: boolean;
  /** Send at once when this many events are queued (default 20). */
  maxBatchSize?: number;
  /** Otherwise send after this many milliseconds without a new event (default 500). */
  flushIntervalMs?: number;
  /** Keep at most this many unsent events; past it the oldest are dropped (default 10000). */
  maxQueueSize?: number;
  /** …and at most this many bytes of them (default 8 MiB; the oldest 2 MiB are also written to storage). */
  maxQueueBytes?: number;
  /** An event larger than this (its JSON, in bytes) is dropped as `tooLarge` when tracked (default 1 MiB). */
  maxEventBytes?: number;
  /** The ceiling of the first wait after a failed request (default 1000 ms); it doubles per failure. */
  retryBaseMs?: number;
  /** The longest wait between attempts (default 60000 ms). */
  retryMaxMs?: number;
  /** Track nothing when the browser sends Do Not Track or Global Privacy Control. */
  respectDoNotTrack?: boolean;
  /** Called for every dropped event and every failed request. What it throws is ignored. */
  onError?: (report: DeliveryReport) => void;
}

/** What `onError` is told. */
export interface DeliveryReport {
  /** `dropped`: events that will never be delivered; `retry`: a request failed and will be tried again. */
  type: "dropped" | "retry";
  /** For `dropped`: `queueFull`, `status`, `refused`, `tooLarge` or `optedOut`; for `retry`: `network` or `status`. */
  reason: string;
  /** How many events. */
  count: number;
  message: string;
  /** The HTTP status, when there was one. */
  status?: number;
}

/** What `stats()` returns: every tracked event is delivered, queued, or dropped for a reason. */
export interface DeliveryStats {
  /** Events tracked on this page. */
  tracked: number;
  /** Events taken over from an earlier page or a closed tab. */
  restored: number;
  /** Events the server stored. */
  delivered: number;
  /** Events waiting (including those in flight). */
  queued: number;
  /** Events put back after a failed request, once per attempt. */
  retried: number;
  /** Requests made. */
  requests: number;
  dropped: { total: number; queueFull: number; status: number; refused: number; tooLarge: number; optedOut: number };
  /** Where the user and the queue are kept: `localStorage`, `sessionStorage` or `memory`. */
  storage: string;
  /** How many times storage had to fall back. */
  storageFallbacks: number;
  /** Saved queue lines thrown away because they were not events. */
  discarded: number;
}

/** A user's properties: the recommended ones, and any others. */
export interface UserProps {
  name?: string;
  email?: string;
  avatar?: string;
  group?: string;
  [key: string]: unknown;
}

/** Feedback on a message or run. */
export interface Feedback {
  thumb?: "up" | "down" | null;
  comment?: string | null;
  [key: string]: unknown;
}

/** A chat message, as given to `thread.trackMessage`. */
export interface Message {
  role: "user" | "assistant" | "system" | "tool" | (string & {});
  content?: string | null | unknown[];
  /** Your own id for the message; a new UUID is used otherwise. */
  id?: string;
  isRetry?: boolean;
  tags?: string[];
  extra?: Record<string, unknown>;
  feedback?: Feedback | null;
  [key: string]: unknown;
}

/** Options for `openThread`. */
export interface ThreadOptions {
  /** Resume a thread by its id; a new UUID is used otherwise. */
  id?: string;
  /** The user of this thread's messages, whatever `identify` says. */
  userId?: string;
  userProps?: UserProps;
  tags?: string[];
}
"#;
