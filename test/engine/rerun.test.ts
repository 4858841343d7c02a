import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { Recorder } from "./helpers.ts";

describe("B2: schedulers can run again", () => {
  test("a second run calls every function again and resets every job's state first", async () => {
    let calls = 0;
    const a = new Job(async () => ++calls, { label: "a" });
    const b = new Job(async () => (a.result() ?? 0) * 10, { label: "b", required: a });
    const s = new Scheduler([a, b]);
    expect(await s.run()).toBe(true);
    expect(b.result()).toBe(10);
    const states: string[] = [];
    s.on((e) => {
      if (e.type === "job-state" && e.label === "a") states.push(`${e.previous}->${e.state}`);
    });
    expect(await s.run()).toBe(true);
    expect(calls).toBe(2);
    expect(b.result()).toBe(20);
    expect(states[0]).toBe("idle->running");
  });

  test("a failed run followed by a good one: outcome flags and exceptions are reset", async () => {
    let fail = true;
    const a = new Job(
      async () => {
        if (fail) throw new Error("first time");
        return "fine";
      },
      { label: "a" },
    );
    const s = new Scheduler([a]);
    expect(await s.run()).toBe(false);
    expect(s.failedCritical()).toBe(true);
    expect(a.isFailed()).toBe(true);
    fail = false;
    expect(await s.run()).toBe(true);
    expect(s.failedCritical()).toBe(false);
    expect(s.why()).toBe("ok");
    expect(a.isFailed()).toBe(false);
    expect(a.raisedException()).toBeUndefined();
    expect(a.result()).toBe("fine");
  });

  test("a timed-out run followed by a run with a larger timeout", async () => {
    const r = new Recorder();
    const s = new Scheduler([r.job("a", 150)]);
    expect(await s.run({ timeout: 30 })).toBe(false);
    expect(s.failedTimeout()).toBe(true);
    expect(await s.run({ timeout: 2000 })).toBe(true);
    expect(s.failedTimeout()).toBe(false);
    expect(r.spans.map((x) => x.outcome)).toEqual(["abort", "end"]);
  });

  test("nested schedulers and their jobs are reset too, and run again", async () => {
    let n = 0;
    const i = new Job(async () => ++n, { label: "i" });
    const inner = new Scheduler([i], { label: "inner" });
    const outer = new Scheduler([inner]);
    for (let k = 1; k <= 3; k++) {
      expect(await outer.run()).toBe(true);
      expect(i.result()).toBe(k);
      expect(inner.result()).toBe(true);
    }
  });

  test("a window scheduler runs again with its window (no stale running count)", async () => {
    const r = new Recorder();
    const jobs = Array.from({ length: 4 }, (_, k) => r.job(`w${k}`, 30));
    const s = new Scheduler(jobs, { window: 2 });
    expect(await s.run()).toBe(true);
    expect(await s.run()).toBe(true);
    expect(r.spans).toHaveLength(8);
    expect(r.maxConcurrency()).toBe(2);
  });

  test("an idle job of a failed run is idle again, then runs", async () => {
    let fail = true;
    const a = new Job(
      async () => {
        if (fail) throw new Error("x");
      },
      { label: "a" },
    );
    const b = new Job(async () => "b", { label: "b", required: a });
    const s = new Scheduler([a, b]);
    expect(await s.run()).toBe(false);
    expect(b.state).toBe("idle");
    fail = false;
    expect(await s.run()).toBe(true);
    expect(b.result()).toBe("b");
  });
});
