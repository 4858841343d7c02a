import { describe, expect, test } from "vitest";
import { Job, type JobState, Scheduler } from "../../src/index.ts";
import { Recorder, sleep, timed } from "./helpers.ts";

function fifteen(r: Recorder): Job<string>[] {
  return Array.from({ length: 15 }, (_, i) => r.job(`w${i + 1}`, 100));
}

describe("window", () => {
  test("test_window: 15 jobs x 100 ms with window 3 take about 500 ms, 3 at a time", async () => {
    const r = new Recorder();
    const s = new Scheduler(fifteen(r), { window: 3 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(r.maxConcurrency()).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(1500);
  });

  test("test_no_window: 15 jobs x 100 ms without window take about 100 ms, all at once", async () => {
    const r = new Recorder();
    const s = new Scheduler(fifteen(r));
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(r.maxConcurrency()).toBe(15);
    expect(ms).toBeGreaterThanOrEqual(90);
    // all 15 ran at once (asserted above); the bound only has to stay clear of window 3
    expect(ms).toBeLessThan(450);
  });

  test("window 0 means no limit; run({ window }) overrides the scheduler's", async () => {
    const r = new Recorder();
    const s = new Scheduler(fifteen(r), { window: 0 });
    expect(await s.run()).toBe(true);
    expect(r.maxConcurrency()).toBe(15);
    const r2 = new Recorder();
    const s2 = new Scheduler(fifteen(r2));
    expect(await s2.run({ window: 5 })).toBe(true);
    expect(r2.maxConcurrency()).toBe(5);
  });

  test("waiting jobs are `scheduled`; stats count them as idle (window 1 snapshot)", async () => {
    const r = new Recorder();
    const a = r.job("a", 150);
    const b = r.job("b", 10);
    const c = r.job("c", 10, { required: [a, b] });
    const s = new Scheduler([a, b, c], { window: 1 });
    const p = s.run();
    await sleep(60);
    expect([a.state, b.state, c.state]).toEqual(["running", "scheduled", "idle"]);
    expect(s.stats()).toBe("0 done + 1 running + 2 idle = 3");
    expect(await p).toBe(true);
    expect(r.started()).toEqual(["a", "b", "c"]);
  });

  test("B1: the slot is released when a job throws (window 1, non-critical failure)", async () => {
    const r = new Recorder();
    const bad = r.job("bad", 20, { fail: "boom", critical: false });
    const next = r.job("next", 10);
    const after = r.job("after", 10, { required: bad });
    const s = new Scheduler([bad, next, after], { window: 1, timeout: 3000 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(s.failedTimeout()).toBe(false);
    expect(r.started()).toEqual(["bad", "next", "after"]);
    expect(ms).toBeLessThan(1000);
  });

  test("B1: the slot is released when a job throws synchronously", async () => {
    const bad = new Job(
      () => {
        throw new Error("sync");
      },
      { label: "bad", critical: false },
    );
    const ok = new Job(async () => "ok", { label: "ok" });
    const s = new Scheduler([bad, ok], { window: 1, timeout: 2000 });
    expect(await s.run()).toBe(true);
    expect(ok.result()).toBe("ok");
  });

  test("the window is per scheduler: a nested scheduler throttles only its own jobs", async () => {
    const r = new Recorder();
    const inner = new Scheduler(
      Array.from({ length: 4 }, (_, i) => r.job(`i${i}`, 60)),
      { label: "inner", window: 2 },
    );
    const outer = new Scheduler([inner, r.job("o1", 60), r.job("o2", 60)]);
    expect(await outer.run()).toBe(true);
    expect(r.maxConcurrency(["i0", "i1", "i2", "i3"])).toBe(2);
    expect(r.maxConcurrency(["o1", "o2", "i0", "i1"])).toBe(4);
  });

  test("forever jobs hold a slot too", async () => {
    const r = new Recorder();
    const f = r.job("forever", 10_000, { forever: true });
    const s = new Scheduler([f, r.job("x", 20), r.job("y", 20)], { window: 2 });
    expect(await s.run()).toBe(true);
    expect(r.maxConcurrency(["x", "y"])).toBe(1);
    expect(f.state).toBe("cancelled");
  });

  test("scheduled jobs go back to idle when the run ends early", async () => {
    const r = new Recorder();
    const a = r.job("a", 30, { fail: "boom" });
    const b = r.job("b", 10);
    const states: JobState[] = [];
    const s = new Scheduler([a, b], { window: 1 });
    s.on((e) => {
      if (e.type === "job-state" && e.label === "b") states.push(e.state);
    });
    expect(await s.run()).toBe(false);
    expect(states).toEqual(["scheduled", "idle"]);
    expect(b.state).toBe("idle");
  });

  test("invalid windows are INVALID_ARGUMENT errors naming the option", async () => {
    for (const window of [-1, 1.5, Number.NaN, "3" as unknown as number])
      expect(() => new Scheduler([], { window })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", option: "window" }),
      );
    await expect(new Scheduler([]).run({ window: -2 })).rejects.toMatchObject({
      option: "window",
    });
  });
});
