// The network both SDKs talk to: target/debug/lunary-collector on a free port, events kept
// in memory. It is the repository's stand-in for the Lunary server (same answers, CORS,
// per-project counters), so both SDKs see a real ingest endpoint.
import { spawn } from "node:child_process";
import { collectorBin } from "./paths.mjs";

const LISTENING = /^lunary-collector listening on (http:\/\/\S+)/m;

export async function startCollector() {
  const child = spawn(collectorBin, ["--port", "0", "--db", ":memory:"], { stdio: ["ignore", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  const url = await new Promise((resolveUrl, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${stderr}`)), 10_000);
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      const match = LISTENING.exec((stdout += chunk));
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once("error", (err) => reject(new Error(`${collectorBin}: ${err.message} (cargo build -p lunary-collector)`)));
    child.once("exit", (code) => reject(new Error(`collector exited (${code}):\n${stderr}`)));
  });
  return {
    url,
    /** The collector's counters for one project: {requests, received, stored, rejected, …}. */
    async stats(project) {
      const res = await fetch(`${url}/api/stats?project=${encodeURIComponent(project)}`);
      if (!res.ok) throw new Error(`collector /api/stats: ${res.status}`);
      return res.json();
    },
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
