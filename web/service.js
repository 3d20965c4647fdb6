// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the Services list (#services, the service nodes of
// /api/map) and a service's page (#service/NAME, /api/services/NAME every 2 s): its edges
// in and out, its latency histograms drawn from the registry's buckets, the rates of its
// counters over the page's life (uPlot), and its resource picture module by module.
"use strict";

// Which module a service's series comes from, by its name (docs/<module>.md), and the
// resource each module measures, in the order the page shows them.
const SERIES_MODULE = [
  ["ksight_tcp_", "tcplife"], ["ksight_udp_", "udp"], ["ksight_net_", "net"],
  ["ksight_drops_", "drops"], ["ksight_req_", "req"], ["ksight_runqlat_", "runqlat"],
  ["ksight_sched_", "sched"], ["ksight_offcpu_", "offcpu"], ["ksight_mem_", "mem"],
  ["ksight_cache_", "cache"], ["ksight_rw_", "rw"], ["ksight_files_", "files"],
  ["ksight_open_", "open"], ["ksight_biolat_", "biolat"], ["ksight_bio_", "biotop"],
  ["ksight_exec_", "exec"], ["ksight_proc_", "proc"], ["ksight_syscount_", "syscount"],
  ["ksight_guard_", "guard"], ["ksight_pmc_", "pmc"],
];
const RESOURCES = [
  ["network", ["tcplife", "udp", "net", "req", "drops"]],
  ["CPU and scheduling", ["runqlat", "sched", "offcpu", "pmc"]],
  ["memory", ["mem", "cache"]],
  ["file I/O", ["rw", "files", "open"]],
  ["disk I/O", ["biotop", "biolat"]],
  ["processes", ["exec", "proc", "syscount"]],
  ["security", ["guard"]],
];
const moduleOf = (name) => (SERIES_MODULE.find(([p]) => name.startsWith(p)) || [])[1] || "";

// --- Services list ------------------------------------------------------------------------
async function loadServices() {
  const res = await fetchJSON("/api/map");
  const tb = document.querySelector("#services-list tbody");
  if (res.status !== 200 || !res.body) {
    tb.replaceChildren();
    return notOk("services-note", "/api/map", res);
  }
  const nodes = (res.body.nodes || []).filter((n) => typeof n !== "string" && n.kind !== "remote");
  tb.replaceChildren(...nodes.sort((a, b) => a.name.localeCompare(b.name)).map((n) =>
    el("tr", { "data-service": n.name },
      el("td", {}, el("a", { href: "#service/" + encodeURIComponent(n.name) }, n.name)),
      el("td", { class: "num" }, String(n.conns_in ?? "–")),
      el("td", { class: "num" }, String(n.conns_out ?? "–")),
      el("td", { class: "num" }, fmtBytes(n.bytes_in)),
      el("td", { class: "num" }, fmtBytes(n.bytes_out)),
      el("td", { class: "num" }, String(n.spawns_in ?? "–")))));
  if (nodes.length)
    setNote("services-note", "ok", nodes.length + " services in the map's window (/api/map); " +
      "a service with series but no session in the window: type its page's address, " +
      "#service/NAME.");
  else
    setNote("services-note", "empty", "No service in the map's window yet (/api/map).");
}

VIEWS.services = {
  enter() { loadServices(); this.timer = setInterval(loadServices, 5000); },
  leave() { clearInterval(this.timer); },
};

// --- a service's page ---------------------------------------------------------------------
const sv = { name: null, timer: null, prev: null, times: [], rates: {}, deltas: [],
  chart: null, chartKeys: "", status: null };

// /api/services' "metrics" {"SERIES{labels}": value} as samples {name, labels, value}
function serviceSamples(metrics) {
  return parseProm(Object.entries(metrics || {})
    .map(([k, v]) => k + " " + (v === null ? "NaN" : v)).join("\n"));
}

const edgeCols = ["client", "server", "kind", "port", "connections", "conns/s", "bytes c→s",
  "bytes s→c", "connect p50", "connect p99", "rtt p99", "duration p99", "errors", "resets",
  "retrans", "requests", "req p99", "seen"];

// An edge's end: this page's service as text, another service as a link to its page, a
// remote endpoint that a DNS answer named as "name (ADDR:PORT)" (it has no page)
function edgeEnd(name, dns) {
  if (name === sv.name) return name;
  if (dns) return el("span", { class: "remote", title: name }, nodeLabel(name, dns));
  return el("a", { href: "#service/" + encodeURIComponent(name) }, name);
}

