// The "assistant": canned answers picked by keyword. There is no model behind this demo;
// what matters is that every message and every piece of feedback is tracked.

const TOPICS = [
  {
    match: /\b(hi|hello|hey|good (morning|afternoon|evening))\b/i,
    answer: (name) =>
      `Hi ${name}! I'm the Acme assistant. Ask me about plans and pricing, exporting your data, or report a bug.`,
  },
  {
    match: /\b(price|pricing|cost|plan|plans|billing|invoice|pay)\b/i,
    answer: () =>
      "There are three plans: Free (up to 3 projects), Pro at $20 per seat and month, and Team with SSO and audit logs. You can switch plans any time under Settings → Billing; the change is prorated.",
  },
  {
    match: /\b(export|download|csv|backup|data)\b/i,
    answer: () =>
      "You can export everything as CSV or JSON from Settings → Data → Export. Large exports are prepared in the background and we email you a link when they are ready.",
  },
  {
    match: /\b(bug|error|broken|crash|fail|failing|wrong)\b/i,
    answer: () =>
      "Sorry about that! Could you tell me what you clicked just before it happened? In the meantime, reloading the page usually clears a stuck state.",
  },
  {
    match: /\b(thanks|thank you|thx|great|perfect)\b/i,
    answer: (name) =>
      `You're welcome, ${name}! If that helped, a thumbs-up on the answer tells the team. Anything else?`,
  },
];

const FALLBACKS = [
  (quote) => `Good question. About “${quote}”: the short answer is yes, and the help center has a step-by-step guide.`,
  (quote) => `I looked into “${quote}”. That is something a human colleague knows best, so I've flagged this conversation for them.`,
  (quote) => `Noted: “${quote}”. Is there a specific screen or setting this is about?`,
];

/**
 * The canned reply to `text`.
 * @param {string} text what the user wrote
 * @param {{ name: string, turn: number }} context the user's first name and the number of
 *   answers given so far in this conversation
 */
export function cannedReply(text, { name, turn }) {
  const topic = TOPICS.find((t) => t.match.test(text));
  if (topic) return topic.answer(name);
  const oneLine = text.replace(/\s+/g, " ").trim();
  const quote = oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
  return FALLBACKS[turn % FALLBACKS.length](quote);
}

/** How long the assistant "types" before answering, in ms. */
export function replyDelay(text) {
  return 600 + Math.min(600, text.length * 8) + Math.floor(Math.random() * 300);
}
