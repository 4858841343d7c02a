import { describe, expect, test } from "vitest";
import { AbstractJob, Job, type JobContext, Scheduler } from "../../src/index.ts";
import { Recorder, timed } from "./helpers.ts";

describe("jobs hold functions", () => {
  test("nothing runs before run()", async () => {
    let calls = 0;
    const a = new Job(async () => ++calls, { label: "a" });
    const s = new Scheduler([a]);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(0);
    expect(a.state).toBe("idle");
    expect(await s.run()).toBe(true);
    expect(calls).toBe(1);
    expect(a.result()).toBe(1);
  });

  test("the function receives a context with signal, label, log, vars, use", async () => {
    let seen: JobContext | undefined;
    const a = new Job(
      async (ctx) => {
        seen = ctx;
        return ctx.label;
      },
      { label: "ctx-job" },
    );
    expect(await new Scheduler([a]).run({ vars: { x: "1" } })).toBe(true);
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen?.vars).toEqual({ x: "1" });
    expect(typeof seen?.log).toBe("function");
    expect(typeof seen?.use).toBe("function");
    expect(a.result()).toBe("ctx-job");
  });

  test("a synchronous function and a synchronous throw are both handled", async () => {
    const ok = new Job(() => 7, { label: "ok" });
    const bad = new Job(
      () => {
        throw new Error("sync boom");
      },
      { label: "bad", critical: false },
    );
    expect(await new Scheduler([ok, bad]).run()).toBe(true);
    expect(ok.result()).toBe(7);
    expect(bad.isDone()).toBe(true);
    expect((bad.raisedException() as Error).message).toBe("sync boom");
  });

  test("AbstractJob subclasses run their run() method", async () => {
    class Twice extends AbstractJob<number> {
      readonly n: number;
      constructor(n: number) {
        super({ label: `twice-${n}` });
        this.n = n;
      }
      async run(): Promise<number> {
        return this.n * 2;
      }
    }
    const t = new Twice(21);
    expect(await new Scheduler([t]).run()).toBe(true);
    expect(t.result()).toBe(42);
    expect(t.kind).toBe("Twice");
  });
});