function edgeRow(e) {
  const spawn = e.kind === "spawn", udp = e.kind === "udp";
  return el("tr", { "data-client": e.client, "data-server": e.server, "data-kind": e.kind,
    "data-port": String(e.port), "data-connections": String(e.connections),
    "data-client-dns": e.client_dns || "", "data-server-dns": e.server_dns || "",
    class: e.incomplete ? "lost" : "" },
  el("td", {}, edgeEnd(e.client, e.client_dns)),
  el("td", {}, edgeEnd(e.server, e.server_dns)),
  el("td", {}, e.kind + (e.incomplete ? " (incomplete: events lost)" : "")),
  el("td", { class: "num" }, spawn ? "–" : String(e.port)),
  el("td", { class: "num" }, String(spawn ? e.execs + " execs" : udp
    ? e.datagrams_client_to_server + e.datagrams_server_to_client + " dgrams" : e.connections)),
  el("td", { class: "num" }, fmt(spawn ? e.execs_per_s : udp ? e.datagrams_per_s : e.conns_per_s, 3)),
  el("td", { class: "num" }, fmtBytes(e.bytes_client_to_server)),
  el("td", { class: "num" }, fmtBytes(e.bytes_server_to_client)),
  el("td", { class: "num" }, fmtNs(e.connect_p50_ns)),
  el("td", { class: "num" }, fmtNs(e.connect_p99_ns)),
  el("td", { class: "num" }, fmtNs(e.rtt_p99_ns)),
  el("td", { class: "num" }, fmtNs(e.duration_p99_ns)),
  el("td", { class: "num" }, String(e.errors)),
  el("td", { class: "num" }, String(e.resets)),
  el("td", { class: "num" }, String(e.retrans_segs)),
  // the req module's requests on a TCP edge (docs/map.md, "Requests on edges"): "–" where none
  el("td", { class: "num" }, e.requests ? e.requests + (e.request_errors
    ? " (" + e.request_errors + " failed)" : "") : "–"),
  el("td", { class: "num" }, e.requests ? fmtNs(e.request_p99_ns) : "–"),
  el("td", {}, e.seen + (e.dnat ? " via DNAT " + e.dnat : "") +
     (e.snat ? " via SNAT " + e.snat : "")));
}

function edgeTable(id, edges, none) {
  const t = document.getElementById(id);
  t.querySelector("thead").replaceChildren(el("tr", {}, ...edgeCols.map((c) => el("th", {}, c))));
  t.querySelector("tbody").replaceChildren(...(edges.length ? edges.map(edgeRow)
    : [el("tr", { class: "none" }, el("td", { colspan: String(edgeCols.length) }, none))]));
}

// The counters' rates, kept here over the page's life: the agent's figures change once per
// interval, so a point is added each time /api/status says another interval ended, at its
// end (as_of), the growth since the last point over the time between their ends; one line
// per counter family (its label sets summed). An agent without that /api/status: a point
// each time the figures change. sv.deltas keeps each point's growth (tests/ui/drive.js).
function trackRates(samples, status, now) {
  const totals = {};
  for (const s of samples.filter((x) => x.name.endsWith("_total") && isFinite(x.value)))
    totals[s.name] = (totals[s.name] || 0) + s.value;
  const text = JSON.stringify(totals);
  const asOf = status && status.as_of ? Date.parse(status.as_of) : null;
  const mark = asOf !== null ? String(status.intervals) : text;
  const t = asOf !== null ? asOf : now;
  const prev = sv.prev;
  if (prev && prev.mark === mark) return;
  sv.prev = { t, totals, mark };
  if (!prev || t <= prev.t) return;
  const dt = (t - prev.t) / 1000;
  const names = Object.keys(totals).sort();
  sv.times.push(t / 1000);
  const deltas = {};
  for (const n of names) {
    if (!sv.rates[n]) sv.rates[n] = sv.times.slice(0, -1).map(() => null);
    deltas[n] = n in prev.totals ? totals[n] - prev.totals[n] : null;
    sv.rates[n].push(deltas[n] === null ? null : deltas[n] / dt);
  }
  sv.deltas.push(deltas);
  for (const n of Object.keys(sv.rates)) if (!(n in totals)) sv.rates[n].push(null);
  if (sv.times.length > 300) {
    sv.times.shift();
    sv.deltas.shift();
    for (const n of Object.keys(sv.rates)) sv.rates[n].shift();
  }
  drawRates();
}

const PALETTE = ["#23395d", "#b07a2a", "#2a8b5a", "#a33", "#6a4c93", "#1982c4", "#8a8a2a",
  "#c06090"];

function drawRates() {
  const box = document.getElementById("service-rates");
  const names = Object.keys(sv.rates).sort();
  document.getElementById("service-rates-note").textContent = sv.times.length
    ? "Per second, interval by interval (" + sv.times.length + " points since this " +
      "page opened)."
    : "The rates start when the agent's next interval ends.";
  if (typeof uPlot === "undefined" || !sv.times.length) return;
  const data = [sv.times, ...names.map((n) => sv.rates[n])];
  if (!sv.chart || sv.chartKeys !== names.join()) {
    if (sv.chart) sv.chart.destroy();
    box.replaceChildren();
    sv.chart = new uPlot({ width: Math.max(300, box.clientWidth || 800), height: 220,
      series: [{}, ...names.map((n, i) => ({ label: n.replace(/^ksight_/, "")
        .replace(/_total$/, "/s"), stroke: PALETTE[i % PALETTE.length], width: 2,
      spanGaps: false }))],
      axes: [{}, { size: 60 }] }, data, box);
    sv.chartKeys = names.join();
  } else {
    sv.chart.setData(data);
  }
}

