// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the map diff (#diff), /api/map?diff=DUR[&since=DUR]:
// the edges of [now-since, now-DUR) against those of [now-DUR, now) (ksight map --diff),
// each appeared, disappeared or changed (a rate or a p99 3x or more).
"use strict";

const DIFF_PRESETS = ["30s", "1m", "5m", "15m", "1h"];

function diffSide(e) {
  if (!e) return "–";
  const rate = e.kind === "spawn" ? fmt(e.execs_per_s, 3) + " execs/s"
    : e.kind === "udp" ? fmt(e.datagrams_per_s, 3) + " dgrams/s"
      : fmt(e.conns_per_s, 3) + " conns/s";
  const n = e.kind === "spawn" ? e.execs + " execs" : e.connections + " conns";
  return n + ", " + rate + (e.connect_p99_ns !== null && e.connect_p99_ns !== undefined
    ? ", connect p99 " + fmtNs(e.connect_p99_ns) : "") + (e.duration_p99_ns
    ? ", duration p99 " + fmtNs(e.duration_p99_ns) : "");
}

// A remote end's DNS name, from whichever side has the edge (after's first: the newer)
const diffDns = (c, k) => (c.after && c.after[k]) || (c.before && c.before[k]) || null;

function diffWhat(c) {
  if (c.change !== "changed") return c.change;
  const what = [["rate_changed", "rate"], ["connect_changed", "connect p99"],
    ["rtt_changed", "rtt p99"], ["duration_changed", "duration p99"]]
    .filter(([k]) => c[k]).map(([, w]) => w);
  return "changed: " + what.join(", ");
}

async function loadDiff() {
  const dur = document.getElementById("diff-dur").value.trim();
  const since = document.getElementById("diff-since").value.trim();
  const q = "diff=" + encodeURIComponent(dur) + (since ? "&since=" + encodeURIComponent(since) : "");
  const path = "/api/map?" + q;
  const note = document.getElementById("diff-note");
  delete note.dataset.state;
  note.textContent = "reading " + path + " …";
  const res = await fetchJSON(path);
  const tb = document.querySelector("#diff-list tbody");
  tb.replaceChildren();
  if (res.status !== 200 || !res.body) return notOk("diff-note", "/api/map?diff=", res);
  const d = res.body;
  const changes = d.changes || [];
  const order = { appeared: 0, changed: 1, disappeared: 2 };
  changes.sort((a, b) => order[a.change] - order[b.change] ||
    (a.client + a.server).localeCompare(b.client + b.server));
  for (const c of changes) {
    tb.append(el("tr", { "data-change": c.change, "data-client": c.client,
      "data-server": c.server, "data-kind": c.kind, "data-port": String(c.port),
      class: "change-" + c.change },
    el("td", {}, diffWhat(c)),
    el("td", {}, nodeLabel(c.client, diffDns(c, "client_dns"))),
    el("td", {}, nodeLabel(c.server, diffDns(c, "server_dns"))), el("td", {}, c.kind),
    el("td", { class: "num" }, c.kind === "spawn" ? "–" : String(c.port)),
    el("td", {}, diffSide(c.before)), el("td", {}, diffSide(c.after))));
  }
  const secs = (w) => (w && w.secs !== undefined ? fmt(w.secs, 0) + " s" : "?");
  const windows = "the last " + secs(d.after) + " against the " + secs(d.before) +
    " before (/api/map?" + q + ")";
  const count = (k) => changes.filter((c) => c.change === k).length;
  if (changes.length)
    setNote("diff-note", "ok", count("appeared") + " appeared, " + count("disappeared") +
      " disappeared, " + count("changed") + " changed: " + windows + ".");
  else
    setNote("diff-note", "empty", "No edge appeared, disappeared or changed: " + windows + ".");
  document.body.dataset.diffLoads = String((Number(document.body.dataset.diffLoads) || 0) + 1);
}

function diffSetup() {
  const presets = document.getElementById("diff-presets");
  if (presets.childElementCount) return;
  for (const p of DIFF_PRESETS) {
    const b = el("button", { type: "button", "data-dur": p }, p);
    b.addEventListener("click", () => { document.getElementById("diff-dur").value = p; loadDiff(); });
    presets.append(b);
  }
  document.getElementById("diff-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadDiff();
  });
}

VIEWS.diff = {
  enter() { diffSetup(); loadDiff(); },
  leave() {},
};
