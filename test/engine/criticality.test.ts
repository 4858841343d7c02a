import { describe, expect, test } from "vitest";
import { Job, Scheduler, SchedulerFailedError } from "../../src/index.ts";
import { Recorder, timed } from "./helpers.ts";

function failing(label: string, critical?: boolean): Job<never> {
  return new Job<never>(
    async () => {
      await new Promise((r) => setTimeout(r, 20));
      throw new Error(`${label} boom`);
    },
    critical === undefined ? { label } : { label, critical },
  );
}

describe("criticality (one level)", () => {
  // (scheduler, job) -> run(): F/F true, F/T false, T/F true, T/T false (never throws)
  test.each([
    [false, false, true],
    [false, true, false],
    [true, false, true],
    [true, true, false],
  ])("scheduler critical=%s, job critical=%s -> run() %s", async (sc, jc, expected) => {
    const s = new Scheduler([failing("j", jc), new Job(async () => 1, { label: "other" })], {
      critical: sc,
    });
    await expect(s.run()).resolves.toBe(expected);
    expect(s.failedCritical()).toBe(!expected);
  });

  test("criticality defaults to true, at every level", () => {
    const j = new Job(async () => 1, { label: "j" });
    const inner = new Scheduler([j], { label: "inner" });
    new Scheduler([inner]);
    expect(j.critical).toBe(true);
    expect(inner.critical).toBe(true);
    expect(new Job(async () => 1).critical).toBe(true);
  });

  test("an unset criticality inherits its scheduler's, through nesting", () => {
    const j = new Job(async () => 1, { label: "j" });
    const k = new Job(async () => 1, { label: "k", critical: true });
    const inner = new Scheduler([j, k], { label: "inner" });
    const outer = new Scheduler([inner], { critical: false });
    expect(inner.critical).toBe(false);
    expect(j.critical).toBe(false);
    expect(k.critical).toBe(true);
    inner.critical = true;
    expect(j.critical).toBe(true);
    inner.critical = undefined;
    outer.critical = true;
    expect(j.critical).toBe(true);
  });

  test("an unset job in a non-critical scheduler fails without failing the run", async () => {
    const s = new Scheduler([failing("j")], { critical: false });
    expect(await s.run()).toBe(true);
    expect(s.why()).toBe("ok");
  });
});

describe("nesting matrix (SPEC: a nested scheduler whose run is false fails as a job)", () => {
  // outer / inner / job critical -> outer run(): only an inner failure of a critical job in
  // a critical inner scheduler fails the outer run (the outer's own flag does not matter).
  const cases: [boolean, boolean, boolean, boolean][] = [
    [false, false, false, true],
    [false, false, true, true],
    [false, true, false, true],
    [false, true, true, false],
    [true, false, false, true],
    [true, false, true, true],
    [true, true, false, true],
    [true, true, true, false],
  ];
  test.each(cases)(
    "outer %s / inner %s / job %s -> outer run() %s",
    async (oc, ic, jc, expected) => {
      const job = failing("job", jc);
      const inner = new Scheduler([job, new Job(async () => 1, { label: "sibling" })], {
        label: "inner",
        critical: ic,
      });
      const after = new Job(async () => "after", { label: "after", required: inner });
      const outer = new Scheduler([inner, after], { label: "outer", critical: oc });
      await expect(outer.run()).resolves.toBe(expected);
      expect(job.isFailed()).toBe(true);
      // the inner run is false exactly when the failing job is critical
      expect(inner.isFailed()).toBe(jc);
      expect(inner.result()).toBe(!jc);
      if (jc) {
        const err = inner.raisedException();
        expect(err).toBeInstanceOf(SchedulerFailedError);
        expect((err as Error).message).toBe(
          'scheduler "inner" failed: critical job "job" failed: Error: job boom',
        );
        expect((err as Error).cause).toBe(job.raisedException());
      }
      // dependents of a failed non-critical inner scheduler still run
      expect(after.isDone()).toBe(expected);
      expect(outer.failedCritical()).toBe(!expected);
      if (!expected) expect(outer.criticalJob()).toBe(inner);
    },
  );

  test("inherited criticality composes: inner inherits outer's false, job inherits inner's", async () => {
    const job = failing("job");
    const inner = new Scheduler([job], { label: "inner" });
    const outer = new Scheduler([inner], { critical: false });
    expect(await outer.run()).toBe(true);
    expect(job.isFailed()).toBe(true);
    expect(inner.isFailed()).toBe(false);
  });

  test("three levels: a critical failure deep inside aborts everything up the critical chain", async () => {
    const r = new Recorder();
    const deep = failing("deep");
    const mid = new Scheduler([deep, r.job("mid-sibling", 2000)], { label: "mid" });
    const top = new Scheduler([mid, r.job("top-sibling", 2000)], { label: "top" });
    const root = new Scheduler([top, r.job("root-sibling", 2000)], { label: "root" });
    const { value, ms } = await timed(() => root.run());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1500);
    for (const l of ["mid-sibling", "top-sibling", "root-sibling"])
      expect(r.span(l).outcome).toBe("abort");
    expect(root.criticalJob()).toBe(top);
    expect(top.criticalJob()).toBe(mid);
    expect(mid.criticalJob()).toBe(deep);
    expect(root.why()).toContain('critical job "top" failed');
    expect(root.why()).toContain('scheduler "top" failed');
  });

  test("a nested scheduler's result() is true after a good run", async () => {
    const inner = new Scheduler([new Job(async () => 1, { label: "x" })], { label: "inner" });
    const outer = new Scheduler([inner]);
    expect(await outer.run()).toBe(true);
    expect(inner.result()).toBe(true);
    expect(outer.result()).toBe(true);
    expect(inner.isDone()).toBe(true);
  });
});
