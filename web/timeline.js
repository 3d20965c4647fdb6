// SPDX-License-Identifier: GPL-2.0
// A service's timeline on its page (docs/ui.md): /api/services/NAME/timeline, the last
// intervals' requests, TCP sessions, reads and writes (file and socket apart), disk I/O
// and its p99 latency, and run-queue delay side by side, "off" where the module that
// measures a column did not run, "-" where there is no value to give (docs/store.md).
"use strict";

const TIMELINE_ROWS = 30;   // the newest intervals shown
// [group, key, header, format]: each group is null when its module did not run; a key
// "kind.field" reads a part that may be null (no split in the store)
const TIMELINE_COLS = [
  ["requests", "served", "req in", (v) => fmt(v, 0)],
  ["requests", "served_errors", "err", (v) => fmt(v, 0)],
  ["requests", "served_p99_ns", "p99", fmtNs],
  ["requests", "made", "req out", (v) => fmt(v, 0)],
  ["tcp", "connections", "conns", (v) => fmt(v, 0)],
  ["tcp", "sent_bytes", "tcp tx", fmtBytes],
  ["tcp", "received_bytes", "tcp rx", fmtBytes],
  ["io", "read_bytes", "io read", fmtBytes],
  ["io", "written_bytes", "io write", fmtBytes],
  ["io", "file.read_bytes", "file read", fmtBytes],
  ["io", "file.written_bytes", "file write", fmtBytes],
  ["io", "socket.read_bytes", "sock read", fmtBytes],
  ["io", "socket.written_bytes", "sock write", fmtBytes],
  ["disk", "requests", "disk ops", (v) => fmt(v, 0)],
  ["disk", "read_bytes", "disk read", fmtBytes],
  ["disk", "write_bytes", "disk write", fmtBytes],
  ["disk", "p99_ns", "disk p99", fmtNs],
  ["runq", "delays", "runq n", (v) => fmt(v, 0)],
  ["runq", "delay_total_ns", "runq total", fmtNs],
];

function timelineRow(r) {
  const t = new Date(r.ts_ns / 1e6).toLocaleTimeString();
  const tr = el("tr", { "data-ts": String(r.ts_ns), "data-off": r.off.join(",") },
    el("td", {}, t));
  for (const [g, key, , f] of TIMELINE_COLS) {
    const grp = r[g];
    if (!grp) {
      tr.append(el("td", { class: "num off", "data-key": g + "." + key, "data-value": "off" },
        "off"));
      continue;
    }
    const v = key.split(".").reduce((o, k) => (o == null ? null : o[k]), grp);
    tr.append(el("td", { class: "num", "data-key": g + "." + key, "data-value": String(v) },
      v == null ? "-" : f(v)));
  }
  return tr;
}

async function loadTimeline(name) {
  const path = "/api/services/" + encodeURIComponent(name) + "/timeline?since=10m";
  const res = await fetchJSON(path);
  if (name !== sv.name) return;
  const table = document.getElementById("service-timeline");
  if (res.status !== 200 || !res.body) {
    table.tBodies[0].replaceChildren();
    return notOk("service-timeline-note", path, res);
  }
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, "interval end"),
    ...TIMELINE_COLS.map(([, , h]) => el("th", { class: "num" }, h))));
  const rows = res.body.intervals.slice(-TIMELINE_ROWS);
  table.tBodies[0].replaceChildren(...rows.map(timelineRow));
  setNote("service-timeline-note", rows.length ? "ok" : "empty", rows.length
    ? "The last " + rows.length + " intervals of the last 10 minutes, oldest first; " +
      "off: the module that measures it did not run; -: nothing to give (no disk " +
      "request timed, no file/socket split in the store) (/api/services/NAME/timeline)."
    : "No interval of the agent in the last 10 minutes.");
}
