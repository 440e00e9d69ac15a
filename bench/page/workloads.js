// The per-call workloads. `prepare` builds every argument beforehand (not timed), so the
// timed `run(from, to)` is only the SDK calls, the same calls for both SDKs.
const PROPS = { name: "John", email: "john@example.org" };

export const WORKLOADS = {
  // thread.trackMessage(message): alternately the user's and the assistant's.
  trackMessage: {
    prepare(sdk, n, memo) {
      const thread = sdk.openThread({ tags: ["bench"] });
      const messages = Array.from({ length: n }, (_, i) => ({
        role: i % 2 ? "assistant" : "user",
        content: i % 2 ? `Answer ${i}: open Settings, then Security.` : `Question ${i}: how do I reset my password?`,
      }));
      memo.messageIds = new Array(n);
      return { thread, messages, ids: memo.messageIds };
    },
    run(sdk, { thread, messages, ids }, from, to) {
      for (let i = from; i < to; i++) ids[i] = thread.trackMessage(messages[i]);
    },
  },

  // identify(userId, props) then trackEvent(type, event, data): the same signature in both
  // SDKs. The same user each time (an app re-identifying on each view); the event is a
  // thread custom event with its own runId, so neither SDK has to make one up and the
  // server accepts both SDKs' events.
  identifyEvent: {
    prepare(sdk, n) {
      const threadId = crypto.randomUUID();
      const runIds = Array.from({ length: n }, () => crypto.randomUUID());
      return { threadId, runIds };
    },
    run(sdk, { threadId, runIds }, from, to) {
      for (let i = from; i < to; i++) {
        sdk.identify("user123", PROPS);
        sdk.trackEvent("thread", "custom-event", {
          runId: runIds[i],
          parentRunId: threadId,
          name: "clicked_upgrade",
          metadata: { plan: "pro" },
        });
      }
    },
  },

  // trackFeedback(messageId, feedback) on the messages of this round's trackMessage run.
  trackFeedback: {
    prepare(sdk, n, memo) {
      const ids = Array.from({ length: n }, (_, i) => memo.messageIds?.[i] ?? crypto.randomUUID());
      const feedback = Array.from({ length: n }, (_, i) => ({ thumb: i % 3 ? "up" : "down", comment: `feedback ${i}` }));
      return { ids, feedback };
    },
    run(sdk, { ids, feedback }, from, to) {
      for (let i = from; i < to; i++) sdk.trackFeedback(ids[i], feedback[i]);
    },
  },
};
