import { describe, expect, test } from "vitest";
import { type AbstractJob, Job, Scheduler, Sequence } from "../../src/index.ts";
import { doubleDiamond, labels, noop } from "./helpers.ts";

const req = (j: AbstractJob): string[] => labels(j.required);
type J = Job<string>;

function chain(n: number, prefix = "j"): J[] {
  const jobs: J[] = [];
  for (let i = 1; i <= n; i++) jobs.push(noop(`${prefix}${i}`, jobs[i - 2]));
  return jobs;
}

describe("neighbours and closures", () => {
  test("B14: predecessors, successors (both arrays), upstream, downstream", () => {
    const [j1, j2, j3, j4, j5, j6, j7] = doubleDiamond() as [J, J, J, J, J, J, J];
    const s = new Scheduler([j1, j2, j3, j4, j5, j6, j7]);
    expect(labels(s.predecessors(j4))).toEqual(["j2", "j3"]);
    expect(labels(s.successors(j4))).toEqual(["j5", "j6"]);
    expect(Array.isArray(s.successors(j4)) && Array.isArray(s.predecessors(j4))).toBe(true);
    expect(labels(s.predecessors(j5, j6))).toEqual(["j4"]);
    expect(labels(s.successors(j2, j3))).toEqual(["j4"]);
    expect(labels(s.upstream(j4))).toEqual(["j1", "j2", "j3"]);
    expect(labels(s.downstream(j4))).toEqual(["j5", "j6", "j7"]);
    expect(labels(s.upstream(j7))).toEqual(["j1", "j2", "j3", "j4", "j5", "j6"]);
    expect(labels(s.downstream(j2))).toEqual(["j4", "j5", "j6", "j7"]);
    expect(labels(s.upstream(j1))).toEqual([]);
    expect(labels(s.downstream(j2, j3))).toEqual(["j4", "j5", "j6", "j7"]);
    expect(labels(s.entryJobs())).toEqual(["j1"]);
    expect(labels(s.exitJobs())).toEqual(["j7"]);
  });

  test("exitJobs() leaves forever jobs out unless asked", () => {
    const f = new Job(async () => 1, { label: "f", forever: true });
    const a = noop("a");
    const s = new Scheduler([f, a]);
    expect(labels(s.exitJobs())).toEqual(["a"]);
    expect(labels(s.exitJobs({ forever: true }))).toEqual(["f", "a"]);
  });

  test("test_iterate: allJobs() gives 10 leaves, 13 with the schedulers", () => {
    const diamond4 = (p: string) => {
      const [a, b, c, d] = [noop(`${p}a`), noop(`${p}b`), noop(`${p}c`), noop(`${p}d`)];
      b.requires(a);
      c.requires(a);
      d.requires(b, c);
      return new Scheduler([a, b, c, d], { label: p });
    };
    const top = noop("top");
    const left = diamond4("L").requires(top);
    const right = diamond4("R").requires(top);
    const bottom = noop("bottom", [left, right]);
    const s = new Scheduler([top, left, right, bottom]);
    expect([...s.allJobs()]).toHaveLength(10);
    expect([...s.allJobs({ schedulers: true })]).toHaveLength(13);
    expect([...s.allJobs({ schedulers: true })][0]).toBe(s);
  });
});

