// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the Overhead view, what the agent itself costs and whether
// it lost anything. It draws the pages of /metrics that ui.js reads (renderOverhead is
// called with each new one whether the view is shown or not, so that its chart holds the
// history since the page opened). Rates are over the agent's own clock
// (ksight_agent_uptime_seconds of both pages), not the browser's, whose polls drift.
"use strict";

const oh = { prev: null, before: null, text: "", series: [[], [], []], chart: null };

const one = (samples, name) => {
  const s = samples.find((x) => x.name === name);
  return s ? s.value : null;
};
const byLabel = (samples, name, label) => new Map(samples.filter((s) => s.name === name)
  .map((s) => [s.labels[label] || "", s.value]));

function cell(text, attrs) {
  return el("td", Object.assign({ class: "num" }, attrs || {}), text);
}

function renderOverhead(text, samples, now) {
  const up = one(samples, "ksight_agent_uptime_seconds");
  // a page that differs without a new interval (series the endpoint updates between
  // intervals): its rates are against the page before the interval's first one
  const again = oh.prev && up !== null && oh.prev.up === up;
  const prev = again ? oh.before : oh.prev;
  const dt = prev && up !== null && prev.up !== null ? up - prev.up : 0;
  const per = (v, p) => (dt > 0 && v !== null && p !== undefined && p !== null
    ? (v - p) / dt : null);

  const cpu = one(samples, "ksight_agent_cpu_seconds_total");
  const rss = one(samples, "ksight_agent_resident_bytes");
  const cpuPct = prev ? per(cpu, prev.cpu) : null;
  const set = (id, shown, value) => {
    const e = document.getElementById(id);
    e.textContent = shown;
    e.dataset.value = value === null ? "" : String(value);
  };
  set("oh-cpu", cpuPct === null ? "–" : (100 * cpuPct).toFixed(1) + " %",
    cpuPct === null ? null : 100 * cpuPct);
  set("oh-cpu-total", cpu === null ? "–" : fmt(cpu, 2) + " s", cpu);
  set("oh-rss", fmtBytes(rss), rss);
  const lostAll = sum(samples, "ksight_events_lost_total");
  set("oh-lost", String(lostAll), lostAll);
  document.getElementById("oh-lost").className = lostAll > 0 ? "lost" : "";

  // events and losses per type: the union of both families' types
  const ev = byLabel(samples, "ksight_events_total", "type");
  const lost = byLabel(samples, "ksight_events_lost_total", "type");
  const pev = prev ? prev.ev : new Map();
  const tb = document.querySelector("#oh-types tbody");
  tb.replaceChildren();
  for (const t of [...new Set([...ev.keys(), ...lost.keys()])].sort()) {
    const n = ev.get(t) ?? 0, l = lost.get(t) ?? 0;
    const r = per(ev.has(t) ? n : null, pev.get(t));
    tb.append(el("tr", { "data-type": t, "data-events": String(n), "data-lost": String(l),
      class: l > 0 ? "lost" : "" }, el("td", {}, t), cell(String(n)), cell(fmt(r)),
    cell(String(l))));
  }

  const recs = byLabel(samples, "ksight_sink_records_total", "sink");
  const drops = byLabel(samples, "ksight_sink_dropped_records_total", "sink");
  const sb = document.querySelector("#oh-sinks tbody");
  sb.replaceChildren();
  for (const k of [...new Set([...recs.keys(), ...drops.keys()])].sort()) {
    const d = drops.get(k) ?? 0;
    sb.append(el("tr", { "data-sink": k, "data-records": String(recs.get(k) ?? 0),
      "data-dropped": String(d), class: d > 0 ? "lost" : "" }, el("td", {}, k),
    cell(String(recs.get(k) ?? 0)), cell(String(d))));
  }

  // per-program cost: only while the kernel counts run time, else say how to get it
  const on = one(samples, "ksight_bpf_stats_enabled") > 0;
  const note = document.getElementById("oh-prog-note");
  note.dataset.bpfStats = on ? "on" : "off";
  note.textContent = on
    ? "The kernel counts each program's runs and run time: CPU % is run time over the " +
      "agent's clock between the last two pages, ns/run run time over runs."
    : "BPF statistics are off: run with --bpf-stats for each program's runs and run time.";
  const runs = samples.filter((s) => s.name === "ksight_bpf_prog_runs_total");
  const id = (s) => s.labels.module + "/" + s.labels.program;
  const secs = new Map(samples.filter((s) => s.name === "ksight_bpf_prog_run_seconds_total")
    .map((s) => [id(s), s.value]));
  const pb = document.querySelector("#oh-programs tbody");
  pb.replaceChildren();
  document.getElementById("oh-programs").hidden = !on;
  if (on) {
    for (const s of runs.sort((a, b) => id(a).localeCompare(id(b)))) {
      const dr = prev ? per(s.value, prev.runs.get(id(s))) : null;
      const ds = prev ? per(secs.get(id(s)) ?? 0, prev.secs.get(id(s))) : null;
      const ns = dr > 0 && ds !== null ? (ds / dr) * 1e9 : null;
      pb.append(el("tr", { "data-module": s.labels.module, "data-program": s.labels.program,
        "data-runs": String(s.value), "data-seconds": String(secs.get(id(s)) ?? 0) },
      el("td", {}, s.labels.module), el("td", {}, s.labels.program), cell(String(s.value)),
      cell(fmt(dr)), cell(fmt(secs.get(id(s)) ?? 0, 6)),
      cell(ds === null ? "–" : (100 * ds).toFixed(3) + " %"), cell(fmt(ns))));
    }
  }

  if (cpuPct !== null && rss !== null && !again) {
    oh.series[0].push(now / 1000);
    oh.series[1].push(100 * cpuPct);
    oh.series[2].push(rss / 1048576);
    if (oh.series[0].length > 300) for (const a of oh.series) a.shift();
    if (current === "overhead") drawOverhead();
  }
  oh.text = text;
  if (!again) oh.before = oh.prev;
  oh.prev = { up, cpu, ev, runs: new Map(runs.map((s) => [id(s), s.value])),
    secs: new Map(secs) };
  const st = document.getElementById("overhead-note");
  // the agent's own series come with its first interval's end (as the ring buffer's)
  if (cpu === null && one(samples, "ksight_ring_buffer_size_bytes") === null)
    setNote("overhead-note", "empty", "Waiting for the agent's first interval.");
  else if (cpu === null)
    setNote("overhead-note", "missing", "This agent's /metrics has no " +
      "ksight_agent_cpu_seconds_total: an older agent.");
  else if (st.dataset.state !== "ok")
    setNote("overhead-note", "ok", "What the agent costs and what it lost, from its " +
      "/metrics, refreshed each interval.");
}

function drawOverhead() {
  if (typeof uPlot === "undefined" || !oh.series[0].length) return;
  const box = document.getElementById("oh-chart");
  if (!oh.chart) {
    oh.chart = new uPlot({ width: Math.max(300, box.clientWidth || 600), height: 200,
      scales: { pct: {}, mib: {} },
      series: [{}, { label: "agent CPU %", stroke: "#23395d", width: 2, scale: "pct" },
        { label: "RSS MiB", stroke: "#b5651d", width: 2, scale: "mib" }],
      axes: [{}, { scale: "pct", size: 60 }, { scale: "mib", side: 1, size: 60 }] },
    oh.series, box);
  } else {
    oh.chart.setData(oh.series);
  }
}

VIEWS.overhead = { enter: drawOverhead, leave() {} };
