// Every export of lunary-wasm, used as an app would use it, under `tsc --strict --noEmit`.
// Each `@ts-expect-error` line is a call the types must refuse: if a type widened to `any`
// (or lost a required field) that line would compile, and tsc fails on the unused directive.
import lunary, {
  error,
  flush,
  getUserId,
  identify,
  info,
  init,
  openThread,
  optIn,
  optOut,
  reset,
  stats,
  trackEvent,
  trackFeedback,
  warn,
} from "lunary-wasm";
import * as named from "lunary-wasm";
import type {
  DeliveryReport,
  DeliveryStats,
  Feedback,
  InitOptions,
  Message,
  Thread,
  ThreadOptions,
  UserProps,
} from "lunary-wasm";

// ---------------------------------------------------------------- no export is `any`, none is forgotten

type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T> = IsAny<T> extends true ? "is any" : true;

const exportsAreTyped: { [K in keyof typeof named]: NotAny<(typeof named)[K]> } = {
  default: true,
  init: true,
  identify: true,
  reset: true,
  getUserId: true,
  optOut: true,
  optIn: true,
  openThread: true,
  trackFeedback: true,
  trackEvent: true,
  info: true,
  warn: true,
  error: true,
  flush: true,
  stats: true,
};
const defaultIsTyped: { [K in keyof typeof lunary]: NotAny<(typeof lunary)[K]> } = {
  init: true,
  identify: true,
  reset: true,
  getUserId: true,
  optOut: true,
  optIn: true,
  openThread: true,
  trackFeedback: true,
  trackEvent: true,
  info: true,
  warn: true,
  error: true,
  flush: true,
  stats: true,
};
const typesAreTyped: [
  NotAny<DeliveryReport>,
  NotAny<DeliveryStats>,
  NotAny<Feedback>,
  NotAny<InitOptions>,
  NotAny<Message>,
  NotAny<Thread>,
  NotAny<ThreadOptions>,
  NotAny<UserProps>,
  NotAny<Parameters<typeof init>[0]>,
  NotAny<Parameters<typeof identify>[1]>,
  NotAny<Parameters<typeof trackFeedback>[1]>,
  NotAny<ReturnType<typeof openThread>>,
  NotAny<ReturnType<Thread["trackMessage"]>>,
  NotAny<ReturnType<typeof stats>>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];

// A new export must be added above (and used below): this names any that is not.
type Covered = keyof typeof exportsAreTyped;
type Uncovered = Exclude<keyof typeof named, Covered>;
const everyExportCovered: [Uncovered] extends [never] ? true : Uncovered = true;

// ---------------------------------------------------------------- the calls, as documented

const reports: DeliveryReport[] = [];
const options: InitOptions = {
  appId: "0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21",
  apiUrl: "https://api.lunary.ai",
  verbose: false,
  maxBatchSize: 20,
  flushIntervalMs: 500,
  maxQueueSize: 1000,
  maxQueueBytes: 1 << 20,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  respectDoNotTrack: true,
  onError: (report) => {
    const kind: "dropped" | "retry" = report.type;
    const status: number | undefined = report.status;
    reports.push({ ...report, message: `${kind} ${report.reason} ×${report.count} ${status ?? ""}` });
  },
};
init(options);
lunary.init({ publicKey: "0b3a4e7c-1f2d-4c5b-9a8e-7d6c5b4a3f21" });

const props: UserProps = { name: "John", email: "john@example.org", avatar: "https://example.org/j.png", group: "acme", plan: "pro" };
identify("user123", props);
lunary.identify("user123");
const who: string | undefined = getUserId();
if (who !== undefined) who.toUpperCase();

const threadOptions: ThreadOptions = { userId: "user123", userProps: { name: "John" }, tags: ["support"] };
const thread: Thread = openThread(threadOptions);
const resumed: Thread = lunary.openThread(thread.id);
const fresh: Thread = openThread();
const threadId: string = thread.id;

const question: Message = { role: "user", content: "Hello" };
const q: string = thread.trackMessage(question);
const a: string = resumed.trackMessage({ role: "assistant", content: "Hi John, how can I help?", tags: ["greeting"], extra: { model: "demo" } });
const { trackMessage, trackEvent: threadEvent } = fresh; // destructured methods keep working
trackMessage({ role: "tool", content: null, id: "my-own-id", isRetry: false });
threadEvent("opened");
thread.trackEvent("rated", { stars: 5 });

const feedback: Feedback = { thumb: "up", comment: "great" };
trackFeedback(a, feedback);
lunary.trackFeedback(q, { thumb: null, comment: null, custom: 1 }, true);

trackEvent("llm", "start", { runId: "r1", name: "gpt" });
trackEvent(null, "custom-event");
info("opened the chat");
warn("slow answer", { ms: 2400 });
error(new Error("boom"));
error("failed", { code: 42 });

optOut();
optIn();
reset();
lunary.reset();

async function delivery(): Promise<number> {
  await flush();
  await lunary.flush();
  const counters: DeliveryStats | undefined = stats();
  if (!counters) return 0;
  const storage: string = counters.storage;
  const dropped: number = counters.dropped.total + counters.dropped.queueFull + counters.dropped.status + counters.dropped.refused + counters.dropped.tooLarge + counters.dropped.optedOut;
  return counters.tracked + counters.restored + counters.delivered + counters.queued + counters.retried + counters.requests + counters.storageFallbacks + counters.discarded + dropped + storage.length;
}

// ---------------------------------------------------------------- what the types refuse

// @ts-expect-error userId must be a string
identify(42);
// @ts-expect-error userId is required
identify();
// @ts-expect-error a user's name is a string
identify("user123", { name: 5 });
// @ts-expect-error a message needs a role
thread.trackMessage({ content: "x" });
// @ts-expect-error role is a string
thread.trackMessage({ role: 5, content: "x" });
// @ts-expect-error feedback is an object, not a thumb
trackFeedback(a, "up");
// @ts-expect-error a thumb is "up" or "down"
trackFeedback(a, { thumb: "sideways" });
// @ts-expect-error the message id is a string
trackFeedback(42, { thumb: "up" });
// @ts-expect-error appId is a string
init({ appId: 5 });
// @ts-expect-error batching options are numbers
init({ appId: "k", maxBatchSize: "20" });
// @ts-expect-error onError is told a DeliveryReport
init({ appId: "k", onError: (report: number) => report });
// @ts-expect-error init needs its options
init();
// @ts-expect-error a thread id is a string
openThread(5);
// @ts-expect-error tags are an array of strings
openThread({ tags: "support" });
// @ts-expect-error a thread's id is read-only
thread.id = "another";
// @ts-expect-error getUserId() may be undefined
const mustBeString: string = getUserId();
// @ts-expect-error stats() may be undefined
const counted: number = stats().tracked;
// @ts-expect-error flush() resolves to nothing
const flushed: Promise<string> = flush();
// @ts-expect-error trackEvent needs the event name
trackEvent("llm");
// @ts-expect-error log messages are strings
info(42);
// @ts-expect-error reset takes no argument
reset("user123");
// @ts-expect-error no such function
lunary.track("x");

export { delivery, exportsAreTyped, defaultIsTyped, typesAreTyped, everyExportCovered, threadId, mustBeString, counted, flushed };
