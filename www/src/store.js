// The app's own saved state, in localStorage, per project key. lunary-wasm keeps the
// identified user itself; the app keeps what an app keeps: the signed-in profile it shows,
// the current conversation's id and tags (to reopen it with openThread(id) after a reload),
// and the conversation's transcript (a real app would load that from its backend).

/** @param {string} appId */
export function appStore(appId) {
  const prefix = `lunary-demo:${appId}:`;

  function read(key) {
    try {
      const text = localStorage.getItem(prefix + key);
      return text === null ? null : JSON.parse(text);
    } catch {
      return null; // storage blocked or a damaged entry: start afresh
    }
  }
  function write(key, value) {
    try {
      if (value === null) localStorage.removeItem(prefix + key);
      else localStorage.setItem(prefix + key, JSON.stringify(value));
    } catch {
      // storage blocked or full: the demo keeps working, it just forgets on reload
    }
  }

  return {
    /** @returns {{userId: string, name: string, email?: string, avatar?: string, group?: string} | null} */
    profile: () => read("profile"),
    saveProfile: (profile) => write("profile", profile),
    /** @returns {{id: string, tags: string[], topic: string, startedAt: number} | null} */
    thread: () => read("thread"),
    saveThread: (thread) => write("thread", thread),
    /** @returns {Array<{id: string, role: string, content: string, at: number, feedback?: {thumb: "up" | "down" | null, comment?: string | null}}>} */
    transcript: (threadId) => {
      const saved = read(`transcript:${threadId}`);
      return Array.isArray(saved) ? saved : [];
    },
    saveTranscript: (threadId, messages) => write(`transcript:${threadId}`, messages),
    /** Forgets everything the app saved (log out). */
    clear() {
      const thread = read("thread");
      if (thread?.id) write(`transcript:${thread.id}`, null);
      write("thread", null);
      write("profile", null);
    },
  };
}
