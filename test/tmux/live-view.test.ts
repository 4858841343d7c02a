/**
 * The live view as a person sees it: `aiorch run` inside a real terminal (tmux), the screen
 * read with `capture-pane` while jobs run and at the end. Each test has its own session on
 * a private tmux server (socket) that afterAll kills.
 */
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { haveTmux, killAll, killServer, screen, startAiorch, waitForScreen } from "./tmux.ts";

afterEach(killAll);
afterAll(killServer);

const HEADER =
  /^view-demo\.scenario\.ts {2}☓ (\d+) done {2}↺ (\d+) running {2}⚐ (\d+) idle {2}★ (\d+) failed {2}│ [\d.]+s elapsed · [\d.]+s left of 30\.0s$/m;

describe.runIf(haveTmux || process.env.CI)("live view in a terminal", () => {
  test("while jobs run: header counts, ↺ running jobs with elapsed and last line; at the end: the debrief", async () => {
    const s = startAiorch(["run", "test/fixtures/view-demo.scenario.ts"]);
    const running = await waitForScreen(
      s,
      (x) => /↺ compile +\d+\.\ds {2}compile: step/.test(x),
      "compile running with output",
    );
    const [, done, run, idle, failed] = HEADER.exec(running) ?? [];
    expect(running).toMatch(HEADER);
    expect(Number(run)).toBeGreaterThanOrEqual(1);
    expect(Number(done) + Number(run) + Number(idle) + Number(failed)).toBe(6);
    expect(running).toMatch(/^☓ fetch-sources +0\.\ds {2}fetch-sources: step 4\/4$/m);
    // nested scheduler: its jobs indented under it
    expect(running).toMatch(/^. tests {3,}.*\n. {3}unit-tests/m);

    const end = await waitForScreen(s, (x) => x.includes("EXIT="), "the end");
    expect(end).toContain("EXIT=0");
    expect(end).toMatch(/^----- ok \(\d+ ms\)$/m);
    expect(end).toContain("non-critical: lint: Error: 3 style errors");
    // the live lines are gone: only the debrief remains
    expect(end).not.toMatch(HEADER);
    expect(end).not.toContain("↺");
  });

  test("a critical failure: red ★ while running, then the debrief once, exit 1", async () => {
    const s = startAiorch(["run", "test/fixtures/view-critical.scenario.ts"]);
    const running = await waitForScreen(s, (x) => x.includes("↺ slow-job"), "slow-job running");
    expect(running).toMatch(/^↺ deploy +\d\.\ds {2}deploy: pushing release$/m);
    expect(running).toMatch(/^⚐ announce +after deploy$/m);
    const end = await waitForScreen(s, (x) => x.includes("EXIT="), "the end");
    expect(end).toContain("EXIT=1");
    expect(
      end.match(/^----- critical job "deploy" failed: Error: permission denied on \/srv\/app/gm),
    ).toHaveLength(1);
  });

  test("more jobs than rows: failed and running first, a summary line, nothing scrolls", async () => {
    const s = startAiorch(["run", "test/fixtures/view-many.scenario.ts"], { cols: 90, rows: 12 });
    const shown = await waitForScreen(
      s,
      (x) => /item-03 .*item 3 is corrupt/.test(x) && x.includes("↺ item-"),
      "the failure and running jobs",
    );
    const lines = shown.split("\n").filter((l) => l.trim() !== "");
    expect(lines[0]).toMatch(/^view-many\.scenario\.ts {2}☓ \d+ done {2}↺ \d+ running/);
    expect(lines[1]).toMatch(/^★ item-03 +0\.\ds {2}Error: item 3 is corrupt$/);
    expect(lines[2]).toMatch(/^↺ item-\d\d/);
    expect(lines.at(-1)).toMatch(/^… \d+ more: /);
    expect(lines.length).toBeLessThanOrEqual(11);
    const end = await waitForScreen(s, (x) => x.includes("EXIT="), "the end");
    expect(end).toContain("EXIT=0");
  });

  test("colours on a terminal, none with NO_COLOR; --plain gives timestamped lines", async () => {
    const colored = startAiorch(["run", "test/fixtures/view-demo.scenario.ts"]);
    const bare = startAiorch(["run", "test/fixtures/view-demo.scenario.ts"], { env: "NO_COLOR=1" });
    const plain = startAiorch(["run", "test/fixtures/view-demo.scenario.ts", "--plain"]);
    await waitForScreen(colored, (x) => x.includes("↺ compile"), "compile running");
    expect(screen(colored, true)).toMatch(/\u001b\[(\d+;)*33m/); // yellow: running
    await waitForScreen(bare, (x) => x.includes("↺ compile"), "compile running");
    expect(screen(bare, true)).not.toMatch(/\u001b\[[\d;]*m/);
    const early = await waitForScreen(
      plain,
      (x) => x.includes("compile started"),
      "compile started",
    );
    expect(early).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ↺ compile started$/m);
    expect(screen(plain, true)).not.toMatch(/\u001b\[[\d;]*m/);
    const p = await waitForScreen(plain, (x) => x.includes("EXIT="), "the end");
    expect(p).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ■ end view-demo: ok after \d+ ms$/m);
    expect(p).toMatch(/^----- ok \(\d+ ms\)$/m);
  });
});
