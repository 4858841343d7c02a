/**
 * The HTML report as a browser shows it: headless Chromium (Debian package `chromium`)
 * opens the file offline, the test checks what is drawn, hovers a bar, takes a screenshot.
 * Skipped on a developer machine without Chromium; FAILS in CI (`CI` set) when it is missing.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";
import { afterAll, expect, test } from "vitest";
import { Job, type JobContext, Scheduler } from "../../src/index.ts";
import { createLiveState, reduceLiveState } from "../../src/render/live.ts";
import { renderReport } from "../../src/render/report.ts";
import { buildTimeline } from "../../src/render/timeline.ts";

/** what the page code uses of `window` (the test compiles without the DOM lib) */
interface BrowserWindow {
  getComputedStyle(el: unknown): { backgroundColor: string };
}

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const tmp = mkdtempSync(join(tmpdir(), "aiorch-shot-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function writeDemoReport(file: string): Promise<void> {
  const step = (label: string, ms: number, fail?: string) =>
    new Job(
      async ({ signal, log }: JobContext) => {
        log(`$ make ${label}`);
        await sleep(ms, undefined, { signal });
        if (fail) throw new Error(fail);
      },
      { label, critical: fail ? false : undefined },
    );
  const a = step("fetch", 60);
  const b = step("compile", 150).requires(a);
  const c = step("lint", 40, "3 style errors").requires(a);
  const g = new Scheduler([step("unit", 50), step("e2e", 120)], { label: "tests" }).requires(b);
  const d = step("package", 40).requires(g, c);
  const s = new Scheduler([a, b, c, g, d], { label: "screenshot demo" });
  const state = createLiveState({ tail: 20 });
  s.on((e) => reduceLiveState(state, e));
  await s.run();
  writeFileSync(file, renderReport({ model: buildTimeline({ state, debrief: s.debrief() }) }));
}

test.skipIf(!present && !process.env.CI)(
  "the report renders in headless Chromium, offline",
  async () => {
    expect(present, `${CHROMIUM} is missing: install the Debian package "chromium"`).toBe(true);
    const html = join(tmp, "report.html");
    await writeDemoReport(html);
    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmp, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(`file://${html}`);

      // every job has a bar with a width, coloured by outcome
      const bars = await page.$$eval(".row:not(.axis) .bar", (els) =>
        els.map((el) => ({
          cls: el.className,
          width: el.getBoundingClientRect().width,
          color: (el.ownerDocument.defaultView as unknown as BrowserWindow).getComputedStyle(el)
            .backgroundColor,
        })),
      );
      expect(bars).toHaveLength(7);
      for (const b of bars) expect(b.width).toBeGreaterThan(1);
      expect(bars.find((b) => b.cls.startsWith("bar failed"))!.color).toBe("rgb(217, 59, 59)");
      expect(bars.filter((b) => b.cls.includes(" cp"))).toHaveLength(4);
      // the graph is drawn
      const graph = await page.$eval("svg.graph", (el) => el.getBoundingClientRect());
      expect(graph.width).toBeGreaterThan(300);
      expect(await page.$$eval("svg.graph .node", (els) => els.length)).toBe(6);

      // hovering a bar shows its output and error
      await page.hover('.row[data-id="lint"] .bar');
      const tip = page.locator("#tip");
      await expect.poll(() => tip.isVisible()).toBe(true);
      const text = (await tip.textContent()) ?? "";
      expect(text).toContain("lint");
      expect(text).toContain("$ make lint");
      expect(text).toContain("Error: 3 style errors");

      const png = join(tmp, "report.png");
      await page.screenshot({ path: png, fullPage: true });
      expect(statSync(png).size).toBeGreaterThan(20_000);
      expect(errors).toEqual([]);
      expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
    } finally {
      await context.close();
    }
  },
);
