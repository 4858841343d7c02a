import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { Recorder, timed } from "./helpers.ts";

/** A forever job ticking every `ms` until aborted; counts its ticks. */
function ticker(label: string, ms: number): Job<never> & { ticks: () => number } {
  let ticks = 0;
  const job = new Job<never>(
    async ({ signal }) => {
      for (;;) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, ms);
          signal.addEventListener(
            "abort",
            () => {
              clearTimeout(t);
              reject(signal.reason);
            },
            { once: true },
          );
        });
        ticks++;
      }
    },
    { label, forever: true },
  );
  return Object.assign(job, { ticks: () => ticks });
}

describe("forever jobs", () => {
  test("test_forever1: 100 ms -> 150 ms plus a ticker: true; the ticker is aborted at the end", async () => {
    const r = new Recorder();
    const t = ticker("ticker", 60);
    const a = r.job("a", 100);
    const b = r.job("b", 150, { required: a });
    const s = new Scheduler([t, a, b]);
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(ms).toBeLessThan(1500);
    expect(t.ticks()).toBeGreaterThanOrEqual(2);
    expect(t.state).toBe("cancelled");
    expect(t.isDone()).toBe(false);
    expect(b.isDone()).toBe(true);
    const before = t.ticks();
    await new Promise((res) => setTimeout(res, 150));
    expect(t.ticks()).toBe(before);
  });

  test("test_forever2: the finite job is done, the forever one is not; the run does not wait", async () => {
    const r = new Recorder();
    const f = r.job("f", 10_000, { forever: true });
    const a = r.job("a", 50);
    const { value, ms } = await timed(() => new Scheduler([f, a]).run());
    expect(value).toBe(true);
    expect(ms).toBeLessThan(1500);
    expect(a.isDone()).toBe(true);
    expect(f.isDone()).toBe(false);
    expect(r.span("f").outcome).toBe("abort");
  });

  test("a forever job that ends by itself counts as done; its successors started once it was ready", async () => {
    const r = new Recorder();
    // wide gaps: a loaded machine may run several expired timers in one go
    const f = r.job("f", 300, { forever: true, value: "F" });
    const after = r.job("after", 1200, { required: f });
    const other = r.job("other", 10);
    const s = new Scheduler([f, after, other]);
    expect(await s.run()).toBe(true);
    expect(f.isDone()).toBe(true);
    expect(f.result()).toBe("F");
    // ready as soon as started (no ready check): "after" does not wait for f's end
    expect(r.marks).toEqual(["+f", "+other", "+after", "-other", "-f", "-after"]);
    expect(after.isDone()).toBe(true);
  });

  test("B7: only forever jobs that end by themselves -> the run waits for them and is true", async () => {
    const r = new Recorder();
    const s = new Scheduler([
      r.job("f1", 50, { forever: true }),
      r.job("f2", 80, { forever: true }),
    ]);
    expect(await s.run()).toBe(true);
    expect(r.span("f2").outcome).toBe("end");
  });

  test("B7: only forever jobs that never end -> the timeout ends the run, false", async () => {
    const t = ticker("t", 20);
    const s = new Scheduler([t], { timeout: 150 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(false);
    expect(s.failedTimeout()).toBe(true);
    expect(ms).toBeLessThan(1500);
    expect(t.state).toBe("cancelled");
  });

  test("finite jobs requiring a never-ending forever job start once it is ready; the run ends with them", async () => {
    const r = new Recorder();
    const t = ticker("t", 20);
    const waiting = r.job("waiting", 10, { required: t });
    const s = new Scheduler([t, waiting], { timeout: 5_000 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(ms).toBeLessThan(1500);
    expect(waiting.isDone()).toBe(true);
    expect(t.state).toBe("cancelled");
  });

  test("a forever job that throws while running is a failure like any other", async () => {
    const r = new Recorder();
    const f = r.job("f", 30, { forever: true, fail: "forever broke" });
    const a = r.job("a", 500);
    const s = new Scheduler([f, a]);
    expect(await s.run()).toBe(false);
    expect(s.criticalJob()).toBe(f);
    expect(a.state).toBe("cancelled");
  });

  test("a nested scheduler with a forever ticker ends when its finite jobs are done", async () => {
    const r = new Recorder();
    const t = ticker("inner-ticker", 30);
    const inner = new Scheduler([t, r.job("i1", 80)], { label: "inner" });
    const after = r.job("after", 10, { required: inner });
    const outer = new Scheduler([inner, after]);
    expect(await outer.run()).toBe(true);
    expect(t.state).toBe("cancelled");
    expect(inner.isDone()).toBe(true);
    expect(r.ranBefore("i1", "after")).toBe(true);
  });
});
