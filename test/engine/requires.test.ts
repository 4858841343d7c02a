import { describe, expect, test } from "vitest";
import { AiorchError, Job, Scheduler, Sequence } from "../../src/index.ts";
import { labels, noop, Recorder } from "./helpers.ts";

const reqLabels = (j: Job<unknown>): string[] => labels(j.required);

describe("requires() argument forms (test_requires_job)", () => {
  test("null, undefined and containers of them give 0 requirements", () => {
    for (const arg of [null, undefined, [null], [undefined], [[null], []], new Set([null])]) {
      const j = noop("j");
      j.requires(arg);
      expect(j.required.size).toBe(0);
    }
    expect(noop("k").requires().required.size).toBe(0);
    expect(noop("k").requires(null, undefined).required.size).toBe(0);
  });

  test("one job in any wrapper gives 1", () => {
    const a = noop("a");
    for (const arg of [a, [a], [[a]], new Set([a]), [null, a, undefined], [a, a]]) {
      const j = noop("j");
      j.requires(arg);
      expect(reqLabels(j)).toEqual(["a"]);
    }
    const viaOption = new Job(async () => 1, { label: "o", required: [[a]] });
    expect(reqLabels(viaOption)).toEqual(["a"]);
  });

  test("two jobs give 2, in the order given", () => {
    const a = noop("a");
    const b = noop("b");
    for (const args of [[a, b], [[a, b]], [[a], [b]], [new Set([b, a])]]) {
      const j = noop("j");
      j.requires(...args);
      expect(j.required.size).toBe(2);
    }
    expect(reqLabels(noop("j").requires(b, a))).toEqual(["b", "a"]);
  });

  test("a deep mix [a, [b], new Set([c, d]), [[[[e]]]]] gives 5", () => {
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((l) => noop(l)) as [
      Job<string>,
      Job<string>,
      Job<string>,
      Job<string>,
      Job<string>,
    ];
    const j = noop("j").requires([a, [b], new Set([c, d]), [[[[e]]]], null]);
    expect(reqLabels(j)).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("a job requiring itself is a SELF_REQUIREMENT error naming it", () => {
    const j = noop("selfish");
    expect(() => j.requires(j)).toThrow(
      expect.objectContaining({ code: "SELF_REQUIREMENT", label: "selfish" }),
    );
    expect(() => j.requires([noop("x"), [j]])).toThrow(/"selfish" requires itself/);
  });

  test("anything that is not a job, sequence or iterable is an INVALID_ARGUMENT", () => {
    const j = noop("j");
    expect(() => j.requires(42 as unknown as Job)).toThrow(AiorchError);
    expect(() => j.requires({} as unknown as Job)).toThrow(/requires\(\) accepts/);
    expect(() => j.requires("a" as unknown as Job)).toThrow(/"a"/);
  });

  test("a sequence stands for its last job", () => {
    const s = new Sequence(noop("s1"), noop("s2"), noop("s3"));
    const j = noop("j").requires(s);
    expect(reqLabels(j)).toEqual(["s3"]);
    const k = new Job(async () => 1, { label: "k", required: [s] });
    expect(reqLabels(k)).toEqual(["s3"]);
  });

  test("B5: unrequire(seq) removes the sequence's last job instead of adding it", () => {
    const s = new Sequence(noop("s1"), noop("s2"));
    const a = noop("a");
    const j = noop("j").requires(s, a);
    j.unrequire(s);
    expect(reqLabels(j)).toEqual(["a"]);
    j.unrequire(noop("absent"));
    expect(reqLabels(j)).toEqual(["a"]);
  });
});

describe("Sequence", () => {
  test("test_sequence: Sequence(a, b, c) gives 0/1/1 requirements, chained", () => {
    const [a, b, c] = [noop("a"), noop("b"), noop("c")];
    const seq = new Sequence(a, b, c);
    expect(a.required.size).toBe(0);
    expect(reqLabels(b)).toEqual(["a"]);
    expect(reqLabels(c)).toEqual(["b"]);
    expect(labels(seq.jobs)).toEqual(["a", "b", "c"]);
    expect(seq.first).toBe(a);
    expect(seq.last).toBe(c);
  });

  test("B4: append(x, y) chains x after the tail and y after x", () => {
    const [a, b, x, y] = [noop("a"), noop("b"), noop("x"), noop("y")];
    const seq = new Sequence(a, b);
    expect(seq.append(x, y)).toBe(seq);
    expect(reqLabels(x)).toEqual(["b"]);
    expect(reqLabels(y)).toEqual(["x"]);
    expect(seq.last).toBe(y);
  });

  test("nested sequences are spliced in and chained; null entries skipped", () => {
    const [a, b, c, d] = [noop("a"), noop("b"), noop("c"), noop("d")];
    const seq = new Sequence(a, null, new Sequence(b, c), undefined, [d]);
    expect(labels(seq.jobs)).toEqual(["a", "b", "c", "d"]);
    expect(reqLabels(b)).toEqual(["a"]);
    expect(reqLabels(c)).toEqual(["b"]);
    expect(reqLabels(d)).toEqual(["c"]);
  });

  test("test_requires_sequence: requires() on a sequence applies to its first job", () => {
    const [a1, a2] = [noop("a1"), noop("a2")];
    const [b1, b2, b3] = [noop("b1"), noop("b2"), noop("b3")];
    const seq = new Sequence(b1, b2, b3).requires([a1, a2]);
    expect(reqLabels(b1)).toEqual(["a1", "a2"]);
    expect(reqLabels(b2)).toEqual(["b1"]);
    expect(reqLabels(b3)).toEqual(["b2"]);
    expect(seq.first).toBe(b1);
  });

  test("requires() on an empty sequence is an error", () => {
    expect(() => new Sequence().requires(noop("a"))).toThrow(/empty Sequence/);
  });

  test("a non-job item is an INVALID_ARGUMENT", () => {
    expect(() => new Sequence(noop("a"), 3 as unknown as Job)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  test("a scheduler given a sequence adds every job; the run follows the chain", async () => {
    const r = new Recorder();
    const seq = new Sequence(r.job("s1", 20), r.job("s2", 10), r.job("s3", 5));
    const s = new Scheduler([seq]);
    expect(s.size).toBe(3);
    expect(await s.run()).toBe(true);
    expect(r.marks).toEqual(["+s1", "-s1", "+s2", "-s2", "+s3", "-s3"]);
  });

  test("test_creation_scheduler: Seq(a, b), c requiring the seq, then append(d) -> 4 jobs", async () => {
    const r = new Recorder();
    const seq = new Sequence(r.job("a", 30), r.job("b", 20));
    const c = r.job("c", 30, { required: seq });
    const s = new Scheduler([seq, c]);
    seq.append(r.job("d", 10));
    s.add(seq);
    expect(s.size).toBe(4);
    expect(s.checkCycles()).toBe(true);
    expect(await s.run()).toBe(true);
    expect(r.ranBefore("b", "c")).toBe(true);
    expect(r.ranBefore("b", "d")).toBe(true);
    expect(r.ranBefore("a", "b")).toBe(true);
  });

  test("a sequence of schedulers runs them one after the other", async () => {
    const r = new Recorder();
    const s1 = new Scheduler([r.job("x1", 20), r.job("x2", 10)], { label: "S1" });
    const s2 = new Scheduler([r.job("y1", 10)], { label: "S2" });
    const top = new Scheduler([new Sequence(s1, s2)]);
    expect(await top.run()).toBe(true);
    expect(r.ranBefore("x1", "y1") && r.ranBefore("x2", "y1")).toBe(true);
  });
});
