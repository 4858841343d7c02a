/**
 * Properties over random DAGs (fast-check): requirements respected, window respected,
 * deterministic order, critical failures stopping what depends on them.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { labels } from "./helpers.ts";

interface Spec {
  n: number;
  reqs: number[][];
  order: number[];
  window: number;
  delays: number[];
  failing: number[];
}

const dagSpec: fc.Arbitrary<Spec> = fc.integer({ min: 1, max: 18 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    reqs: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), {
          maxLength: i === 0 ? 0 : Math.min(i, 3),
        }),
      ),
    ),
    order: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
    window: fc.integer({ min: 0, max: 4 }),
    delays: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    failing: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }),
  }),
);

function build(spec: Spec, opts: { critical: boolean }) {
  const marks: string[] = [];
  const jobs = Array.from(
    { length: spec.n },
    (_, i) =>
      new Job(
        async () => {
          marks.push(`+${i}`);
          const d = spec.delays[i] ?? 0;
          if (d > 0) await new Promise((r) => setTimeout(r, d));
          marks.push(`-${i}`);
          if (spec.failing.includes(i)) throw new Error(`fail ${i}`);
          return i;
        },
        { label: `j${i}`, critical: spec.failing.includes(i) ? opts.critical : true },
      ),
  );
  spec.reqs.forEach((rs, i) => {
    for (const r of rs) jobs[i]?.requires(jobs[r]);
  });
  const s = new Scheduler(
    spec.order.map((i) => jobs[i]),
    { window: spec.window },
  );
  return { s, jobs, marks };
}

describe("properties over random DAGs", () => {
  test("every job starts after its requirements ended; the window is respected; all done", async () => {
    await fc.assert(
      fc.asyncProperty(dagSpec, async (spec) => {
        const { s, jobs, marks } = build(spec, { critical: false });
        expect(await s.run()).toBe(true);
        for (let i = 0; i < spec.n; i++) {
          expect(jobs[i]?.isDone()).toBe(true);
          for (const r of spec.reqs[i] ?? [])
            expect(marks.indexOf(`-${r}`)).toBeLessThan(marks.indexOf(`+${i}`));
        }
        let cur = 0;
        let max = 0;
        for (const m of marks) {
          cur += m[0] === "+" ? 1 : -1;
          max = Math.max(max, cur);
        }
        if (spec.window > 0) expect(max).toBeLessThanOrEqual(spec.window);
        expect(s.list().split("\n")).toHaveLength(spec.n);
      }),
      { numRuns: 40 },
    );
  });

  test("with window 1, jobs start exactly in topologicalOrder() (insertion order among ready)", async () => {
    await fc.assert(
      fc.asyncProperty(dagSpec, async (spec) => {
        const { s, marks } = build({ ...spec, window: 1 }, { critical: false });
        const expected = labels(s.topologicalOrder());
        expect(await s.run()).toBe(true);
        const started = marks.filter((m) => m[0] === "+").map((m) => `j${m.slice(1)}`);
        expect(started).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  test("a critical failure: nothing downstream of it starts, run() is false", async () => {
    await fc.assert(
      fc.asyncProperty(
        dagSpec.filter((s) => s.failing.length > 0),
        async (spec) => {
          const { s, jobs, marks } = build(spec, { critical: true });
          expect(await s.run()).toBe(false);
          const failed = jobs.filter((j) => j.isFailed());
          expect(failed).toHaveLength(1);
          expect(s.criticalJob()).toBe(failed[0]);
          for (const j of s.downstream(failed[0] as Job)) {
            expect(j.state).toBe("idle");
            expect(marks).not.toContain(`+${j.label.slice(1)}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
