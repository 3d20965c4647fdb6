// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the Overview and the navigation between the views. The
// Overview reads the agent's /metrics (Prometheus text) every second and computes rates
// between two pages that differ (the agent renders one per interval). The other views
// are in their own files (map.js, service.js, diff.js, events.js, alerts.js, overhead.js
// which draws the same pages), each
// registered in VIEWS; common.js has what they share.
"use strict";

const LOSS_METRICS = [
  "ksight_events_lost_total", "ksight_sink_dropped_records_total",
  "ksight_record_values_dropped_total", "ksight_malformed_records_total",
  "ksight_bpf_prog_missed_runs_total", "ksight_ident_loads_refused_total",
  "ksight_metric_budget_hits_total",
];

// --- Overview ---------------------------------------------------------------------------
const ov = { lastText: null, prev: null, series: [[], []], chart: null };

function labelText(labels) {
  return Object.entries(labels).map(([k, v]) => k + "=" + v).join(", ");
}

function renderOverview(samples, now) {
  const prev = ov.prev;
  const prevMap = new Map(prev ? prev.samples.map((s) => [key(s), s.value]) : []);
  const dt = prev ? (now - prev.t) / 1000 : 0;
  const delta = (s) => (prev && prevMap.has(key(s)) ? s.value - prevMap.get(key(s)) : null);

  const events = sum(samples, "ksight_events_total");
  const evEl = document.getElementById("events-total");
  evEl.textContent = String(events);
  evEl.dataset.value = String(events);
  const rate = prev && dt > 0 ? (events - sum(prev.samples, "ksight_events_total")) / dt : null;
  document.getElementById("events-rate").textContent = fmt(rate);
  const lost = sum(samples, "ksight_events_lost_total");
  const lostEl = document.getElementById("lost-total");
  lostEl.textContent = String(lost);
  lostEl.dataset.value = String(lost);
  const size = sum(samples, "ksight_ring_buffer_size_bytes");
  const peak = sum(samples, "ksight_ring_buffer_peak_used_bytes");
  document.getElementById("ring-fill").textContent =
    size ? (100 * peak / size).toFixed(1) + " %" : "–";

  // losses: every loss counter, one row per series
  const lb = document.querySelector("#losses tbody");
  lb.replaceChildren();
  const losses = samples.filter((x) => LOSS_METRICS.includes(x.name))
    .sort((a, b) => LOSS_METRICS.indexOf(a.name) - LOSS_METRICS.indexOf(b.name));
  for (const s of losses) {
    const d = delta(s);
    const tr = el("tr", { "data-metric": s.name, "data-labels": labelText(s.labels),
      "data-value": String(s.value), class: s.value > 0 ? "lost" : "" },
    );
    tr.append(el("td", {}, s.name), el("td", {}, labelText(s.labels)),
      el("td", { class: "num" }, String(s.value)), el("td", { class: "num" }, fmt(d)));
    lb.append(tr);
  }

  // programs: runs and run time are cumulative; ns per run is their ratio between pages
  const runs = samples.filter((s) => s.name === "ksight_bpf_prog_runs_total");
  const secs = new Map(samples.filter((s) => s.name === "ksight_bpf_prog_run_seconds_total")
    .map((s) => [s.labels.module + "/" + s.labels.program, s]));
  const missed = new Map(samples.filter((s) => s.name === "ksight_bpf_prog_missed_runs_total")
    .map((s) => [s.labels.module + "/" + s.labels.program, s.value]));
  const enabled = sum(samples, "ksight_bpf_stats_enabled");
  document.getElementById("prog-note").textContent = enabled
    ? "ns/run: run time over runs between the last two pages of /metrics (the interval)."
    : "The kernel does not count BPF run time now: start the agent with --bpf-stats " +
      "for runs and ns per run.";
  const pb = document.querySelector("#programs tbody");
  pb.replaceChildren();
  for (const s of runs.sort((a, b) => (a.labels.module + a.labels.program)
    .localeCompare(b.labels.module + b.labels.program))) {
    const id = s.labels.module + "/" + s.labels.program;
    const dr = delta(s);
    const sec = secs.get(id);
    const ds = sec ? delta(sec) : null;
    const ns = dr > 0 && ds !== null ? (ds / dr) * 1e9 : null;
    const tr = el("tr", { "data-module": s.labels.module, "data-program": s.labels.program,
      "data-runs": String(s.value), "data-ns": ns === null ? "" : String(ns) });
    tr.append(el("td", {}, s.labels.module), el("td", {}, s.labels.program),
      el("td", { class: "num" }, String(s.value)),
      el("td", { class: "num" }, dr === null || !dt ? "–" : fmt(dr / dt)),
      el("td", { class: "num" }, fmt(ns)),
      el("td", { class: "num" }, String(missed.get(id) ?? 0)));
    pb.append(tr);
  }

  const tb = document.querySelector("#types tbody");
  tb.replaceChildren();
  for (const s of samples.filter((x) => x.name === "ksight_events_total")) {
    const d = delta(s);
    tb.append(el("tr", { "data-type": s.labels.type || "" }, el("td", {}, s.labels.type),
      el("td", { class: "num" }, String(s.value)),
      el("td", { class: "num" }, d === null || !dt ? "–" : fmt(d / dt))));
  }

  if (rate !== null) {
    ov.series[0].push(now / 1000);
    ov.series[1].push(rate);
    if (ov.series[0].length > 300) { ov.series[0].shift(); ov.series[1].shift(); }
    drawChart();
  }
  ov.prev = { t: now, samples };
}

function drawChart() {
  if (typeof uPlot === "undefined") return;
  const box = document.getElementById("rate-chart");
  const width = Math.max(300, box.clientWidth || 600);
  if (!ov.chart) {
    ov.chart = new uPlot({ width, height: 200,
      series: [{}, { label: "events/s", stroke: "#23395d", width: 2 }],
      axes: [{}, { size: 60 }] }, ov.series, box);
  } else {
    ov.chart.setData(ov.series);
  }
}

async function pollMetrics() {
  const st = document.getElementById("status");
  try {
    const r = await fetch("/metrics", { cache: "no-store" });
    if (!r.ok) throw new Error("/metrics: " + r.status);
    const text = await r.text();
    st.textContent = "agent up · " + new Date().toLocaleTimeString();
    st.className = "";
    if (text !== ov.lastText) {
      ov.lastText = text;
      const samples = parseProm(text), now = Date.now();
      renderOverview(samples, now);
      renderOverhead(text, samples, now);
      document.body.dataset.pages = String((Number(document.body.dataset.pages) || 0) + 1);
    }
  } catch (e) {
    st.textContent = "agent unreachable: " + e.message;
    st.className = "bad";
  }
}

// --- navigation -----------------------------------------------------------------------------
// #name or #name/arg (a service page: #service/NAME); each view's enter() starts what it
// reads, leave() stops its timers (SSE streams stay open: their counts are the page's).
let current = null;

function show() {
  const hash = (location.hash || "#overview").slice(1);
  const slash = hash.indexOf("/");
  const page = slash < 0 ? hash : hash.slice(0, slash);
  const arg = slash < 0 ? "" : decodeURIComponent(hash.slice(slash + 1));
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== "page-" + page;
  for (const a of document.querySelectorAll("nav a"))
    a.classList.toggle("active", a.dataset.page === page ||
      (a.dataset.page === "services" && page === "service"));
  if (current && VIEWS[current]) VIEWS[current].leave();
  current = page;
  if (VIEWS[page]) VIEWS[page].enter(arg);
}

window.addEventListener("hashchange", show);
show();
pollMetrics();
setInterval(pollMetrics, 1000);
