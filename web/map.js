// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the Map view, /api/map drawn with cytoscape (a remote node
// with the DNS name the agent saw for it; a TCP edge that carried requests with their rate
// and p99 as its label); a click on a service opens its page (service.js).
"use strict";

// --- Map ----------------------------------------------------------------------------------
const mp = { cy: null, timer: null };

// A TCP edge's requests (the req module, docs/map.md "Requests on edges") over the map's
// window of @secs: "R req/s, p99 X" (and the failed ones), "" where it carried none.
function reqLabel(e, secs) {
  if (!e.requests) return "";
  return fmt(secs > 0 ? e.requests / secs : null, 3) + " req/s, p99 " +
    fmtNs(e.request_p99_ns) + (e.request_errors ? ", " + e.request_errors + " failed" : "");
}

function mapElements(m) {
  const nodes = m.nodes || m.services || [];
  const edges = m.edges || [];
  const els = [];
  const ids = new Set();
  for (const n of nodes) {
    const id = String(typeof n === "string" ? n : n.id ?? n.name ?? n.service);
    ids.add(id);
    const name = typeof n === "string" ? n : n.name ?? n.service ?? id;
    els.push({ data: { id, label: nodeLabel(name, n.dns), dns: n.dns || "",
      kind: typeof n === "string" ? "service" : n.kind || "service" } });
  }
  edges.forEach((e, i) => {
    const src = String(e.source ?? e.from ?? e.client), dst = String(e.target ?? e.to ?? e.server);
    for (const id of [src, dst]) {
      if (!ids.has(id)) { ids.add(id); els.push({ data: { id, label: id, kind: "service" } }); }
    }
    // a spawn edge (parent => child) says its execs and is drawn dashed (style below); a
    // TCP edge that carried requests says them (drawn with the label)
    const spawn = e.kind === "spawn", reqs = reqLabel(e, m.secs);
    els.push({ data: { id: "e" + i + ":" + src + ">" + dst + (spawn ? ":spawn" : ""),
      source: src, target: dst, kind: e.kind || "", port: e.port ?? 0,
      reqs: e.requests || 0, req_p99: e.request_p99_ns ?? null,
      label: spawn ? "spawn " + (e.execs ?? "") : e.port ? ":" + e.port + (reqs ? "\n" + reqs : "")
        : e.proto || "" } });
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
  document.getElementById("map-graph").hidden = false;
  const nn = els.filter((x) => !x.data.source).length;
  if (nn)
    setNote("map-note", "ok", nn + " services, " + els.filter((x) => x.data.source).length +
      " edges (from /api/map); a click on a service opens its page.");
  else
    setNote("map-note", "empty", "No service or edge in the map's window yet (/api/map): " +
      "the map holds the sessions closed within the agent's --idle.");
  if (typeof cytoscape === "undefined") return;
  const ids = els.map((x) => x.data.id).sort().join("\n");
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
        { selector: "edge[reqs > 0]", style: { label: "data(label)", "font-size": 7,
          "text-wrap": "wrap", color: "#1d5c2e", "text-background-color": "#fff",
          "text-background-opacity": 0.85, "text-background-padding": 1 } },
        { selector: 'node[kind = "remote"]', style: { "background-color": "#aab",
          shape: "round-rectangle" } },
      ],
      layout: { name: "cose", animate: false } });
    // a service's node opens its page; a remote endpoint has none
    mp.cy.on("tap", "node", (e) => {
      if (e.target.data("kind") !== "remote")
        location.hash = "#service/" + encodeURIComponent(e.target.id());
    });
  } else if (ids !== mp.ids) {
    // laid out again only when nodes or edges came or went: a node stays where it is
    // (and where the reader is about to click) while only its figures change
    mp.cy.json({ elements: els });
    mp.cy.layout({ name: "cose", animate: false }).run();
  } else {
    // the same nodes and edges: only their figures (an edge's requests) are new
    for (const x of els) {
      const { id, source, target, ...figures } = x.data;   // fixed once drawn
      mp.cy.$id(id).data(figures);
    }
  }
  mp.ids = ids;
}

VIEWS.map = {
  enter() { pollMap(); mp.timer = setInterval(pollMap, 5000); },
  leave() { clearInterval(mp.timer); },
};