describe("bypassAndRemove (test_bypass)", () => {
  test("test_bypass1: chain j1..j5, bypass j3 -> j4 requires j2; sanitize() finds nothing", async () => {
    const [j1, j2, j3, j4, j5] = chain(5) as [J, J, J, J, J];
    const s = new Scheduler([j1, j2, j3, j4, j5]);
    s.bypassAndRemove(j3);
    expect(s.size).toBe(4);
    expect(s.has(j3)).toBe(false);
    expect(req(j4)).toEqual(["j2"]);
    expect(s.sanitize()).toBe(false);
    expect(await s.run()).toBe(true);
  });

  test("test_bypass2: j1 -> {j2,j3} -> j4 -> j5, bypass j4 -> j5 requires j2 and j3", () => {
    const [j1, j2, j3] = [noop("j1"), noop("j2"), noop("j3")];
    j2.requires(j1);
    j3.requires(j1);
    const j4 = noop("j4", [j2, j3]);
    const j5 = noop("j5", j4);
    const s = new Scheduler([j1, j2, j3, j4, j5]);
    s.bypassAndRemove(j4);
    expect(req(j5)).toEqual(["j2", "j3"]);
    expect(labels(s.downstream(j1))).toEqual(["j2", "j3", "j5"]);
  });

  test("test_bypass3: double diamond, remove j4, then j1, then j7", () => {
    const [j1, j2, j3, j4, j5, j6, j7] = doubleDiamond() as [J, J, J, J, J, J, J];
    const s = new Scheduler([j1, j2, j3, j4, j5, j6, j7]);
    s.bypassAndRemove(j4);
    expect(req(j5)).toEqual(["j2", "j3"]);
    expect(req(j6)).toEqual(["j2", "j3"]);
    expect(labels(s.downstream(j1))).toEqual(["j2", "j3", "j5", "j6", "j7"]);
    expect(labels(s.upstream(j7))).toEqual(["j1", "j2", "j3", "j5", "j6"]);
    s.bypassAndRemove(j1);
    expect(req(j2)).toEqual([]);
    expect(req(j3)).toEqual([]);
    expect(labels(s.entryJobs())).toEqual(["j2", "j3"]);
    expect(labels(s.upstream(j7))).toEqual(["j2", "j3", "j5", "j6"]);
    s.bypassAndRemove(j7);
    expect(labels(s.successors(j5, j6))).toEqual([]);
    expect(labels(s.exitJobs())).toEqual(["j5", "j6"]);
    expect(labels(s.downstream(j2))).toEqual(["j5", "j6"]);
    expect(labels(s)).toEqual(["j2", "j3", "j5", "j6"]);
  });

  test("test_bypass_seq: a sequence of 5, remove j3", async () => {
    const jobs = ["j1", "j2", "j3", "j4", "j5"].map((l) => noop(l)) as [J, J, J, J, J];
    const s = new Scheduler([new Sequence(...jobs)]);
    s.bypassAndRemove(jobs[2]);
    expect(req(jobs[3])).toEqual(["j2"]);
    expect(labels(s.topologicalOrder())).toEqual(["j1", "j2", "j4", "j5"]);
    expect(await s.run()).toBe(true);
  });

  test("bypassing a job that is not a direct member throws naming it", () => {
    const s = new Scheduler([noop("a")], { label: "S" });
    expect(() => s.bypassAndRemove(noop("stranger"))).toThrow(
      'job "stranger" is not in scheduler "S"',
    );
  });
});

describe("sanitize (B3) and nested requirements", () => {
  test("B3: a clean nested tree returns false; a dirty child under a clean parent returns true", () => {
    const inner = new Scheduler([noop("i1"), noop("i2")], { label: "inner" });
    const top = new Scheduler([noop("t1"), inner]);
    expect(top.sanitize()).toBe(false);
    const outside = noop("outside");
    const dirty = noop("dirty", outside);
    const inner2 = new Scheduler([dirty], { label: "inner2" });
    const top2 = new Scheduler([noop("clean"), inner2]);
    expect(top2.sanitize()).toBe(true);
    expect(dirty.required.size).toBe(0);
    expect(top2.sanitize()).toBe(false);
  });

  test("test_nesting sanitize: requirement counts across levels, the outside job untouched", async () => {
    const j2 = noop("j2"); // outside the tree
    const j11 = noop("j11");
    const j12 = noop("j12", j11);
    const j13 = noop("j13", j12);
    const j1 = noop("j1");
    const s2 = new Scheduler([j11, j12, j13], { label: "s2" });
    const j3 = noop("j3", s2);
    j12.requires(j1); // outer job: outside s2
    j13.requires(j2); // outside the tree
    j1.requires(j2, j12); // outside, and a job nested in s2
    s2.requires(j1, j2);
    const top = new Scheduler([j1, s2, j3], { label: "top" });
    const before = [j12, j13, j1, s2, j3].map((j) => j.required.size);
    expect(before).toEqual([2, 2, 2, 2, 1]);
    await expect(top.run()).rejects.toMatchObject({ code: "UNKNOWN_REQUIREMENT" });
    expect(top.sanitize()).toBe(true);
    expect([j12, j13, j1, s2, j3].map((j) => j.required.size)).toEqual([1, 1, 0, 1, 1]);
    expect(j2.required.size).toBe(0);
    expect(j2.state).toBe("idle");
    expect(await top.run()).toBe(true);
  });

  test("B6: checkCycles() ignores requirements outside the scheduler", () => {
    const outside = noop("outside");
    const s = new Scheduler([noop("a", outside)]);
    expect(s.checkCycles()).toBe(true);
  });
});
