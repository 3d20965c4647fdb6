// SPDX-License-Identifier: GPL-2.0
// Drives Debian's chromium through ksight's web UI for tests/e2e/test_ui.py:
//   node drive.js URL OUTDIR      (NODE_MODULES: where playwright-core is installed)
// Reads one JSON command a line on stdin, answers one JSON line each:
//   {"cmd":"open"}                                 load URL
//   {"cmd":"overview","pages":K,"timeout":S}       wait until K pages of /metrics are shown
//   {"cmd":"wait_events","min":X,"timeout":S}      wait until the events card shows >= X
//   {"cmd":"view","name":"map"|"events","timeout":S}  go to the view, wait for its note
//   {"cmd":"click_node","name":N,"timeout":S}       on the map, click service N's node (the
//                                                  mouse, where cytoscape drew it); the hash
//   {"cmd":"map_node","id":I,"timeout":S}           on the map, until node I is drawn: its label
//   {"cmd":"map_edge","client":C,"server":S,"port":P,"reqs":R,"timeout":S}  on the map,
//                                                  until the TCP edge C -> S:P has R
//                                                  requests: its label, what was drawn
//   {"cmd":"service","name":N,"client":C,"timeout":S}  #service/N until an edge in from C and
//                                                  a histogram with samples are shown
//                                                  (and, with "family" and "sum", until
//                                                  the rate points' growth of it reaches it);
//                                                  with "server" instead of "client": until
//                                                  an edge out to that server is shown;
//                                                  and until the timeline has rows;
//                                                  each edge's first 2 cells ("all_cells":
//                                                  every cell)
//   {"cmd":"services","name":N,"timeout":S}         #services until N is listed; its link
//   {"cmd":"alerts","pid":P,"timeout":S}            #alerts, until a row of pid P is shown
//   {"cmd":"diff","dur":D,"expect":400,"timeout":S}  #diff, D in the field, Compare, until
//                                                  the answer is shown (a 400 expected)
//   {"cmd":"overhead","text":T,"timeout":S}        #overhead, until the view has drawn the page
//                                                  T of /metrics (without T: any page); what
//                                                  it shows, the page it drew, "matched"
//   {"cmd":"screenshot","name":N}                  OUTDIR/N.png, the full page
//   {"cmd":"close"}
// Every answer has "errors": what the page threw or logged as an error so far.
"use strict";
const path = require("path");
const readline = require("readline");
const { chromium } = require(path.join(process.env.NODE_MODULES || "node_modules",
  "playwright-core"));

const [url, outdir] = process.argv.slice(2);
let browser, page;
const errors = [];
// the console's failed loads that are the page asking what this agent has (404), and one
// the test provokes on purpose ("expect": a status)
let expected = /404/;

async function overview() {
  return page.evaluate(() => {
    const rows = (sel) => [...document.querySelectorAll(sel + " tbody tr")];
    return {
      pages: Number(document.body.dataset.pages || 0),
      events: Number(document.getElementById("events-total").dataset.value),
      lost: Number(document.getElementById("lost-total").dataset.value),
      programs: rows("#programs").map((r) => ({ module: r.dataset.module,
        program: r.dataset.program, runs: Number(r.dataset.runs),
        ns: r.dataset.ns === "" ? null : Number(r.dataset.ns),
        cells: [...r.cells].map((c) => c.textContent) })),
      losses: rows("#losses").map((r) => ({ metric: r.dataset.metric,
        labels: r.dataset.labels, value: Number(r.dataset.value),
        shown: r.cells[2].textContent })),
      types: Object.fromEntries(rows("#types").map((r) =>
        [r.dataset.type, Number(r.cells[1].textContent)])),
      status: document.getElementById("status").textContent,
      // the embedded libraries loaded, and uPlot drew the rate chart
      libs: { cytoscape: typeof cytoscape, uPlot: typeof uPlot },
      chart: !!document.querySelector("#rate-chart canvas"),
    };
  });
}

