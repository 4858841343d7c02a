import { describe, expect, test } from "vitest";
import {
  AiorchError,
  CycleError,
  Job,
  Scheduler,
  Sequence,
  ValidationError,
} from "../../src/index.ts";
import { labels, noop } from "./helpers.ts";

/** Jobs that record whether they were started. */
function tracked(label: string, started: string[]): Job<string> {
  return new Job(
    async () => {
      started.push(label);
      return label;
    },
    { label },
  );
}

async function rejection(s: Scheduler): Promise<AiorchError> {
  try {
    await s.run();
  } catch (err) {
    expect(err).toBeInstanceOf(AiorchError);
    return err as AiorchError;
  }
  throw new Error("run() should have rejected");
}

describe("validation: run() rejects before any job starts", () => {
  test("a cycle: CYCLE error printing the path a -> b -> c -> a", async () => {
    const started: string[] = [];
    const [a, b, c, free] = ["a", "b", "c", "free"].map((l) => tracked(l, started)) as [
      Job,
      Job,
      Job,
      Job,
    ];
    b.requires(a);
    c.requires(b);
    a.requires(c);
    const s = new Scheduler([free, a, b, c]);
    const err = await rejection(s);
    expect(err).toBeInstanceOf(CycleError);
    expect(err.code).toBe("CYCLE");
    expect(err.message).toBe("cycle: a -> b -> c -> a");
    expect(err.cycle).toEqual(["a", "b", "c", "a"]);
    expect(started).toEqual([]);
    expect(() => s.validate()).toThrow("cycle: a -> b -> c -> a");
    expect(s.checkCycles()).toBe(false);
    expect(s.findCycle()).toEqual(["a", "b", "c", "a"]);
  });

  test("test_cycle: a1 -> a2 -> a3 -> a1 makes checkCycles() false; removing the back-edge fixes it", () => {
    const a1 = noop("a1");
    const a2 = noop("a2", a1);
    const a3 = noop("a3", a2);
    const s = new Scheduler([a1, a2, a3]);
    expect(s.checkCycles()).toBe(true);
    a1.requires(a3);
    expect(s.checkCycles()).toBe(false);
    a1.unrequire(a3);
    expect(s.checkCycles()).toBe(true);
    expect(s.findCycle()).toBeUndefined();
  });

  test("a cycle in a nested scheduler names the scheduler", async () => {
    const started: string[] = [];
    const x = tracked("x", started);
    const y = tracked("y", started);
    x.requires(y);
    y.requires(x);
    const inner = new Scheduler([x, y], { label: "inner" });
    const outer = new Scheduler([tracked("top", started), inner]);
    const err = await rejection(outer);
    expect(err.code).toBe("CYCLE");
    expect(err.message).toBe('cycle in scheduler "inner": x -> y -> x');
    expect(started).toEqual([]);
    expect(outer.checkCycles()).toBe(false);
  });

  test("test_nested_cycles: three levels; fix with unrequire, break again at depth 3", () => {
    const j1 = noop("j1");
    const j2 = noop("j2", j1);
    const l3a = noop("l3a");
    const l3b = noop("l3b", l3a);
    const level3 = new Scheduler([l3a, l3b], { label: "level3" });
    const level2 = new Scheduler([j1, j2, level3], { label: "level2" });
    const top = new Scheduler([level2], { label: "top" });
    expect(top.checkCycles()).toBe(true);
    j1.requires(j2);
    expect(top.checkCycles()).toBe(false);
    j1.unrequire(j2);
    expect(top.checkCycles()).toBe(true);
    l3a.requires(l3b);
    expect(top.checkCycles()).toBe(false);
    expect(() => top.validate()).toThrow('cycle in scheduler "level3": l3a -> l3b -> l3a');
  });

  test("B6: a requirement outside the scheduler names both jobs (not a cycle error)", async () => {
    const started: string[] = [];
    const outside = tracked("outside", started);
    const inside = tracked("inside", started);
    inside.requires(outside);
    const s = new Scheduler([inside], { label: "main" });
    const err = await rejection(s);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.code).toBe("UNKNOWN_REQUIREMENT");
    expect(err.message).toContain('job "inside" requires "outside"');
    expect(err.message).toContain('not in scheduler "main"');
    expect(err.labels).toEqual(["inside", "outside"]);
    expect(started).toEqual([]);
    // B6: graph queries do not mistake it for a cycle, list() works
    expect(s.checkCycles()).toBe(true);
    expect(s.list()).toContain("inside");
    // sanitize() removes it, then the run works and the outside job is untouched
    expect(s.sanitize()).toBe(true);
    expect(await s.run()).toBe(true);
    expect(outside.state).toBe("idle");
  });

  test("an inner job requiring an outer job is outside its scheduler", async () => {
    const a = noop("a");
    const i = noop("i", a);
    const inner = new Scheduler([i], { label: "inner" });
    const err = await rejection(new Scheduler([a, inner]));
    expect(err.code).toBe("UNKNOWN_REQUIREMENT");
    expect(err.message).toContain('job "i" requires "a", which is not in scheduler "inner"');
  });

  test("B21: a job in two schedulers is an error naming the job and both schedulers", async () => {
    const shared = noop("shared");
    const s1 = new Scheduler([shared], { label: "s1" });
    const s2 = new Scheduler([shared], { label: "s2" });
    for (const s of [s1, s2]) {
      const err = await rejection(s);
      expect(err.code).toBe("JOB_IN_TWO_SCHEDULERS");
      expect(err.message).toBe('job "shared" is in two schedulers: "s1" and "s2"');
      expect(err.label).toBe("shared");
    }
    // in the same tree too
    const t = noop("t");
    const inner = new Scheduler([t], { label: "inner" });
    const err = await rejection(new Scheduler([t, inner], { label: "outer" }));
    expect(err.code).toBe("JOB_IN_TWO_SCHEDULERS");
    // a shared job required by a job listed before it: still reported as shared
    const early = noop("early", shared);
    const s3 = new Scheduler([early, shared], { label: "s3" });
    const err2 = await rejection(s3);
    expect(err2.code).toBe("JOB_IN_TWO_SCHEDULERS");
    s3.remove(shared);
    // removing it from one fixes it
    s2.remove(shared);
    expect(await s1.run()).toBe(true);
  });

  test("a duplicate label is an error naming the label, anywhere in the tree", async () => {
    const err = await rejection(new Scheduler([noop("dup"), noop("dup")]));
    expect(err.code).toBe("DUPLICATE_LABEL");
    expect(err.message).toBe('duplicate label: "dup" names two jobs');
    expect(err.label).toBe("dup");
    const nested = new Scheduler([noop("x"), new Scheduler([noop("x")], { label: "inner" })]);
    expect((await rejection(nested)).code).toBe("DUPLICATE_LABEL");
    const schedLabel = new Scheduler([noop("s"), new Scheduler([], { label: "s" })]);
    expect((await rejection(schedLabel)).label).toBe("s");
  });

  test("a scheduler's label names its group, not a job: a job inside it may carry it (SPEC 1)", async () => {
    expect(await new Scheduler([noop("deploy")], { label: "deploy" }).run()).toBe(true);
    const inner = new Scheduler([noop("g"), new Scheduler([noop("g2")], { label: "g2" })], {
      label: "g",
    });
    expect(await new Scheduler([noop("a"), inner], { label: "a" }).run()).toBe(true);
    // a job outside the group with the group's label is still a duplicate
    const outside = new Scheduler([noop("g"), new Scheduler([noop("x")], { label: "g" })]);
    expect((await rejection(outside)).message).toBe('duplicate label: "g" names two jobs');
    const twice = new Scheduler([new Scheduler([noop("g"), noop("g")], { label: "g" })]);
    expect((await rejection(twice)).code).toBe("DUPLICATE_LABEL");
  });

  test("the first problem in walk order is reported, whether a label repeats before it or not", async () => {
    const cyclic = (a: string, b: string): Job[] => {
      const [ja, jb] = [noop(a), noop(b)];
      ja.requires(jb);
      jb.requires(ja);
      return [ja, jb];
    };
    // a group's label taken by one of its jobs (allowed), then a cycle in a later group
    const allowedFirst = new Scheduler([
      new Scheduler([noop("g")], { label: "g" }),
      new Scheduler(cyclic("x", "y"), { label: "h" }),
    ]);
    const cycle = await rejection(allowedFirst);
    expect(cycle).toBeInstanceOf(CycleError);
    expect(cycle.message).toContain('scheduler "h"');
    // a duplicate found in a group's jobs comes before that group's cycle
    const duplicateFirst = new Scheduler([
      new Scheduler([noop("dup")], { label: "g" }),
      new Scheduler(cyclic("dup", "q"), { label: "h" }),
    ]);
    const dup = await rejection(duplicateFirst);
    expect(dup.code).toBe("DUPLICATE_LABEL");
    expect(dup.label).toBe("dup");
  });

  test("an explicit label equal to a generated one is a duplicate too", async () => {
    const unlabelled = new Job(async () => 1);
    const s = new Scheduler([unlabelled, noop(unlabelled.label)]);
    const err = await rejection(s);
    expect(err.code).toBe("DUPLICATE_LABEL");
    expect(err.label).toBe(unlabelled.label);
    // unlabelled jobs and schedulers never clash with each other
    const many = new Scheduler([
      new Job(async () => 1),
      new Job(async () => 2),
      new Scheduler([new Job(async () => 3)]),
    ]);
    expect(await many.run()).toBe(true);
    expect(labels(many.jobs)[2]).toMatch(/^scheduler-\d+$/);
  });

  test("a cycle through a nested scheduler at the top level", async () => {
    const a = noop("a");
    const inner = new Scheduler([noop("i")], { label: "inner" });
    inner.requires(a);
    a.requires(inner);
    const err = await rejection(new Scheduler([a, inner]));
    expect(err.code).toBe("CYCLE");
    expect(err.message).toBe("cycle: a -> inner -> a");
  });

  test("validate() returns quietly for a valid tree and can be called before run()", () => {
    const a = noop("a");
    const s = new Scheduler([a, new Scheduler([noop("b")], { label: "inner" })]);
    expect(() => s.validate()).not.toThrow();
  });

  test("invalid shutdownTimeout and cancelGrace are INVALID_ARGUMENT errors naming the option", () => {
    for (const option of ["shutdownTimeout", "cancelGrace"] as const)
      expect(() => new Scheduler([], { [option]: -1 })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", option }),
      );
  });

  test("adding a job twice to the same scheduler is harmless", async () => {
    const a = noop("a");
    const s = new Scheduler([a, a, [a]]);
    expect(s.size).toBe(1);
    expect(await s.run()).toBe(true);
  });

  test("self requirement: a job requiring itself, a scheduler containing itself", () => {
    const j = noop("me");
    expect(() => j.requires(j)).toThrow(expect.objectContaining({ code: "SELF_REQUIREMENT" }));
    const s = new Scheduler([], { label: "box" });
    expect(() => s.add(s)).toThrow(/"box" cannot contain itself/);
  });

  test("B17: a non-job argument is an INVALID_ARGUMENT error, never silently dropped", () => {
    for (const bad of [42, "job", { run: () => 1 }, () => 1, true])
      expect(() => new Scheduler([bad as unknown as Job])).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
    expect(() => new Scheduler([{ x: 1 } as unknown as Job])).toThrow(
      "a scheduler accepts jobs, sequences and iterables of them, got Object",
    );
    expect(() => new Scheduler().add(3 as unknown as Job)).toThrow(/got number 3/);
    // what the seed dropped (a list of jobs) is accepted: nested arrays are flattened
    const [a, b] = [noop("a"), noop("b")];
    expect(new Scheduler([[a, b]]).size).toBe(2);
    expect(new Scheduler([new Sequence(noop("c"), noop("d")), null, undefined]).size).toBe(2);
  });

  test("validation errors come before any option is used: rejecting does not run shutdown", async () => {
    let shut = 0;
    const a = new Job(async () => 1, { label: "a", shutdown: () => void shut++ });
    const b = new Job(async () => 1, { label: "a" });
    await expect(new Scheduler([a, b]).run()).rejects.toMatchObject({ code: "DUPLICATE_LABEL" });
    expect(shut).toBe(0);
    expect(a.state).toBe("idle");
  });

  test("running a scheduler that is already running is an error", async () => {
    const s = new Scheduler([new Job(() => sleepMs(50), { label: "a" })]);
    const p = s.run();
    await expect(s.run()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await p).toBe(true);
  });
});

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
