// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): one page, three views. Overview reads the agent's
// /metrics (Prometheus text) every second and computes rates between two pages that
// differ (the agent renders one per interval); Map and Events read /api/map and
// /api/events when this agent has them, and say so when it does not.
"use strict";

const LOSS_METRICS = [
  "ksight_events_lost_total", "ksight_sink_dropped_records_total",
  "ksight_record_values_dropped_total", "ksight_malformed_records_total",
  "ksight_bpf_prog_missed_runs_total", "ksight_ident_loads_refused_total",
  "ksight_metric_budget_hits_total",
];

// --- Prometheus text exposition -> [{name, labels, value}] ---------------------------------
function parseLabels(s) {
  const labels = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let m;
  while ((m = re.exec(s)) !== null) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    if (re.lastIndex >= s.length) break;
  }
  return labels;
}

function parseProm(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    let name, labels = {}, rest;
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      // the closing brace: the last one (values never hold braces unescaped... but may)
      const close = line.lastIndexOf("}");
      labels = parseLabels(line.slice(brace + 1, close));
      rest = line.slice(close + 1).trim();
    } else {
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const value = Number(rest.split(/\s+/)[0]);
    out.push({ name, labels, value });
  }
  return out;
}

const key = (s) => s.name + JSON.stringify(s.labels);
const sum = (samples, name) => samples.filter((s) => s.name === name)
  .reduce((a, s) => a + s.value, 0);
const fmt = (v, digits = 1) => (v === null || v === undefined || !isFinite(v)) ? "–"
  : Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(digits);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children)
    e.append(c instanceof Node ? c : c === null || c === undefined ? "" : String(c));
  return e;
}

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
      renderOverview(parseProm(text), Date.now());
      document.body.dataset.pages = String((Number(document.body.dataset.pages) || 0) + 1);
    }
  } catch (e) {
    st.textContent = "agent unreachable: " + e.message;
    st.className = "bad";
  }
}

// --- an /api/ endpoint that this agent may not have --------------------------------------
async function apiState(path) {
  const ctl = new AbortController();
  try {
    const r = await fetch(path, { signal: ctl.signal, cache: "no-store" });
    ctl.abort();   // SSE streams never end: the status is all that is needed here
    return r.status;
  } catch (e) {
    return 0;
  }
}

function missing(noteId, path, status) {
  const n = document.getElementById(noteId);
  n.className = "note missing";
  n.textContent = status === 404
    ? path + " is not available in this agent (404): this view needs an agent that serves it."
    : path + " could not be read (" + (status || "no answer") + ").";
  n.dataset.state = status === 404 ? "missing" : "error";
  const g = document.getElementById(noteId.replace("-note", "-graph"));
  if (g) g.hidden = true;
}

// --- Map ----------------------------------------------------------------------------------
const mp = { cy: null, timer: null };

function mapElements(m) {
  const nodes = m.nodes || m.services || [];
  const edges = m.edges || [];
  const els = [];
  const ids = new Set();
  for (const n of nodes) {
    const id = String(typeof n === "string" ? n : n.id ?? n.name ?? n.service);
    ids.add(id);
    els.push({ data: { id, label: typeof n === "string" ? n : n.name ?? n.service ?? id } });
  }
  edges.forEach((e, i) => {
    const src = String(e.source ?? e.from ?? e.client), dst = String(e.target ?? e.to ?? e.server);
    for (const id of [src, dst]) {
      if (!ids.has(id)) { ids.add(id); els.push({ data: { id, label: id } }); }
    }
    // a spawn edge (parent => child) says its execs and is drawn dashed (style below)
    const spawn = e.kind === "spawn";
    els.push({ data: { id: "e" + i + ":" + src + ">" + dst + (spawn ? ":spawn" : ""),
      source: src, target: dst, kind: e.kind || "",
      label: spawn ? "spawn " + (e.execs ?? "") : e.port ? ":" + e.port : e.proto || "" } });
  });
  return els;
}

async function pollMap() {
  const r = await fetch("/api/map", { cache: "no-store" }).catch(() => null);
  if (!r || !r.ok) {
    missing("map-note", "/api/map", r ? r.status : 0);
    return;
  }
  let m;
  try { m = await r.json(); } catch (e) { missing("map-note", "/api/map", "not JSON"); return; }
  const els = mapElements(m);
  const note = document.getElementById("map-note");
  document.getElementById("map-graph").hidden = false;
  note.className = "note";
  note.dataset.state = "ok";
  note.textContent = els.filter((x) => !x.data.source).length + " services, " +
    els.filter((x) => x.data.source).length + " edges (from /api/map)";
  if (typeof cytoscape === "undefined") return;
  if (!mp.cy) {
    mp.cy = cytoscape({ container: document.getElementById("map-graph"), elements: els,
      style: [
        { selector: "node", style: { label: "data(label)", "background-color": "#23395d",
          color: "#222", "font-size": 10 } },
        { selector: "edge", style: { "curve-style": "bezier", "target-arrow-shape": "triangle",
          width: 2, "line-color": "#889", "target-arrow-color": "#889" } },
        { selector: 'edge[kind = "spawn"]', style: { "line-style": "dashed",
          "target-arrow-shape": "vee", "line-color": "#b07a2a", "target-arrow-color": "#b07a2a",
          label: "data(label)", "font-size": 9 } },
      ],
      layout: { name: "cose", animate: false } });
  } else {
    mp.cy.json({ elements: els });
    mp.cy.layout({ name: "cose", animate: false }).run();
  }
}

// --- Events -------------------------------------------------------------------------------
const evs = { source: null, lines: [] };

async function startEvents() {
  if (evs.source) return;
  const status = await apiState("/api/events");
  if (status !== 200) { missing("events-note", "/api/events", status); return; }
  const note = document.getElementById("events-note");
  note.className = "note";
  note.dataset.state = "ok";
  note.textContent = "Live from /api/events (the last 500).";
  evs.source = new EventSource("/api/events");
  evs.source.onmessage = (m) => {
    evs.lines.push(m.data);
    if (evs.lines.length > 500) evs.lines.shift();
    document.getElementById("event-list").textContent = evs.lines.join("\n");
  };
}

// --- navigation -----------------------------------------------------------------------------
function show() {
  const page = (location.hash || "#overview").slice(1);
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== "page-" + page;
  for (const a of document.querySelectorAll("nav a"))
    a.classList.toggle("active", a.dataset.page === page);
  clearInterval(mp.timer);
  if (page === "map") { pollMap(); mp.timer = setInterval(pollMap, 5000); }
  if (page === "events") startEvents();
}

window.addEventListener("hashchange", show);
show();
pollMetrics();
setInterval(pollMetrics, 1000);
