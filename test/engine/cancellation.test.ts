import { describe, expect, test, vi } from "vitest";
import { CancelledError, Job, Scheduler } from "../../src/index.ts";
import { Recorder, sleep, timed } from "./helpers.ts";

describe("cancellation", () => {
  test("aborting run({ signal }) cancels running jobs; run() resolves false, why() 'cancelled'", async () => {
    const r = new Recorder();
    const a = r.job("a", 2000);
    const b = r.job("b", 10, { required: a });
    const s = new Scheduler([a, b]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 80);
    const { value, ms } = await timed(() => s.run({ signal: ac.signal }));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1000);
    expect(s.endReason()).toBe("cancelled");
    expect(s.why()).toBe("cancelled");
    expect(a.state).toBe("cancelled");
    expect(a.raisedException()).toBeInstanceOf(CancelledError);
    expect(a.raisedException()).toMatchObject({ code: "CANCELLED" });
    expect(b.state).toBe("idle");
    expect(r.span("a").outcome).toBe("abort");
  });

  test("an already aborted signal: no job starts, run() is false", async () => {
    const r = new Recorder();
    const s = new Scheduler([r.job("a", 10)]);
    expect(await s.run({ signal: AbortSignal.abort() })).toBe(false);
    expect(r.didStart("a")).toBe(false);
    expect(s.why()).toBe("cancelled");
  });

  test("cancellation reaches nested schedulers and their jobs, at any depth", async () => {
    const r = new Recorder();
    const deep = r.job("deep", 3000);
    const mid = new Scheduler([deep], { label: "mid" });
    const inner = new Scheduler([mid, r.job("inner-job", 3000)], { label: "inner" });
    const outer = new Scheduler([inner, r.job("outer-job", 3000)]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 80);
    const { value, ms } = await timed(() => outer.run({ signal: ac.signal }));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1000);
    for (const l of ["deep", "inner-job", "outer-job"]) expect(r.span(l).outcome).toBe("abort");
    expect([deep.state, mid.state, inner.state]).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(mid.endReason()).toBe("cancelled");
  });

  test("B8: no inner job of a nested scheduler finishes after the outer run returned (outer timeout)", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("i1", 600), r.job("i2", 900)], { label: "inner" });
    const outer = new Scheduler([inner, r.job("o1", 50)], { timeout: 150 });
    expect(await outer.run()).toBe(false);
    const returnedAt = r.now();
    expect(inner.state).toBe("cancelled");
    await sleep(1000);
    for (const l of ["i1", "i2"]) {
      expect(r.span(l).outcome).toBe("abort");
      expect(r.span(l).end ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(returnedAt);
    }
    expect(r.marks).not.toContain("-i1");
    expect(r.marks).not.toContain("-i2");
  });

  test("B8: a critical failure outside cancels a nested scheduler's jobs too", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("i1", 1500)], { label: "inner" });
    const bad = r.job("bad", 50, { fail: "boom" });
    const outer = new Scheduler([inner, bad]);
    expect(await outer.run()).toBe(false);
    const returnedAt = r.now();
    expect(r.span("i1").outcome).toBe("abort");
    expect(r.span("i1").end).toBeLessThanOrEqual(returnedAt);
    expect(outer.criticalJob()).toBe(bad);
  });

  test("a job ignoring its signal is marked cancelled and abandoned after a short grace (<= 1 s)", async () => {
    const r = new Recorder();
    const stubborn = r.job("stubborn", 3000, { ignoreSignal: true });
    const s = new Scheduler([stubborn], { timeout: 100 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(100 + 1000 + 300);
    expect(stubborn.state).toBe("cancelled");
    expect(stubborn.isDone()).toBe(false);
  });

  test("an abandoned job that ends later changes nothing", async () => {
    const late = new Job(
      async () => {
        await sleep(700);
        return "late";
      },
      { label: "late" },
    );
    const s = new Scheduler([late], { timeout: 50, cancelGrace: 100 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(600);
    await sleep(800);
    expect(late.state).toBe("cancelled");
    expect(late.result()).toBeUndefined();
    expect(s.why()).toBe("timed out after 50 ms");
  });

  test("a stubborn job inside a nested scheduler does not hold the outer run beyond the grace", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("stubborn", 3000, { ignoreSignal: true })], {
      label: "inner",
    });
    const outer = new Scheduler([inner], { timeout: 100 });
    const { value, ms } = await timed(() => outer.run());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(100 + 1000 + 300);
    expect(inner.state).toBe("cancelled");
  });

  test("a nested scheduler holding a stubborn job ends (run-end) before its parent does", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("stubborn", 3000, { ignoreSignal: true })], {
      label: "inner",
    });
    const outer = new Scheduler([inner], { label: "outer", timeout: 100 });
    const ends: string[] = [];
    outer.on((e) => {
      if (e.type === "run-end") ends.push(`${e.label}:${e.reason}`);
    });
    expect(await outer.run()).toBe(false);
    expect(ends).toEqual(["inner:cancelled", "outer:timeout"]);
    expect(inner.state).toBe("cancelled");
  });

  test("many jobs listening to the run's signal raise no MaxListenersExceededWarning", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const r = new Recorder();
      const jobs = Array.from({ length: 25 }, (_, i) => r.job(`l${i}`, 1000));
      const s = new Scheduler(jobs, { timeout: 50 });
      expect(await s.run()).toBe(false);
      await sleep(10);
      expect(r.spans.every((x) => x.outcome === "abort")).toBe(true);
      const names = warn.mock.calls.map((c) => String((c[0] as Error)?.name ?? c[0]));
      expect(names.filter((n) => n.includes("MaxListeners"))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  test("the job's signal carries the reason: a CancelledError with code TIMEOUT", async () => {
    let reason: unknown;
    const j = new Job(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener("abort", () => {
            reason = signal.reason;
            reject(signal.reason);
          });
        }),
      { label: "j" },
    );
    expect(await new Scheduler([j], { timeout: 30 }).run()).toBe(false);
    expect(reason).toBeInstanceOf(CancelledError);
    expect(reason).toMatchObject({ code: "TIMEOUT" });
  });
});
