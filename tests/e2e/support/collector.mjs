// Starts target/debug/lunary-collector on a free port with an in-memory store, and reads
// what it stored through its read API.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { collectorBin } from "./paths.mjs";

const LISTENING = /^lunary-collector listening on (http:\/\/\S+)/m;

/** A fresh project key: every test uses its own, so no test sees another's events. */
export const newProjectKey = () => randomUUID();

export async function startCollector({ startTimeoutMs = 10_000 } = {}) {
  const child = spawn(collectorBin, ["--port", "0", "--db", ":memory:", "--faults"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Never outlive the test process, even when a test file dies before its `after` hook.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));

  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`collector: no "listening" line after ${startTimeoutMs} ms\n${stderr}`));
    }, startTimeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`collector: could not start ${collectorBin}: ${err.message} (build it with cargo build -p lunary-collector)`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`collector exited early (code ${code}, signal ${signal})\n${stderr}`));
    });
  });

  async function getJson(path) {
    const res = await fetch(url + path, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }
  const q = (project) => (project ? `?project=${encodeURIComponent(project)}` : "");

  return {
    url,
    /** The events stored for a project, as received, in arrival order. */
    async events(project) {
      return (await getJson(`/api/events${q(project)}`)).events.map((row) => row.event);
    },
    async users(project) {
      return (await getJson(`/api/users${q(project)}`)).users;
    },
    async thread(id, project) {
      return getJson(`/api/threads/${encodeURIComponent(id)}${q(project)}`);
    },
    async stats(project) {
      return getJson(`/api/stats${q(project)}`);
    },
    /**
     * Polls until at least `count` events are stored for `project` (or the deadline
     * passes), then returns them all; a short settle lets late duplicates show up too.
     */
    async waitForEvents(project, count, { timeoutMs = 10_000, settleMs = 150 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let events = [];
      for (;;) {
        events = await this.events(project);
        if (events.length >= count) break;
        if (Date.now() > deadline) {
          throw new Error(`collector: ${events.length} of ${count} events for ${project} after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      if (settleMs > 0) {
        await new Promise((r) => setTimeout(r, settleMs));
        events = await this.events(project);
      }
      return events;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
