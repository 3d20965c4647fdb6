// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): the Events view, the last 500 messages of /api/events.
"use strict";

// --- Events -------------------------------------------------------------------------------
const evs = { source: null, lines: [] };

async function startEvents() {
  if (evs.source) return;
  const status = await apiState("/api/events");
  if (status !== 200) { missing("events-note", "/api/events", status); return; }
  setNote("events-note", "empty", "Nothing yet since this view opened (live from " +
    "/api/events).");
  evs.source = new EventSource("/api/events");
  evs.source.onmessage = (m) => {
    if (!evs.lines.length)
      setNote("events-note", "ok", "Live from /api/events (the last 500).");
    evs.lines.push(m.data);
    if (evs.lines.length > 500) evs.lines.shift();
    document.getElementById("event-list").textContent = evs.lines.join("\n");
  };
}

VIEWS.events = { enter: startEvents, leave() {} };
