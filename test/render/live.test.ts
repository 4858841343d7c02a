import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { measureWidth } from "../../src/render/cells.ts";
import { createLiveState, frame, reduceLiveState } from "../../src/render/live.ts";
import { EventScript, T0, demoScript } from "./events.ts";

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

function stateOf(script: EventScript, title = "") {
  const state = createLiveState({ title });
  for (const e of script.events) reduceLiveState(state, e);
  return state;
}

describe("frame()", () => {
  test("mid-run: header counts and times, one aligned line per job, groups indented", () => {
    const { script } = demoScript();
    const text = frame(stateOf(script), {
      rows: 20,
      cols: 100,
      now: T0 + 2500,
      color: false,
      ascii: false,
    });
    expect(text).toMatchInlineSnapshot(`
      "demo  ☓ 1 done  ↺ 1 running  ⚐ 3 idle  ★ 1 failed  │ 2.5s elapsed · 57.5s left of 1m00s
      ☓ fetch     0.7s  git clone https://example.org/app.git
      ↺ compile   1.7s  gcc -O2 -c main.c -o main.o
      ★ lint      0.9s  Error: 3 style errors
      ⚐ tests           0/2 ended
      ⚐   unit
      ⚐   e2e
      ⚐ pack            after tests"
    `);
  });

  test("ASCII badges", () => {
    const { script } = demoScript();
    const text = frame(stateOf(script), { rows: 20, cols: 100, now: T0 + 2500, ascii: true });
    expect(text).toMatchInlineSnapshot(`
      "demo  x 1 done  o 1 running  > 3 idle  ! 1 failed  │ 2.5s elapsed · 57.5s left of 1m00s
      x fetch     0.7s  git clone https://example.org/app.git
      o compile   1.7s  gcc -O2 -c main.c -o main.o
      ! lint      0.9s  Error: 3 style errors
      > tests           0/2 ended
      >   unit
      >   e2e
      > pack            after tests"
    `);
  });

  test("after the run: elapsed stops and the header tells the outcome", () => {
    const t = demoScript();
    t.script
      .state(2600, t.compile, "done")
      .state(2600, t.tests, "running")
      .state(2600, t.unit, "running", ["tests"])
      .state(2600, t.e2e, "running", ["tests"])
      .state(3000, t.unit, "done", ["tests"])
      .state(3300, t.e2e, "cancelled", ["tests"], new Error("cancelled: timed out after 3300 ms"))
      .state(3300, t.tests, "cancelled")
      .end(3300, false, "timeout");
    const text = frame(stateOf(t.script), { rows: 20, cols: 100, now: T0 + 9999, ascii: false });
    expect(text).toMatchInlineSnapshot(`
      "demo  ☓ 3 done  ↺ 0 running  ⚐ 1 idle  ★ 1 failed  ⊘ 1 cancelled  │ 3.3s elapsed · timeout
      ☓ fetch     0.7s  git clone https://example.org/app.git
      ☓ compile   1.8s  gcc -O2 -c main.c -o main.o
      ★ lint      0.9s  Error: 3 style errors
      ⊘ tests     0.7s  cancelled
      ☓   unit    0.4s
      ⊘   e2e     0.7s  Error: cancelled: timed out after 3300 ms
      ⚐ pack            after tests"
    `);
  });

  test("more jobs than rows: failed and running first, then a summary line", () => {
    const jobs = Array.from(
      { length: 50 },
      (_, i) => new Job(async () => i, { label: `job-${String(i).padStart(2, "0")}` }),
    );
    const root = new Scheduler(jobs, { label: "many" });
    const s = new EventScript(root).start(0);
    jobs.forEach((j, i) => {
      if (i < 30) s.state(i * 10, j, "running");
      if (i < 25)
        s.state(400 + i * 10, j, "done", [], i === 7 ? new Error("disk full") : undefined);
    });
    const state = stateOf(s);
    const text = frame(state, { rows: 10, cols: 80, now: T0 + 1000, ascii: false });
    expect(text.split("\n")).toHaveLength(9);
    expect(text).toMatchInlineSnapshot(`
      "many  ☓ 24 done  ↺ 5 running  ⚐ 20 idle  ★ 1 failed  │ 1.0s elapsed
      ★ job-07   0.4s  ⚠ Error: disk full
      ↺ job-25   0.7s
      ↺ job-26   0.7s
      ↺ job-27   0.7s
      ↺ job-28   0.7s
      ↺ job-29   0.7s
      ☓ job-24   0.4s
      … 43 more: 23 done · 20 idle"
    `);
  });

  test("no line is wider than the terminal, with long labels and output", () => {
    const t = demoScript();
    t.script.output(2000, t.compile, `gcc ${"-Wall ".repeat(40)}main.c`);
    const state = stateOf(t.script);
    for (const cols of [20, 40, 60, 200]) {
      const text = frame(state, { rows: 30, cols, now: T0 + 2500, ascii: false });
      for (const line of text.split("\n")) expect(measureWidth(line)).toBeLessThan(cols);
    }
    const narrow = frame(state, { rows: 30, cols: 40, now: T0 + 2500, ascii: false });
    expect(narrow.split("\n")[2]).toBe("↺ compile   1.7s  gcc -Wall -Wall -Wal…");
  });

  test("colours only when asked", () => {
    const { script } = demoScript();
    const state = stateOf(script);
    const plain = frame(state, { rows: 20, cols: 100, now: T0 + 2500, color: false });
    const colored = frame(state, { rows: 20, cols: 100, now: T0 + 2500, color: true });
    expect(plain).not.toContain("\u001b[");
    expect(colored).toContain("\u001b[31m"); // the failure in red
    expect(colored).toContain("\u001b[33m"); // running in yellow
    expect(stripAnsi(colored)).toBe(plain);
  });

  test("host column for SSH jobs, from their output events", () => {
    const a = new Job(async () => 1, { label: "uname" });
    const root = new Scheduler([a], { label: "fleet" });
    const s = new EventScript(root)
      .start(0)
      .state(0, a, "running")
      .output(100, a, "Linux n3 6.1", [], "n3.lab");
    const text = frame(stateOf(s), { rows: 10, cols: 80, now: T0 + 500, ascii: false });
    expect(text.split("\n")[1]).toBe("↺ uname   0.5s n3.lab  Linux n3 6.1");
  });

  test("a tiny terminal still gets the header", () => {
    const { script } = demoScript();
    expect(
      frame(stateOf(script), { rows: 1, cols: 80, now: T0, ascii: false }).split("\n"),
    ).toHaveLength(1);
  });
});

