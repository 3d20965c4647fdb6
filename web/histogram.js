// SPDX-License-Identifier: GPL-2.0
// ksight's web UI (docs/ui.md): a Prometheus histogram (cumulative *_bucket{le} series) as
// bars, one per bucket, with its nearest-rank p50, p90 and p99; for a service's page.
"use strict";

// The histograms among the samples: one per family and label set (le and service aside),
// buckets in order with their own counts, and the nearest-rank percentiles' bucket bounds.
function histograms(samples) {
  const groups = new Map();
  for (const s of samples.filter((x) => x.name.endsWith("_bucket") && "le" in x.labels)) {
    const labels = Object.fromEntries(Object.entries(s.labels)
      .filter(([k]) => k !== "le" && k !== "service"));
    const family = s.name.slice(0, -"_bucket".length);
    const id = family + JSON.stringify(labels);
    if (!groups.has(id)) groups.set(id, { family, labels, cum: [] });
    groups.get(id).cum.push({ le: s.labels.le === "+Inf" ? Infinity : Number(s.labels.le),
      n: s.value });
  }
  return [...groups.values()].map((h) => {
    h.cum.sort((a, b) => a.le - b.le);
    const count = h.cum.length ? h.cum[h.cum.length - 1].n : 0;
    const buckets = h.cum.map((b, i) => ({ le: b.le, n: b.n - (i ? h.cum[i - 1].n : 0) }));
    const pct = (q) => {
      if (!count) return null;
      const rank = Math.ceil(q * count);
      return (h.cum.find((b) => b.n >= rank) || { le: Infinity }).le;
    };
    return { family: h.family, labels: h.labels, count, buckets,
      p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) };
  });
}

function drawHistogram(h) {
  // the buckets from the first to the last that holds something (all when none does)
  let lo = h.buckets.findIndex((b) => b.n > 0), hi = h.buckets.length - 1;
  while (hi > 0 && h.buckets[hi].n === 0) hi--;
  if (lo < 0) { lo = 0; hi = h.buckets.length - 1; }
  const shown = h.buckets.slice(lo, hi + 1);
  const max = Math.max(1, ...shown.map((b) => b.n));
  const bars = el("div", { class: "bars" });
  for (const b of shown) {
    bars.append(el("div", { class: "bar", "data-le": String(b.le), "data-n": String(b.n),
      title: "≤ " + fmtSecs(b.le) + ": " + b.n },
    el("div", { class: "fill", style: "height:" + (100 * b.n / max).toFixed(1) + "%" }),
    el("div", { class: "n" }, b.n ? String(b.n) : ""),
    el("div", { class: "le" }, "≤" + fmtSecs(b.le))));
  }
  const lab = Object.entries(h.labels).map(([k, v]) => k + "=" + v).join(", ");
  const p = (v) => (v === null ? "–" : "≤ " + fmtSecs(v));
  return el("div", { class: "histogram", "data-family": h.family, "data-labels": lab,
    "data-count": String(h.count), "data-p50": String(h.p50), "data-p90": String(h.p90),
    "data-p99": String(h.p99) },
  el("h3", {}, h.family + (lab ? " {" + lab + "}" : "")),
  el("p", { class: "note" }, h.count + " samples · p50 " + p(h.p50) + " · p90 " + p(h.p90) +
    " · p99 " + p(h.p99) + " (each the bound of the bucket that holds it)"),
  bars);
}
