// The public API of lunary-wasm. The option, message and feedback types are generated
// from src/api/types.rs into lunary_wasm.d.ts; the signatures are lunary-js's.
import type { DeliveryStats, Feedback, InitOptions, Message, ThreadOptions, UserProps } from "./lunary_wasm.js";

export type {
  DeliveryReport,
  DeliveryStats,
  Feedback,
  InitOptions,
  Message,
  ThreadOptions,
  UserProps,
} from "./lunary_wasm.js";

/** A conversation: its messages share a parent run, tags and (optionally) a user. */
export interface Thread {
  /** The thread id: the `parentRunId` of its messages. */
  readonly id: string;
  /** Tracks a message; returns its id, which `trackFeedback` must name. */
  trackMessage(message: Message): string;
  /** Tracks a named event in this thread. */
  trackEvent(name: string, metadata?: Record<string, unknown>): void;
}

/** Sets the project key (`appId` or `publicKey`), `apiUrl` and batching options. */
export declare function init(options: InitOptions): void;
/** Sets the user every later event names; kept in storage across reloads. */
export declare function identify(userId: string, userProps?: UserProps): void;
/** Forgets the identified user (log out). */
export declare function reset(): void;
/** The identified user's id, if any. */
export declare function getUserId(): string | undefined;
/** Stops tracking this user (nothing stored or sent, the queue cleared) until `optIn()`; kept across reloads. */
export declare function optOut(): void;
/** Undoes `optOut()`. */
export declare function optIn(): void;
/** Opens a thread: a new one, or one resumed by id, optionally with its own user and tags. */
export declare function openThread(idOrOptions?: string | ThreadOptions): Thread;
/** Feedback on a message (the id `trackMessage` returned) or a run. */
export declare function trackFeedback(runId: string, feedback: Feedback, overwrite?: boolean): void;
/** Any other run event; `data`'s fields are sent with it. */
export declare function trackEvent(type: string | null, event: string, data?: Record<string, unknown>): void;
/** A log line, attached to the latest opened thread. */
export declare function info(message: string, extra?: unknown): void;
/** A warning log line. */
export declare function warn(message: string, extra?: unknown): void;
/** An error log line; an `Error` may be passed alone. */
export declare function error(message: string | Error, extra?: unknown): void;
/** Resolves once everything tracked before the call is delivered or dropped. Never rejects. */
export declare function flush(): Promise<void>;
/** Delivery counters (`undefined` if the WebAssembly module did not load). */
export declare function stats(): DeliveryStats | undefined;

declare const lunary: {
  init: typeof init;
  identify: typeof identify;
  reset: typeof reset;
  getUserId: typeof getUserId;
  optOut: typeof optOut;
  optIn: typeof optIn;
  openThread: typeof openThread;
  trackFeedback: typeof trackFeedback;
  trackEvent: typeof trackEvent;
  info: typeof info;
  warn: typeof warn;
  error: typeof error;
  flush: typeof flush;
  stats: typeof stats;
};
export default lunary;