describe("labels", () => {
  test("unlabelled jobs get a readable generated label", () => {
    const a = new Job(async () => 1);
    const b = new Job(async () => 1, { label: "" });
    expect(a.label).toMatch(/^job-\d+$/);
    expect(b.label).toMatch(/^job-\d+$/);
    expect(a.label).not.toBe(b.label);
  });

  test("a non-string label is an INVALID_ARGUMENT", () => {
    expect(() => new Job(async () => 1, { label: 3 as unknown as string })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  test("Job without a function is an INVALID_ARGUMENT", () => {
    const notFn = Promise.resolve(1) as unknown as () => Promise<number>;
    expect(() => new Job(notFn)).toThrow(/expects a function/);
  });
});

describe("basic runs", () => {
  test("empty scheduler: run() is true, list() is empty", async () => {
    const s = new Scheduler();
    expect(s.list()).toBe("");
    expect(await s.run()).toBe(true);
    expect(s.why()).toBe("ok");
  });

  test("test_simple: 7 jobs, a4 needs a1..a3, a5/a6 need a4, a7 needs a5 and a6", async () => {
    const r = new Recorder();
    const a1 = r.job("a1", 10);
    const a2 = r.job("a2", 20);
    const a3 = r.job("a3", 30);
    const a4 = r.job("a4", 40, { required: [a1, a2, a3] });
    const a5 = r.job("a5", 50, { required: a4 });
    const a6 = r.job("a6", 60, { required: a4 });
    const a7 = r.job("a7", 70, { required: [a5, a6] });
    const s = new Scheduler([a1, a2, a3, a4, a5, a6, a7]);
    expect(s.checkCycles()).toBe(true);
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    for (const x of ["a1", "a2", "a3"]) expect(r.ranBefore(x, "a4")).toBe(true);
    expect(r.ranBefore("a4", "a5") && r.ranBefore("a4", "a6")).toBe(true);
    expect(r.ranBefore("a5", "a7") && r.ranBefore("a6", "a7")).toBe(true);
    expect(r.maxConcurrency(["a1", "a2", "a3"])).toBe(3);
    expect(r.maxConcurrency(["a5", "a6"])).toBe(2);
    expect([...s].every((j) => j.isDone() && !j.isFailed())).toBe(true);
    expect(a7.result()).toBe("a7");
    // 30 + 40 + 60 + 70 = 200 ms of critical path
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(1500);
    expect(s.list()).toContain("a7");
    expect(s.debrief()).toContain("----- ok");
  });

  test("states go idle -> running -> done; isDone, result, raisedException", async () => {
    const a = new Job(async () => "A", { label: "a" });
    const s = new Scheduler([a]);
    const states: string[] = [];
    s.on((e) => {
      if (e.type === "job-state") states.push(`${e.previous}->${e.state}`);
    });
    expect(a.isDone()).toBe(false);
    expect([a.startedAt, a.endedAt]).toEqual([0, 0]);
    const before = Date.now();
    expect(await s.run()).toBe(true);
    const after = Date.now();
    expect(states).toEqual(["idle->running", "running->done"]);
    expect(a.isDone()).toBe(true);
    expect(a.isFailed()).toBe(false);
    expect(a.result()).toBe("A");
    expect(a.raisedException()).toBeUndefined();
    // epoch ms, as the events' times (stored otherwise inside the job)
    expect(a.startedAt).toBeGreaterThanOrEqual(before);
    expect(a.endedAt).toBeGreaterThanOrEqual(a.startedAt);
    expect(a.endedAt).toBeLessThanOrEqual(after);
  });

  test("a job reads the result of a job it requires", async () => {
    const a = new Job(async () => 41, { label: "a" });
    const b = new Job(async () => (a.result() ?? 0) + 1, { label: "b", required: a });
    expect(await new Scheduler([b, a]).run()).toBe(true);
    expect(b.result()).toBe(42);
  });

  test("a scheduler's size, has(), iteration and jobs are its direct jobs in insertion order", () => {
    const a = new Job(async () => 1, { label: "a" });
    const b = new Job(async () => 1, { label: "b" });
    const inner = new Scheduler([b], { label: "inner" });
    const s = new Scheduler([a, inner]);
    expect(s.size).toBe(2);
    expect(s.has(a) && s.has(inner) && !s.has(b)).toBe(true);
    expect([...s].map((j) => j.label)).toEqual(["a", "inner"]);
    expect(s.jobs.map((j) => j.label)).toEqual(["a", "inner"]);
    expect([...s.allJobs()].map((j) => j.label)).toEqual(["a", "b"]);
    expect([...s.allJobs({ schedulers: true })].length).toBe(4);
  });

  test("add() returns the scheduler; remove() of an absent job throws naming it", () => {
    const a = new Job(async () => 1, { label: "a" });
    const s = new Scheduler();
    expect(s.add(a)).toBe(s);
    expect(s.add(a).size).toBe(1);
    s.remove(a);
    expect(s.size).toBe(0);
    expect(() => s.remove(a)).toThrow(/"a" is not in scheduler/);
  });
});

describe("failures", () => {
  test("a non-critical job that throws counts as done and its dependents run", async () => {
    const r = new Recorder();
    const a = r.job("a", 20, { fail: "boom", critical: false });
    const b = r.job("b", 10, { required: a });
    const s = new Scheduler([a, b]);
    expect(await s.run()).toBe(true);
    expect(a.isDone()).toBe(true);
    expect(a.isFailed()).toBe(true);
    expect((a.raisedException() as Error).message).toBe("boom");
    expect(b.result()).toBe("b");
    expect(s.failedCritical()).toBe(false);
  });

  test("test_exc_critical: a critical failure aborts running jobs, leaves idle ones idle", async () => {
    const r = new Recorder();
    const long = r.job("long", 2000);
    const bad = r.job("bad", 50, { fail: "boom" });
    const after = r.job("after", 10, { required: bad });
    const s = new Scheduler([long, bad, after]);
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1500);
    expect(s.failedCritical()).toBe(true);
    expect(s.criticalJob()).toBe(bad);
    expect(bad.state).toBe("done");
    expect(long.state).toBe("cancelled");
    expect(long.isDone()).toBe(false);
    expect(after.state).toBe("idle");
    expect(r.didStart("after")).toBe(false);
    expect(r.span("long").outcome).toBe("abort");
    expect(s.why()).toBe('critical job "bad" failed: Error: boom');
  });

  test("test_exc_non_critical: a 1 s job alongside a failing non-critical job -> true", async () => {
    const r = new Recorder();
    const s = new Scheduler([r.job("j", 200), r.job("nc", 100, { fail: "x", critical: false })]);
    expect(await s.run()).toBe(true);
    expect(r.span("j").outcome).toBe("end");
  });

  test("B11: run() never rejects for a job's failure (a critical failure resolves false)", async () => {
    const a = new Job(
      async () => {
        throw new TypeError("nope");
      },
      { label: "a" },
    );
    await expect(new Scheduler([a]).run()).resolves.toBe(false);
  });

  test("B22: a scheduler can be run from inside a running job (no event-loop wrapper)", async () => {
    const innerJob = new Job(async () => "inner", { label: "inner-job" });
    const other = new Scheduler([innerJob]);
    const host = new Job(async () => ((await other.run()) ? innerJob.result() : "failed"), {
      label: "host",
    });
    expect(await new Scheduler([host]).run()).toBe(true);
    expect(host.result()).toBe("inner");
  });

  test("a thrown non-Error value is kept as the exception", async () => {
    const a = new Job(
      async () => {
        throw "plain string";
      },
      { label: "a", critical: false },
    );
    expect(await new Scheduler([a]).run()).toBe(true);
    expect(a.raisedException()).toBe("plain string");
  });
});