describe("reduceLiveState()", () => {
  test("follows a real run, nested schedulers included, and resets on the next run", async () => {
    const a = new Job(async ({ log }) => log("hello \u001b[1mworld\u001b[0m"), { label: "a" });
    const b = new Job(
      async () => {
        throw new Error("nope");
      },
      { label: "b", critical: false },
    );
    const c = new Job(async () => 3, { label: "c" });
    const inner = new Scheduler([c], { label: "inner", required: a });
    const root = new Scheduler([a, b, inner], { label: "root" });
    const state = createLiveState();
    root.on((e) => reduceLiveState(state, e));
    for (let run = 0; run < 2; run++) {
      expect(await root.run()).toBe(true);
      expect(state.counts).toEqual({
        idle: 0,
        scheduled: 0,
        running: 0,
        done: 2,
        restored: 0,
        failed: 1,
        cancelled: 0,
      });
      expect(state.jobs.map((j) => j.key)).toEqual(["a", "b", "inner", "inner/c"]);
      expect(state.jobs[0]!.output).toEqual(["hello world"]);
      expect(state.jobs[1]!.error).toBe("Error: nope");
      expect(state.jobs[2]!.membersEnded).toBe(1);
      expect(state.result).toMatchObject({ ok: true, reason: "ok" });
      expect(state.title).toBe("root");
    }
  });

  test("1,000 events a job in O(1): 100k output lines reduce in well under a second", () => {
    const jobs = Array.from({ length: 1000 }, () => new Job(async () => 0));
    const s = new EventScript(new Scheduler(jobs)).start(0);
    const state = stateOf(s);
    const t = performance.now();
    for (let k = 0; k < 100; k++)
      for (const j of jobs)
        reduceLiveState(state, {
          type: "job-output",
          time: T0,
          job: j,
          label: j.label,
          path: [],
          stream: "stdout",
          line: "x",
        });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(state.jobs).toHaveLength(1000);
  });
});
