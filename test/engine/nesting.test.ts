import { describe, expect, test } from "vitest";
import { Job, Scheduler, Sequence } from "../../src/index.ts";
import { Recorder, timed } from "./helpers.ts";

describe("nested schedulers (reference test_nesting, scaled to 100 ms units)", () => {
  test("nesting1: job -> nested (100 ‖ 200) -> job takes about 100 + 200 + 100", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("i1", 100), r.job("i2", 200)], { label: "inner" });
    const seq = new Sequence(r.job("begin", 100), inner, r.job("end", 100));
    const { value, ms } = await timed(() => new Scheduler([seq]).run());
    expect(value).toBe(true);
    expect(r.ranBefore("begin", "i1") && r.ranBefore("begin", "i2")).toBe(true);
    expect(r.ranBefore("i2", "end") && r.ranBefore("i1", "end")).toBe(true);
    expect(r.maxConcurrency(["i1", "i2"])).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(1500);
  });

  test("nesting2/3: a diamond of nested diamonds, each branch in its own scheduler", async () => {
    const r = new Recorder();
    const diamond = (p: string) => {
      const top = r.job(`${p}-top`, 50);
      const left = r.job(`${p}-left`, 100, { required: top });
      const right = r.job(`${p}-right`, 150, { required: top });
      const bottom = r.job(`${p}-bottom`, 50, { required: [left, right] });
      return new Scheduler([top, left, right, bottom], { label: p });
    };
    const head = r.job("head", 50);
    const d1 = diamond("d1").requires(head);
    const d2 = diamond("d2").requires(head);
    const tail = r.job("tail", 50, { required: [d1, d2] });
    const s = new Scheduler([head, d1, d2, tail]);
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    for (const p of ["d1", "d2"]) {
      expect(r.ranBefore("head", `${p}-top`)).toBe(true);
      expect(r.ranBefore(`${p}-right`, `${p}-bottom`)).toBe(true);
      expect(r.ranBefore(`${p}-bottom`, "tail")).toBe(true);
    }
    // both nested diamonds ran at the same time
    expect(r.maxConcurrency(["d1-left", "d1-right", "d2-left", "d2-right"])).toBe(4);
    expect(ms).toBeGreaterThanOrEqual(340); // 50 + 50 + 150 + 50 + 50
    expect(ms).toBeLessThan(1500);
  });

  test("nesting_sequence: BEGIN -> a forever nested scheduler that ends by itself -> END", async () => {
    const r = new Recorder();
    const inner = new Scheduler([new Sequence(r.job("s1", 50), r.job("s2", 50), r.job("s3", 50))], {
      label: "multi\nline label",
      forever: true,
      critical: true,
    });
    const seq = new Sequence(r.job("BEGIN", 50), inner, r.job("END", 50));
    const s = new Scheduler([seq]);
    expect(await s.run()).toBe(true);
    expect(r.started()).toEqual(["BEGIN", "s1", "s2", "s3", "END"]);
    expect(inner.isDone()).toBe(true);
    expect(inner.result()).toBe(true);
  });

  test("an empty nested scheduler is done at once and unblocks its dependents", async () => {
    const r = new Recorder();
    const empty = new Scheduler([], { label: "empty" });
    const s = new Scheduler([new Sequence(r.job("a", 10), empty, r.job("b", 10))]);
    expect(await s.run()).toBe(true);
    expect(empty.isDone()).toBe(true);
    expect(empty.result()).toBe(true);
    expect(r.started()).toEqual(["a", "b"]);
  });

  test("a nested scheduler has its own timeout, independent of the outer's", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("long", 1000)], {
      label: "inner",
      timeout: 80,
      critical: false,
    });
    const outer = new Scheduler([inner, r.job("sibling", 200)], { timeout: 3000 });
    expect(await outer.run()).toBe(true);
    expect(inner.failedTimeout()).toBe(true);
    expect(outer.failedTimeout()).toBe(false);
    expect(r.span("sibling").outcome).toBe("end");
  });

  test("ctx.vars is shared by every job of the run, nested ones included", async () => {
    const writer = new Job(
      async ({ vars }) => {
        vars.token = "abc";
      },
      { label: "writer" },
    );
    const inner = new Scheduler([writer], { label: "inner" });
    const reader = new Job(async ({ vars }) => vars.token, { label: "reader", required: inner });
    const s = new Scheduler([inner, reader]);
    expect(await s.run({ vars: { preset: "1" } })).toBe(true);
    expect(reader.result()).toBe("abc");
    // each run starts from its own variables
    const again = new Job(async ({ vars }) => Object.keys(vars).sort().join(","), {
      label: "again",
    });
    const s2 = new Scheduler([again]);
    expect(await s2.run({ vars: { x: "1" } })).toBe(true);
    expect(again.result()).toBe("x");
  });

  test("a failing nested scheduler's dependents in the outer scheduler still run when it is non-critical", async () => {
    const r = new Recorder();
    const inner = new Scheduler([r.job("bad", 20, { fail: "inner boom", critical: true })], {
      label: "inner",
      critical: false,
    });
    const after = r.job("after", 10, { required: inner });
    const s = new Scheduler([inner, after]);
    expect(await s.run()).toBe(true);
    expect(inner.isFailed()).toBe(true);
    expect(inner.result()).toBe(false);
    expect(inner.why()).toBe('critical job "bad" failed: Error: inner boom');
    expect(after.isDone()).toBe(true);
  });
});
