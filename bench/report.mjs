// What a run leaves behind: the table on the terminal, bench/results.json (this run, in
// full), bench/history.jsonl (one line per run, for the trend) and bench/ratios.svg.
import { appendFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { benchDir } from "./paths.mjs";
import { PEERS_QUOTED } from "./size.mjs";
import { ratio } from "./stats.mjs";
import { ratiosSvg } from "./svg.mjs";

/** The ratios the chart and the history show; below 1 lunary-wasm does better. */
export function summaryRatios(r) {
  const byName = Object.fromEntries(r.perCall.workloads.map((w) => [w.name, w]));
  return [
    { key: "trackMessage", label: "trackMessage, median per call", ratio: byName.trackMessage?.ratioMedian },
    { key: "identifyEvent", label: "identify + trackEvent, median", ratio: byName.identifyEvent?.ratioMedian },
    { key: "trackFeedback", label: "trackFeedback, median per call", ratio: byName.trackFeedback?.ratioMedian },
    { key: "sizeGzip", label: "size, gzip -9 (all files)", ratio: r.size.ratioGzip },
    {
      key: "burstRequestsPer1000",
      label: "burst: requests per 1,000 sent",
      ratio: ratio(r.burst.sdks.wasm.requestsPer1000Sent, r.burst.sdks.js.requestsPer1000Sent),
    },
    { key: "start", label: "start: import → first event", ratio: r.start.ratio },
  ];
}

// ---- the table -------------------------------------------------------------------------

function table(head, rows) {
  const cells = [head, ...rows].map((row) => row.map((c) => String(c ?? "–")));
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const num = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "–");
const x = (r) => (Number.isFinite(r) ? `×${r >= 10 ? r.toFixed(1) : r.toFixed(2)}` : "–");

export function formatReport(r) {
  const out = [];
  const { size, perCall, burst, start } = r;
  out.push(`make bench — lunary-wasm ${r.versions.lunaryWasm} vs lunary-js ${r.versions.lunaryJs} (lunary/browser)`);
  out.push(`${r.date} · commit ${r.git.commit}${r.git.dirty ? " (working tree has uncommitted changes)" : ""} · ${r.versions.chromium} · node ${r.versions.node} · ${r.machine.cpus} cores, load ${r.machine.loadavg}`);
  out.push("");

  out.push("SIZE (bytes; gzip -9 and brotli q11 with node:zlib)");
  const sz = (label, s) => [label, int(s.raw), int(s.gzip), int(s.brotli)];
  out.push(
    table(
      ["file", "raw", "gzip", "brotli"],
      [
        ...Object.values(size.wasm.files).map((f) => sz(f.file, f)),
        sz("lunary-wasm, all files loaded", size.wasm.total),
        sz(`lunary-js: ${size.js.file}`, size.js),
        ["lunary-wasm / lunary-js", x(size.ratioRaw), x(size.ratioGzip), x(size.ratioBrotli)],
      ],
    ),
  );
  out.push(`(the files concatenated, as make pkg prints it: ${int(size.wasm.concatenatedGzip)} B gzip; issue 7's goal: ≤ 15,000)`);
  out.push(`Quoted in issue 7, not measured here (gzip): ${PEERS_QUOTED.map(([n, kb]) => `${n} ${kb} kB`).join(", ")}`);
  out.push("");

  out.push(`WHERE THE WASM'S BYTES GO — ${size.twiggy.source}`);
  out.push(table(["item (twiggy top -n 15)", "bytes", "%"], size.twiggy.rows.map((t) => [t.name.length > 78 ? t.name.slice(0, 77) + "…" : t.name, int(t.bytes), num(t.percent)])));
  if (size.twiggy.groups) {
    out.push("");
    out.push(table(["by origin (every item summed)", "bytes", "%"], size.twiggy.groups.map((g) => [g.group, int(g.bytes), num(g.percent)])));
  }
  out.push("");

  const t = perCall.timer;
  out.push(
    `PER CALL (ns per iteration: median and p95 over chunks of ${perCall.chunk} iterations, ${perCall.rounds} rounds after ${perCall.warmupRounds} warm-up; ` +
      `performance.now() step ${t.resolutionUs} µs, crossOriginIsolated ${t.crossOriginIsolated})`,
  );
  out.push(
    table(
      ["workload", "iterations", "js median", "js p95", "wasm median", "wasm p95", "ratio median", "ratio p95"],
      perCall.workloads.map((w) => [
        w.label,
        `${perCall.rounds}×${int(w.iterationsPerRound)}`,
        int(w.sdks.js.medianNs),
        int(w.sdks.js.p95Ns),
        int(w.sdks.wasm.medianNs),
        int(w.sdks.wasm.p95Ns),
        x(w.ratioMedian),
        x(w.ratioP95),
      ]),
    ),
  );
  const d = perCall.delivered;
  out.push(`events the collector received: lunary-js ${int(d.js.received)} (${int(d.js.requests)} requests), lunary-wasm ${int(d.wasm.received)} (${int(d.wasm.requests)} requests)`);
  out.push("");

  out.push(`BURST (${int(burst.events)} thread.trackMessage calls in one task, then ${burst.windowMs / 1000} s; a fresh page per SDK)`);
  const b = (name, s) => [
    name,
    num(s.taskMs),
    num(s.burstLongTaskMs, 0),
    `${s.longTasksAfter.count} / ${num(s.longTasksAfter.totalMs, 0)} / ${num(s.longTasksAfter.maxMs, 0)}`,
    int(s.requests),
    int(s.bytes),
    int(s.eventsSent),
    num(s.requestsPer1000Sent, 2),
    int(s.server.stored),
  ];
  out.push(
    table(
      ["sdk", "task ms", "its long task ms", "long tasks after: n / total / max ms", "requests", "bytes sent", "events sent", "req per 1,000", "stored"],
      [b("lunary-js", burst.sdks.js), b("lunary-wasm", burst.sdks.wasm)],
    ),
  );
  const ws = burst.sdks.wasm.sdkStats;
  if (ws) out.push(`lunary-wasm stats(): tracked ${int(ws.tracked)}, delivered ${int(ws.delivered)}, queued ${int(ws.queued)}, dropped ${int(ws.dropped?.total)} (queueFull ${int(ws.dropped?.queueFull)}), requests ${int(ws.requests)}`);
  out.push("");

  out.push(`START (import() → first event queued; median of ${start.pagesPerSdk} fresh pages each, cold cache)`);
  const s = (name, v) => [name, num(v.medianMs, 2), num(v.importMedianMs, 2), num(v.firstEventMedianMs, 2), v.samplesMs.map((m) => m.toFixed(1)).join(" ")];
  out.push(table(["sdk", "total ms", "import ms", "first event ms", "samples ms"], [s("lunary-js", start.sdks.js), s("lunary-wasm", start.sdks.wasm)]));
  out.push("");

  out.push("RATIOS lunary-wasm / lunary-js (below 1: lunary-wasm does better)");
  out.push(table(["", "ratio"], summaryRatios(r).map((s) => [s.label, x(s.ratio)])));
  out.push("");
  out.push(`make bench's measuring took ${num(r.durationS, 0)} s; written: bench/results.json, bench/ratios.svg, a line in bench/history.jsonl`);
  return out.join("\n");
}

// ---- the files -------------------------------------------------------------------------

export function writeOutputs(r) {
  writeFileSync(resolve(benchDir, "results.json"), JSON.stringify(r, null, 2) + "\n");
  const ratios = summaryRatios(r);
  writeFileSync(
    resolve(benchDir, "ratios.svg"),
    ratiosSvg(ratios, {
      title: "lunary-wasm ÷ lunary-js (make bench)",
      subtitle: `${r.date.slice(0, 16).replace("T", " ")} UTC · commit ${r.git.commit} · ${r.versions.chromium}`,
    }),
  );
  const round = (v) => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null);
  const w = Object.fromEntries(r.perCall.workloads.map((wl) => [wl.name, { js: round(wl.sdks.js.medianNs), wasm: round(wl.sdks.wasm.medianNs) }]));
  const line = {
    date: r.date,
    commit: r.git.commit,
    dirty: r.git.dirty,
    gzip: { wasm: r.size.wasm.total.gzip, js: r.size.js.gzip },
    medianNs: w,
    burst: {
      requests: { js: r.burst.sdks.js.requests, wasm: r.burst.sdks.wasm.requests },
      eventsSent: { js: r.burst.sdks.js.eventsSent, wasm: r.burst.sdks.wasm.eventsSent },
      longTasksAfter: { js: r.burst.sdks.js.longTasksAfter.count, wasm: r.burst.sdks.wasm.longTasksAfter.count },
    },
    startMs: { js: round(r.start.sdks.js.medianMs), wasm: round(r.start.sdks.wasm.medianMs) },
    ratios: Object.fromEntries(ratios.map((s) => [s.key, round(s.ratio)])),
  };
  appendFileSync(resolve(benchDir, "history.jsonl"), JSON.stringify(line) + "\n");
}