async function run(c) {
  const ms = (c.timeout || 30) * 1000;
  switch (c.cmd) {
    case "open":
      browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
        headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
      page.on("console", (m) => {
        // a 404 of /api/* is the page asking what this agent has: expected
        if (m.type() === "error" && !expected.test(m.text())) errors.push("console: " + m.text());
      });
      await page.goto(url, { waitUntil: "load", timeout: ms });
      return { title: await page.title() };
    case "overview":
      await page.waitForFunction((k) => Number(document.body.dataset.pages || 0) >= k,
        c.pages || 1, { timeout: ms });
      return overview();
    case "wait_events":
      try {
        await page.waitForFunction((x) =>
          Number(document.getElementById("events-total").dataset.value) >= x, c.min,
        { timeout: ms });
      } catch (e) { /* the test reports what was shown */ }
      return overview();
    case "view": {
      await page.evaluate((n) => { location.hash = "#" + n; }, c.name);
      const note = "#" + c.name + "-note";
      await page.waitForFunction((sel) => !!document.querySelector(sel).dataset.state, note,
        { timeout: ms });
      return page.evaluate((sel) => {
        const n = document.querySelector(sel);
        return { state: n.dataset.state, text: n.textContent,
          visible: !document.getElementById("page-overview").hidden ? "overview" : "other" };
      }, note);
    }
    case "click_node": {
      // as a reader would: pan to the node, zoom in, click it. The map is laid out again
      // when an edge comes or goes (any TCP session of the machine): a click that a new
      // layout sent elsewhere is tried again, back on the map
      const want = "#service/" + c.name;
      const deadline = Date.now() + ms;
      for (;;) {
        await page.evaluate(() => { location.hash = "#map"; });
        await page.waitForFunction((n) => typeof mp !== "undefined" && mp.cy &&
          mp.cy.$id(n).length > 0, c.name, { timeout: ms });
        const at = await page.evaluate((n) => {
          const node = mp.cy.$id(n);
          mp.cy.zoom(2);
          mp.cy.center(node);
          const p = node.renderedPosition();
          const r = document.getElementById("map-graph").getBoundingClientRect();
          return { x: r.left + p.x, y: r.top + p.y };
        }, c.name);
        await page.mouse.click(at.x, at.y);
        try {
          await page.waitForFunction(() => location.hash.startsWith("#service/"), null,
            { timeout: 2000 });
        } catch (e) { /* missed: again */ }
        const hash = await page.evaluate(() => decodeURIComponent(location.hash));
        if (hash === want || Date.now() > deadline) return { hash };
      }
    }
    case "map_node": {
      await page.evaluate(() => { location.hash = "#map"; });
      await page.waitForFunction((n) => typeof mp !== "undefined" && mp.cy &&
        mp.cy.$id(n).length > 0, c.id, { timeout: ms });
      return page.evaluate((n) => {
        const node = mp.cy.$id(n);
        return { label: node.data("label"), kind: node.data("kind"), dns: node.data("dns"),
          // what cytoscape drew: the style's label of the node
          drawn: node.style("label") };
      }, c.id);
    }
    case "map_edge": {
      await page.evaluate(() => { location.hash = "#map"; });
      await page.waitForFunction((c) => typeof mp !== "undefined" && mp.cy &&
        mp.cy.edges().some((e) => e.data("source") === c.client &&
          e.data("target") === c.server && e.data("port") === c.port &&
          e.data("reqs") === c.reqs), c, { timeout: ms });
      return page.evaluate((c) => {
        const e = mp.cy.edges().filter((x) => x.data("source") === c.client &&
          x.data("target") === c.server && x.data("port") === c.port)[0];
        return { label: e.data("label"), drawn: e.style("label"), reqs: e.data("reqs"),
          req_p99: e.data("req_p99") };
      }, c);
    }
    case "service": {
      if (c.name !== undefined)
        await page.evaluate((n) => { location.hash = "#service/" + encodeURIComponent(n); },
          c.name);
      try {
        await page.waitForFunction(([cl, fam, want, srv]) => {
          const st = document.getElementById("service-note").dataset.state;
          if (st && st !== "ok" && st !== "empty") return true;
          if (srv !== null)
            return [...document.querySelectorAll("#service-out tbody tr")]
              .some((r) => r.dataset.server === srv);
          if (fam && sv.deltas.reduce((a, d) => a + (d[fam] || 0), 0) < want) return false;
          return [...document.querySelectorAll("#service-in tbody tr")]
            .some((r) => r.dataset.client === cl) &&
            [...document.querySelectorAll("#service-histograms .histogram")]
              .some((h) => Number(h.dataset.count) > 0) &&
            !!document.querySelector("#service-rates canvas") &&
            !!document.querySelector("#service-timeline tbody tr");
        }, [c.client, c.family || null, c.sum || 0, c.server ?? null], { timeout: ms });
      } catch (e) { /* the test reports what was shown */ }
      return page.evaluate((all) => {
        const edges = (id) => [...document.querySelectorAll(id + " tbody tr")]
          .filter((r) => r.dataset.client !== undefined).map((r) => ({ client: r.dataset.client,
            server: r.dataset.server, kind: r.dataset.kind, port: Number(r.dataset.port),
            connections: Number(r.dataset.connections), client_dns: r.dataset.clientDns || null,
            server_dns: r.dataset.serverDns || null,
            cells: [...r.cells].slice(0, all ? undefined : 2).map((x) => x.textContent) }));
        const num = (v) => (v === "null" ? null : Number(v));
        return {
          state: document.getElementById("service-note").dataset.state,
          text: document.getElementById("service-note").textContent,
          hash: decodeURIComponent(location.hash),
          edges_in: edges("#service-in"), edges_out: edges("#service-out"),
          histograms: [...document.querySelectorAll("#service-histograms .histogram")]
            .map((h) => ({ family: h.dataset.family, labels: h.dataset.labels,
              count: Number(h.dataset.count), p50: num(h.dataset.p50),
              p90: num(h.dataset.p90), p99: num(h.dataset.p99),
              bars: [...h.querySelectorAll(".bar")].map((b) => ({ le: Number(b.dataset.le),
                n: Number(b.dataset.n), height: b.querySelector(".fill").style.height })),
              text: h.querySelector("p").textContent })),
          modules: Object.fromEntries([...document.querySelectorAll(
            "#service-resources tr.module")].map((r) => [r.dataset.module, r.dataset.state])),
          chart: !!document.querySelector("#service-rates canvas"),
          // the timeline's rows: what each cell holds ("off": its module did not run)
          timeline: [...document.querySelectorAll("#service-timeline tbody tr")].map((r) => ({
            off: r.dataset.off, cells: Object.fromEntries([...r.querySelectorAll("td[data-key]")]
              .map((d) => [d.dataset.key, d.dataset.value])) })),
          // each rate point's growth per counter family (service.js keeps them)
          deltas: sv.deltas,
        };
      }, !!c.all_cells);
    }
    case "services": {
      await page.evaluate(() => { location.hash = "#services"; });
      try {
        await page.waitForFunction((n) => !!document.querySelector(
          "#services-list tr[data-service=\"" + CSS.escape(n) + "\"]"), c.name,
        { timeout: ms });
      } catch (e) { /* reported below */ }
      return page.evaluate((n) => {
        const r = [...document.querySelectorAll("#services-list tbody tr")];
        const mine = r.find((x) => x.dataset.service === n);
        return { state: document.getElementById("services-note").dataset.state,
          services: r.map((x) => x.dataset.service),
          link: mine ? mine.querySelector("a").getAttribute("href") : null };
      }, c.name);
    }
    case "alerts": {
      await page.evaluate(() => { location.hash = "#alerts"; });
      try {
        // the row, and the counts caught up with the rows (they are redrawn 5 times a second)
        await page.waitForFunction((pid) => {
          const rows = document.querySelectorAll("#alert-list tbody tr").length;
          const counted = [...document.querySelectorAll("#alert-counts tbody tr")]
            .reduce((a, r) => a + Number(r.dataset.count), 0);
          return !!document.querySelector("#alert-list tr[data-pid=\"" + pid + "\"]") &&
            (counted === rows || rows >= 500);
        }, String(c.pid), { timeout: ms });
      } catch (e) { /* reported below */ }
      return page.evaluate((pid) => ({
        state: document.getElementById("alerts-note").dataset.state,
        text: document.getElementById("alerts-note").textContent,
        rows: [...document.querySelectorAll("#alert-list tbody tr")]
          .filter((r) => r.dataset.pid === pid).map((r) => ({ rule: r.dataset.rule,
            severity: r.dataset.severity, ppid: Number(r.dataset.ppid),
            parent: r.dataset.parent, path: r.dataset.path,
            cells: [...r.cells].map((x) => x.textContent) })),
        rules: [...document.querySelectorAll("#alert-list tbody tr")].map((r) => r.dataset.rule),
        counts: [...document.querySelectorAll("#alert-counts tbody tr")].map((r) => ({
          rule: r.dataset.rule, severity: r.dataset.severity, count: Number(r.dataset.count) })),
      }), String(c.pid));
    }
    case "diff": {
      await page.evaluate(() => { location.hash = "#diff"; });
      await page.waitForFunction(() => !!document.getElementById("diff-note").dataset.state,
        null, { timeout: ms });
      const loads = await page.evaluate(() => Number(document.body.dataset.diffLoads || 0));
      expected = c.expect ? new RegExp("404|status of " + c.expect) : /404/;
      await page.fill("#diff-dur", c.dur);
      if (c.since !== undefined) await page.fill("#diff-since", c.since);
      await page.click("#diff-go");
      await page.waitForFunction((k) => Number(document.body.dataset.diffLoads || 0) > k ||
        ["missing", "error"].includes(document.getElementById("diff-note").dataset.state),
      loads, { timeout: ms });
      const out = await page.evaluate(() => ({
        state: document.getElementById("diff-note").dataset.state,
        text: document.getElementById("diff-note").textContent,
        rows: [...document.querySelectorAll("#diff-list tbody tr")].map((r) => ({
          change: r.dataset.change, client: r.dataset.client, server: r.dataset.server,
          kind: r.dataset.kind, port: Number(r.dataset.port),
          cells: [...r.cells].map((x) => x.textContent) })),
      }));
      expected = /404/;
      return out;
    }
    case "overhead": {
      await page.evaluate(() => { location.hash = "#overhead"; });
      try {
        await page.waitForFunction((t) => !!document.getElementById("overhead-note").dataset.state &&
          (t === null || oh.text === t), c.text ?? null, { timeout: ms });
      } catch (e) {
        if (c.text === undefined) throw e;   /* with T: the test tries another page */
      }
      return page.evaluate((t) => {
        const rows = (sel) => [...document.querySelectorAll(sel + " tbody tr")];
        const val = (id) => {
          const v = document.getElementById(id).dataset.value;
          return v === undefined || v === "" ? null : Number(v);
        };
        const note = document.getElementById("overhead-note");
        const prog = document.getElementById("oh-prog-note");
        return { text: oh.text, matched: t === null || oh.text === t,
          state: note.dataset.state, note: note.textContent,
          cpu: val("oh-cpu"), cpu_total: val("oh-cpu-total"), rss: val("oh-rss"),
          lost: val("oh-lost"), lost_shown: document.getElementById("oh-lost").textContent,
          types: rows("#oh-types").map((r) => ({ type: r.dataset.type,
            events: Number(r.dataset.events), lost: Number(r.dataset.lost),
            red: r.classList.contains("lost"), cells: [...r.cells].map((x) => x.textContent) })),
          sinks: rows("#oh-sinks").map((r) => ({ sink: r.dataset.sink,
            records: Number(r.dataset.records), dropped: Number(r.dataset.dropped) })),
          programs: rows("#oh-programs").map((r) => ({ module: r.dataset.module,
            program: r.dataset.program, runs: Number(r.dataset.runs),
            seconds: Number(r.dataset.seconds), cells: [...r.cells].map((x) => x.textContent) })),
          bpf_stats: prog.dataset.bpfStats, prog_note: prog.textContent,
          programs_hidden: document.getElementById("oh-programs").hidden,
          chart: !!document.querySelector("#oh-chart canvas"),
          visible: !document.getElementById("page-overhead").hidden };
      }, c.text ?? null);
    }
    case "screenshot":
      await page.screenshot({ path: path.join(outdir, c.name + ".png"), fullPage: true });
      return { path: path.join(outdir, c.name + ".png") };
    case "close":
      if (browser) await browser.close();
      return {};
    default:
      throw new Error("unknown command " + c.cmd);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  rl.pause();
  let out;
  try {
    out = { ok: true, ...(await run(JSON.parse(line))) };
  } catch (e) {
    out = { ok: false, error: String(e && e.message || e) };
  }
  out.errors = errors.slice();
  process.stdout.write(JSON.stringify(out) + "\n");
  if (JSON.parse(line).cmd === "close") process.exit(0);
  rl.resume();
});
