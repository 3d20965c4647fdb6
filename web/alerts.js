// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the Alerts view (#alerts), guard's alerts from
// /api/events?type=alert as they come: rule, severity, the process and its ancestry, what
// the rule sees and is blind to; counts per rule and severity since the view opened.
"use strict";

const al = { source: null, rows: [], counts: new Map(), lost: 0 };
const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3 };

function alertRow(a) {
  const who = (a.comm ?? "?") + " (" + (a.pid ?? "?") + ", uid " + (a.uid ?? "?") +
    (a.euid !== undefined && a.euid !== a.uid ? ", euid " + a.euid : "") + ")";
  const ancestry = (a.parent ?? "?") + " (" + (a.ppid ?? "?") + ") → " + who +
    (a.exe ? " · " + a.exe : "") + (a.target ? " · target " + a.target : "") +
    (a.peer ? " · peer " + a.peer : "");
  const what = (a.message || a.event || "") + (a.path ? " · " + a.path : "") +
    (a.path2 ? " → " + a.path2 : "") + (a.via && a.via !== "syscall" ? " · via " + a.via : "");
  const cover = "sees " + (a.sees || "–") + (a.blind ? "; blind to " + a.blind : "");
  return el("tr", { "data-rule": a.rule, "data-severity": a.severity, "data-pid": String(a.pid),
    "data-ppid": String(a.ppid), "data-parent": a.parent ?? "", "data-path": a.path ?? "",
    class: "sev-" + a.severity },
  el("td", {}, (a.ts || "").replace("T", " ").replace(/\.(\d{3})\d*Z$/, ".$1")),
  el("td", {}, a.severity), el("td", {}, a.rule), el("td", {}, ancestry),
  el("td", {}, what), el("td", {}, cover));
}

function renderAlertCounts() {
  const tb = document.querySelector("#alert-counts tbody");
  const rows = [...al.counts.entries()].map(([k, n]) => [...k.split("\n"), n])
    .sort((a, b) => (SEVERITY_ORDER[a[1]] ?? 9) - (SEVERITY_ORDER[b[1]] ?? 9) || b[2] - a[2] ||
      a[0].localeCompare(b[0]));
  tb.replaceChildren(...rows.map(([rule, sev, n]) =>
    el("tr", { "data-rule": rule, "data-severity": sev, "data-count": String(n),
      class: "sev-" + sev },
    el("td", {}, rule), el("td", {}, sev), el("td", { class: "num" }, String(n)))));
}

function alertNote() {
  const total = [...al.counts.values()].reduce((a, n) => a + n, 0);
  const lost = al.lost ? " · " + al.lost + " lost by this stream (the agent's queue for " +
    "it was full)" : "";
  if (total)
    setNote("alerts-note", "ok", total + " alerts since this view opened, the last " +
      Math.min(total, 500) + " below (live from /api/events?type=alert)" + lost + ".");
  else
    setNote("alerts-note", "empty", "No alert since this view opened (live from " +
      "/api/events?type=alert: alerts come from guard's rules, in ksight guard or in " +
      "ksight run --modules ...,guard)" + lost + ".");
}

async function startAlerts() {
  if (al.source) return;
  const status = await apiState("/api/events?type=alert");
  if (status !== 200) { missing("alerts-note", "/api/events", status); return; }
  if (al.source) return;
  al.source = new EventSource("/api/events?type=alert");
  al.source.onmessage = (m) => {
    let a;
    try { a = JSON.parse(m.data); } catch (e) { return; }
    if (a.type !== "alert") return;
    const k = a.rule + "\n" + a.severity;
    al.counts.set(k, (al.counts.get(k) || 0) + 1);
    const list = document.querySelector("#alert-list tbody");
    list.prepend(alertRow(a));
    while (list.childElementCount > 500) list.lastElementChild.remove();
    // counts redrawn at most 5 times a second: a burst of alerts is one redraw
    if (!al.pending) {
      al.pending = true;
      setTimeout(() => { al.pending = false; renderAlertCounts(); alertNote(); }, 200);
    }
  };
  al.source.addEventListener("lost", (m) => {
    try { al.lost += JSON.parse(m.data).lost; } catch (e) { /* not ours */ }
    alertNote();
  });
  alertNote();
}

VIEWS.alerts = { enter: startAlerts, leave() {} };