// The resource picture: each module that measures something of a service, with its
// series, or why there are none (not running here, skipped at start, nothing yet).
function renderResources(samples, status) {
  const mods = new Map(((status && status.modules) || []).map((m) => [m.name, m]));
  const byMod = new Map();
  for (const s of samples) {
    const m = moduleOf(s.name);
    if (!byMod.has(m)) byMod.set(m, []);
    byMod.get(m).push(s);
  }
  const box = document.getElementById("service-resources");
  box.replaceChildren();
  const known = status && Array.isArray(status.modules) && status.modules.length;
  for (const [what, list] of RESOURCES) {
    const tb = el("tbody");
    for (const m of list) {
      const series = byMod.get(m) || [];
      const st = mods.get(m);
      const state = series.length ? "on" : !known ? "unknown" : !st ? "off"
        : st.state === "on" ? "empty" : "skipped";
      const why = {
        on: series.length + " series",
        unknown: "nothing for this service (this agent's /api/status lists no modules)",
        off: m === "guard" ? "not running in this agent: absent (ksight guard raises the " +
          "alerts; its own endpoint has them, in the Alerts view)"
          : "not running in this agent (--modules): absent",
        skipped: "skipped at start: " + (st && st.reason),
        empty: "running; nothing for this service yet",
      }[state];
      tb.append(el("tr", { "data-module": m, "data-state": state, class: "module " + state },
        el("th", { colspan: "2" }, m + ": " + why)));
      for (const s of series.filter((x) => !x.name.endsWith("_bucket")))
        tb.append(el("tr", { "data-series": s.name },
          el("td", {}, s.name + (Object.keys(s.labels).length > 1
            ? " {" + Object.entries(s.labels).filter(([k]) => k !== "service")
              .map(([k, v]) => k + "=" + v).join(", ") + "}" : "")),
          el("td", { class: "num" }, fmt(s.value, 6))));
    }
    box.append(el("h3", {}, what), el("table", { class: "resources" }, tb));
  }
  const other = (byMod.get("") || []).filter((s) => !s.name.endsWith("_bucket"));
  if (other.length) {
    const tb = el("tbody", {}, ...other.map((s) => el("tr", { "data-series": s.name },
      el("td", {}, s.name), el("td", { class: "num" }, fmt(s.value, 6)))));
    box.append(el("h3", {}, "other series"), el("table", { class: "resources" }, tb));
  }
}

async function loadService() {
  const name = sv.name;
  const path = "/api/services/" + encodeURIComponent(name);
  const [res, st] = await Promise.all([fetchJSON(path), fetchJSON("/api/status")]);
  if (name !== sv.name) return;   // the reader went elsewhere meanwhile
  sv.status = st.status === 200 ? st.body : null;
  const body = document.getElementById("service-body");
  if (res.status !== 200 || !res.body) {
    body.hidden = true;
    return notOk("service-note", path, res);
  }
  body.hidden = false;
  const s = res.body;
  const samples = serviceSamples(s.metrics);
  const ins = s.edges_in || [], outs = s.edges_out || [];
  edgeTable("service-in", ins, "No edge into " + name + " in the window.");
  edgeTable("service-out", outs, "No edge out of " + name + " in the window.");
  const n = s.node;
  const win = s.secs ? " in the last " + fmt(s.secs, 0) + " s" : "";
  setNote("service-note", n || samples.length ? "ok" : "empty", n
    ? name + win + ": " + n.conns_in + " connections in, " + n.conns_out + " out, " +
      fmtBytes(n.bytes_in) + " in, " + fmtBytes(n.bytes_out) + " out, " + n.spawns_in +
      " spawns in, " + n.spawns_out + " out (/api/services/NAME)."
    : name + ": no session in the map's window; its series as of the last interval.");

  const hs = histograms(samples);
  const hb = document.getElementById("service-histograms");
  hb.replaceChildren(...(hs.length ? hs.map(drawHistogram) : [el("p", { class: "note empty",
    "data-state": "empty" }, "No latency histogram for this service: the modules that " +
    "have one per service (runqlat: run-queue latency) are off or saw nothing of it.")]));
  trackRates(samples, sv.status, Date.now());
  renderResources(samples, sv.status);
  await loadTimeline(name);
  document.body.dataset.servicePolls = String((Number(document.body.dataset.servicePolls) ||
    0) + 1);
}

VIEWS.service = {
  enter(name) {
    if (name !== sv.name) {
      Object.assign(sv, { name, prev: null, times: [], rates: {}, deltas: [], chartKeys: "" });
      if (sv.chart) { sv.chart.destroy(); sv.chart = null; }
      document.getElementById("service-rates").replaceChildren();
      document.getElementById("service-rates-note").textContent =
        "The rates start when the agent's next interval ends.";
      const n = document.getElementById("service-note");
      delete n.dataset.state;
      n.textContent = "reading /api/services/" + name + " …";
      document.getElementById("service-body").hidden = true;
    }
    document.getElementById("service-name").textContent = name;
    if (!name) return setNote("service-note", "error", "No service named: #service/NAME.");
    loadService();
    sv.timer = setInterval(loadService, 2000);
  },
  leave() { clearInterval(sv.timer); },
};
