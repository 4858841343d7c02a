/**
 * The live view as a person sees it: `aiorch run` inside a real terminal (tmux), the screen
 * read with `capture-pane` while jobs run and at the end. Each test has its own session on
 * a private tmux server (socket) that afterAll kills.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const SOCKET = `aiorch-test-${process.pid}`;
const haveTmux = existsSync("/usr/bin/tmux") || existsSync("/usr/local/bin/tmux");
let sessions: string[] = [];
let counter = 0;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
}

/** Start `aiorch ARGS` in a detached session of the given size; the pane stays after exit. */
function startAiorch(
  args: string[],
  opts: { cols?: number; rows?: number; env?: string } = {},
): string {
  const name = `v${process.pid}-${++counter}`;
  const cmd = `cd ${JSON.stringify(ROOT)} && env -u NO_COLOR -u FORCE_COLOR LANG=C.UTF-8 ${opts.env ?? ""} ${JSON.stringify(process.execPath)} bin/aiorch.mjs ${args.join(" ")}; echo "EXIT=$?"; sleep 120`;
  tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(opts.cols ?? 120),
    "-y",
    String(opts.rows ?? 40),
    cmd,
  );
  sessions.push(name);
  return name;
}

/** The visible screen; `escapes` keeps colour codes. */
function screen(name: string, escapes = false): string {
  return tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", name);
}

/** Poll the screen until `ok(screen)` or the deadline; returns the matching screen. */
async function waitForScreen(
  name: string,
  ok: (s: string) => boolean,
  what: string,
  ms = 25_000,
): Promise<string> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    last = screen(name);
    if (ok(last)) return last;
    await sleep(50);
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

afterEach(() => {
  for (const s of sessions) {
    try {
      tmux("kill-session", "-t", s);
    } catch {
      // already gone
    }
  }
  sessions = [];
});
afterAll(() => {
  try {
    tmux("kill-server");
  } catch {
    // no server left
  }
});

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
