// SPDX-License-Identifier: GPL-2.0
// Drives Debian's chromium through ksight's web UI for tests/e2e/test_ui.py:
//   node drive.js URL OUTDIR      (NODE_MODULES: where playwright-core is installed)
// Reads one JSON command a line on stdin, answers one JSON line each:
//   {"cmd":"open"}                                 load URL
//   {"cmd":"overview","pages":K,"timeout":S}       wait until K pages of /metrics are shown
//   {"cmd":"wait_events","min":X,"timeout":S}      wait until the events card shows >= X
//   {"cmd":"view","name":"map"|"events","timeout":S}  go to the view, wait for its note
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
        if (m.type() === "error" && !/404/.test(m.text())) errors.push("console: " + m.text());
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
