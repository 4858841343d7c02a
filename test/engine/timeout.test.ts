import { describe, expect, test } from "vitest";
import { CancelledError, Job, Scheduler, SchedulerFailedError } from "../../src/index.ts";
import { Recorder, timed } from "./helpers.ts";

describe("timeout", () => {
  test("test_timeout2: parallel 100/200/2000 ms with timeout 400 -> false, results kept", async () => {
    const r = new Recorder();
    const j1 = r.job("j1", 100, { value: 1 });
    const j2 = r.job("j2", 200, { value: 2 });
    const j3 = r.job("j3", 2000, { value: 3 });
    const s = new Scheduler([j1, j2, j3], { timeout: 400 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(1500);
    expect(s.failedTimeout()).toBe(true);
    expect(s.failedCritical()).toBe(false);
    expect(s.endReason()).toBe("timeout");
    expect([j1.result(), j2.result()]).toEqual([1, 2]);
    expect(j1.isDone() && j2.isDone()).toBe(true);
    expect(j3.state).toBe("cancelled");
    expect(j3.isDone()).toBe(false);
    expect(j3.result()).toBeUndefined();
    expect(j3.raisedException()).toBeInstanceOf(CancelledError);
    expect(j3.raisedException()).toMatchObject({ code: "TIMEOUT" });
    expect(r.span("j3").outcome).toBe("abort");
    expect(s.why()).toBe("timed out after 400 ms");
  });

  test("test_timeout1: chain 100 -> 150 -> 200 with timeout 300 -> false, third never done", async () => {
    const r = new Recorder();
    const a = r.job("a", 100);
    const b = r.job("b", 150, { required: a });
    const c = r.job("c", 200, { required: b });
    const s = new Scheduler([a, b, c], { timeout: 300 });
    expect(await s.run()).toBe(false);
    expect(a.isDone()).toBe(true);
    expect(c.isDone()).toBe(false);
  });

  test("waiting jobs are dropped on timeout: they stay idle and never start", async () => {
    const r = new Recorder();
    const a = r.job("a", 1000);
    const b = r.job("b", 10);
    const c = r.job("c", 10, { required: a });
    const s = new Scheduler([a, b, c], { window: 1, timeout: 100 });
    expect(await s.run()).toBe(false);
    expect([a.state, b.state, c.state]).toEqual(["cancelled", "idle", "idle"]);
    expect(r.started()).toEqual(["a"]);
  });

  test("run({ timeout }) overrides the scheduler's timeout for that run", async () => {
    const r = new Recorder();
    const s = new Scheduler([r.job("a", 300)], { timeout: 5000 });
    expect(await s.run({ timeout: 50 })).toBe(false);
    expect(s.lastTimeout()).toBe(50);
    expect(s.why()).toBe("timed out after 50 ms");
    expect(await s.run()).toBe(true);
    expect(s.lastTimeout()).toBe(5000);
  });

  test("B16: timeout 0 times out and why() says so (0 is not 'no timeout')", async () => {
    const r = new Recorder();
    const s = new Scheduler([r.job("a", 200)], { timeout: 0 });
    expect(await s.run()).toBe(false);
    expect(s.failedTimeout()).toBe(true);
    expect(s.why()).toBe("timed out after 0 ms");
    expect(s.why()).not.toBe("ok");
  });

  test("a timeout that does not fire: run true, failedTimeout false", async () => {
    const r = new Recorder();
    const s = new Scheduler([r.job("a", 20)], { timeout: 2000 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(s.failedTimeout()).toBe(false);
    expect(ms).toBeLessThan(1000); // the timer does not hold the run
  });

  test("an inner scheduler that times out fails as a job; non-critical, the outer carries on", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("slow", 2000)], {
      label: "inner",
      timeout: 100,
      critical: false,
    });
    const after = r.job("after", 10, { required: inner });
    const outer = new Scheduler([inner, after]);
    expect(await outer.run()).toBe(true);
    expect(inner.isFailed()).toBe(true);
    expect(inner.failedTimeout()).toBe(true);
    const err = inner.raisedException();
    expect(err).toBeInstanceOf(SchedulerFailedError);
    expect(err).toMatchObject({ code: "SCHEDULER_FAILED", label: "inner", timeoutMs: 100 });
    expect((err as Error).message).toBe('scheduler "inner" failed: timed out after 100 ms');
    expect(after.result()).toBe("after");
  });

  test("a critical inner scheduler that times out makes the outer run false", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("slow", 2000)], { label: "inner", timeout: 100 });
    const outer = new Scheduler([inner, r.job("after", 10, { required: inner })]);
    expect(await outer.run()).toBe(false);
    expect(outer.failedCritical()).toBe(true);
    expect(outer.criticalJob()).toBe(inner);
    expect(outer.why()).toContain('critical job "inner" failed');
    expect(outer.why()).toContain("timed out after 100 ms");
  });

  test("invalid timeouts are INVALID_ARGUMENT errors naming the option", async () => {
    for (const timeout of [-1, Number.POSITIVE_INFINITY, "10" as unknown as number])
      expect(() => new Scheduler([], { timeout })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", option: "timeout" }),
      );
    const never = new Job(async () => 1, { label: "never" });
    let ran = false;
    const j = new Job(
      async () => {
        ran = true;
      },
      { label: "j" },
    );
    await expect(new Scheduler([never, j]).run({ timeout: -5 })).rejects.toMatchObject({
      option: "timeout",
    });
    expect(ran).toBe(false);
  });
});
