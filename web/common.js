// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): what every view shares: the Prometheus text parser, number
// formats, element building, and how a view says that its endpoint is missing or empty.
"use strict";

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

// A view's note: data-state says what the view shows ("ok", "empty", "missing", "error"),
// for the reader (the colour) and for tests/ui/drive.js.
function setNote(noteId, state, text) {
  const n = document.getElementById(noteId);
  n.className = state === "ok" ? "note" : state === "empty" ? "note empty" : "note missing";
  n.dataset.state = state;
  n.textContent = text;
}

// GET a JSON endpoint: {status, body} (body null when the answer is not JSON, status 0
// when there was no answer). A 4xx body is the agent's {"error": "..."}.
async function fetchJSON(path) {
  const r = await fetch(path, { cache: "no-store" }).catch(() => null);
  if (!r) return { status: 0, body: null };
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  return { status: r.status, body };
}

// An endpoint that did not answer 200: missing (404 without a reason of its own) or an
// error, with the agent's own words when it gave some.
function notOk(noteId, path, res) {
  const why = res.body && res.body.error ? ": " + res.body.error : "";
  if (res.status === 404 && !why) return missing(noteId, path, 404);
  setNote(noteId, res.status === 404 ? "missing" : "error",
    path + " answered " + (res.status || "nothing") + why);
}

const fmtNs = (ns) => ns === null || ns === undefined ? "–"
  : ns >= 1e9 ? (ns / 1e9).toFixed(2) + " s" : ns >= 1e6 ? (ns / 1e6).toFixed(2) + " ms"
    : ns >= 1e3 ? (ns / 1e3).toFixed(1) + " µs" : ns + " ns";
const fmtSecs = (s) => (isFinite(s) ? fmtNs(Math.round(s * 1e9)) : "+Inf");
const fmtBytes = (b) => b === null || b === undefined ? "–"
  : b >= 1 << 30 ? (b / (1 << 30)).toFixed(1) + " GiB" : b >= 1 << 20
    ? (b / (1 << 20)).toFixed(1) + " MiB" : b >= 1024 ? (b / 1024).toFixed(1) + " KiB" : b + " B";

// A map node as the reader knows it: a remote endpoint that a DNS answer named (the
// agent's "dns", docs/map.md) as "name (ADDR:PORT)"; its ID stays ADDR:PORT.
const nodeLabel = (name, dns) => (dns ? dns + " (" + name + ")" : name);

// The views besides the Overview: VIEWS[name] = {enter(arg), leave()}; ui.js routes
// #name/arg to them.
const VIEWS = {};
