/**
 * The seed notebook's examples A–F (scenarios/seed-examples.scenario.ts), tested only through
 * the Scheduler each exported function returns: labels, states, results, start/end order.
 */
import { describe, expect, test } from "vitest";
import seedScenario, {
  exampleA,
  exampleB,
  exampleC,
  exampleD,
  exampleE,
  exampleF,
} from "../../scenarios/seed-examples.scenario.ts";
import { type AbstractJob, Scheduler } from "../../src/index.ts";
import { timed } from "./helpers.ts";

/** Run a scheduler, recording `+label` / `-label` marks from its events (leaf jobs only). */
async function runTraced(s: Scheduler): Promise<{ ok: boolean; marks: string[]; ms: number }> {
  const marks: string[] = [];
  const off = s.on((e) => {
    if (e.type !== "job-state" || e.job instanceof Scheduler) return;
    if (e.state === "running") marks.push(`+${e.label}`);
    else if (e.state === "done") marks.push(`-${e.label}`);
    else if (e.state === "cancelled") marks.push(`!${e.label}`);
  });
  const { value, ms } = await timed(() => s.run());
  off();
  return { ok: value, marks, ms };
}

function job(s: Scheduler, label: string): AbstractJob {
  const j = [...s.allJobs({ schedulers: true })].find((x) => x.label === label);
  if (!j) throw new Error(`no job ${label} in ${s.label}`);
  return j;
}

const precedes = (marks: string[], a: string, b: string) => marks.indexOf(a) < marks.indexOf(b);

describe("seed examples A–F", () => {
  test("A: three jobs in parallel, ending shortest first; the run takes the longest", async () => {
    const s = exampleA();
    const { ok, marks, ms } = await runTraced(s);
    expect(ok).toBe(true);
    expect(marks.slice(0, 3).sort()).toEqual(["+a1", "+a2", "+a3"]);
    expect(marks.slice(3)).toEqual(["-a3", "-a2", "-a1"]);
    expect(["a1", "a2", "a3"].map((l) => job(s, l).result())).toEqual([1, 2, 3]);
    expect(ms).toBeGreaterThanOrEqual(280);
    expect(ms).toBeLessThan(1500);
  });

  test("B: b2 starts after b1 ends; b3 runs alongside b1", async () => {
    const s = exampleB();
    const { ok, marks } = await runTraced(s);
    expect(ok).toBe(true);
    expect(precedes(marks, "-b1", "+b2")).toBe(true);
    expect(precedes(marks, "+b3", "-b1")).toBe(true);
    expect(precedes(marks, "-b3", "-b1")).toBe(true);
    expect(marks.at(-1)).toBe("-b2");
    expect(["b1", "b2", "b3"].map((l) => job(s, l).result())).toEqual(["b1", "b2", "b3"]);
  });

  test("C: producers finish, the forever monitor is aborted at the end, run true", async () => {
    const s = exampleC();
    const lines: string[] = [];
    s.on((e) => {
      if (e.type === "job-output" && e.label === "monitor") lines.push(e.line);
    });
    const { ok, marks } = await runTraced(s);
    expect(ok).toBe(true);
    const monitor = job(s, "monitor");
    expect(monitor.forever).toBe(true);
    expect(monitor.state).toBe("cancelled");
    expect(marks.at(-1)).toBe("!monitor");
    expect(job(s, "p1").result()).toBe("p1");
    expect(job(s, "p2").result()).toBe("p2");
    // every produced message reached the monitor before it was aborted
    expect(lines).toHaveLength(6);
    expect(lines).toContain("monitor got p1#3");
    expect(lines).toContain("monitor got p2#3");
  });

  test("D: a job longer than the timeout; run false after the timeout, short job kept", async () => {
    const s = exampleD();
    const { ok, marks, ms } = await runTraced(s);
    expect(ok).toBe(false);
    expect(s.failedTimeout()).toBe(true);
    expect(s.why()).toMatch(/^timed out after \d+ ms$/);
    expect(job(s, "d-short").result()).toBe("ok");
    expect(job(s, "d-short").isDone()).toBe(true);
    expect(job(s, "d-long").state).toBe("cancelled");
    expect(marks).toContain("!d-long");
    expect(ms).toBeLessThan(2500);
  });

  test("E: a non-critical failure; its dependent still runs; run true", async () => {
    const s = exampleE();
    const { ok, marks } = await runTraced(s);
    expect(ok).toBe(true);
    const e1 = job(s, "e1");
    expect(e1.critical).toBe(false);
    expect(e1.isFailed()).toBe(true);
    expect((e1.raisedException() as Error).message).toMatch(/e1 failed/);
    expect(job(s, "e2").result()).toBe("e2 ran anyway");
    expect(precedes(marks, "-e1", "+e2")).toBe(true);
  });

  test("F: a critical failure; its dependent stays idle; run false", async () => {
    const s = exampleF();
    const { ok, marks } = await runTraced(s);
    expect(ok).toBe(false);
    expect(s.failedCritical()).toBe(true);
    expect(s.criticalJob()?.label).toBe("f1");
    expect(s.why()).toMatch(/^critical job "f1" failed: .*f1 failed/);
    expect(job(s, "f2").state).toBe("idle");
    expect(marks).not.toContain("+f2");
  });

  test("the default export runs A–F one after the other and is true overall", async () => {
    const seed = seedScenario.build(); // the default export is a DSL builder
    const marks: string[] = [];
    seed.on((e) => {
      if (e.type === "run-start" && e.path.length === 0 && e.scheduler !== seed)
        marks.push(e.label);
    });
    const { value } = await timed(() => seed.run());
    expect(value).toBe(true);
    const examples = seed.jobs;
    expect(examples).toHaveLength(6);
    expect(marks).toEqual(examples.map((e) => e.label));
    expect(examples.map((e) => e.isFailed())).toEqual([false, false, false, true, false, true]);
    expect(examples.map((e) => e.result())).toEqual([true, true, true, false, true, false]);
  });
});
