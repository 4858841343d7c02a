import { describe, expect, test } from "vitest";
import { type AbstractJob, type Job, Scheduler } from "../../src/index.ts";
import { doubleDiamond, labels, noop } from "./helpers.ts";

const req = (j: AbstractJob): string[] => labels(j.required);
type J = Job<string>;

/** Triple diamond j1 -> {j2,j3} -> j4 -> {j5,j6} -> j7 -> {j8,j9} -> j10, plus j11 (keep4/keep5). */
function tripleDiamondPlus(): J[] {
  const [j1, j2, j3, j4, j5, j6, j7] = doubleDiamond() as [J, J, J, J, J, J, J];
  const j8 = noop("j8", j7);
  const j9 = noop("j9", j7);
  const j10 = noop("j10", [j8, j9]);
  const j11 = noop("j11", j2);
  j7.requires(j11);
  return [j1, j2, j3, j4, j5, j6, j7, j8, j9, j10, j11];
}

describe("keepOnly / keepOnlyBetween", () => {
  const dd = () => {
    const jobs = doubleDiamond() as [J, J, J, J, J, J, J];
    return { jobs, s: new Scheduler(jobs) };
  };

  test("keep1: starts [j2, j3], ends [j5, j6] -> j2..j6", () => {
    const { jobs, s } = dd();
    const [, j2, j3, , j5, j6] = jobs;
    s.keepOnlyBetween({ starts: [j2, j3], ends: [j5, j6] });
    expect(labels(s)).toEqual(["j2", "j3", "j4", "j5", "j6"]);
    expect(req(j2)).toEqual([]);
    expect(s.sanitize()).toBe(false);
  });

  test("keep2: starts [j4] -> j4..j7", () => {
    const { jobs, s } = dd();
    s.keepOnlyBetween({ starts: [jobs[3]] });
    expect(labels(s)).toEqual(["j4", "j5", "j6", "j7"]);
    expect(req(jobs[3])).toEqual([]);
  });

  test("keep3: starts [j4] with keepStarts false -> j5, j6, j7", () => {
    const { jobs, s } = dd();
    s.keepOnlyBetween({ starts: [jobs[3]], keepStarts: false });
    expect(labels(s)).toEqual(["j5", "j6", "j7"]);
    expect(req(jobs[4])).toEqual([]);
  });

  test("ends only, with and without keepEnds", () => {
    const { jobs, s } = dd();
    s.keepOnlyBetween({ ends: [jobs[3]] });
    expect(labels(s)).toEqual(["j1", "j2", "j3", "j4"]);
    const other = dd();
    other.s.keepOnlyBetween({ ends: [other.jobs[3]], keepEnds: false });
    expect(labels(other.s)).toEqual(["j1", "j2", "j3"]);
  });

  test("keep4: triple diamond + j11, starts [j2, j3], ends [j5, j6] -> j2..j6", () => {
    const jobs = tripleDiamondPlus();
    const s = new Scheduler(jobs);
    const [, j2, j3, , j5, j6] = jobs as [J, J, J, J, J, J];
    s.keepOnlyBetween({ starts: [j2, j3], ends: [j5, j6] });
    expect(labels(s)).toEqual(["j2", "j3", "j4", "j5", "j6"]);
  });

  test("keep5: same graph, ends [j8, j9] with keepEnds false -> j2..j7 and j11", () => {
    const jobs = tripleDiamondPlus();
    const s = new Scheduler(jobs);
    const [, j2, j3, , , , , j8, j9] = jobs as [J, J, J, J, J, J, J, J, J];
    s.keepOnlyBetween({ starts: [j2, j3], ends: [j8, j9], keepEnds: false });
    expect(labels(s)).toEqual(["j2", "j3", "j4", "j5", "j6", "j7", "j11"]);
    expect(s.checkCycles()).toBe(true);
  });

  test("keep10: keepOnly([j1..j4]) -> successors/predecessors j1 2/0, j2 1/1, j4 0/2", () => {
    const { jobs, s } = dd();
    const [j1, j2, j3, j4] = jobs;
    s.keepOnly([j1, j2, j3, j4]);
    expect(s.size).toBe(4);
    const counts = (j: J) => [s.successors(j).length, s.predecessors(j).length];
    expect(counts(j1)).toEqual([2, 0]);
    expect(counts(j2)).toEqual([1, 1]);
    expect(counts(j4)).toEqual([0, 2]);
  });

  test("keep11: keepOnly([j1, j4, j7]) leaves 3 isolated jobs", () => {
    const { jobs, s } = dd();
    const [j1, , , j4, , , j7] = jobs;
    s.keepOnly([j7, j1, j4]);
    expect(labels(s)).toEqual(["j1", "j4", "j7"]);
    for (const j of [j1, j4, j7]) {
      expect(j.required.size).toBe(0);
      expect(s.successors(j)).toEqual([]);
    }
  });

  test("B15: keepOnlyBetween keeps insertion order and never adds jobs that were not members", () => {
    const { jobs, s } = dd();
    const stranger = noop("stranger");
    s.keepOnlyBetween({ starts: [jobs[3], stranger], ends: [stranger] });
    expect(labels(s)).not.toContain("stranger");
    expect(s.has(stranger)).toBe(false);
    const shuffled = doubleDiamond() as J[];
    const s2 = new Scheduler([...shuffled].reverse());
    s2.keepOnlyBetween({ starts: [shuffled[1] as J, shuffled[2] as J] });
    expect(labels(s2)).toEqual(["j7", "j6", "j5", "j4", "j3", "j2"]);
  });
});
