import { describe, expect, test } from "vitest";
import { Job, Scheduler, Sequence } from "../../src/index.ts";
import { formatJobLine } from "../../src/render/line.ts";
import { noop, sleep } from "./helpers.ts";

const line = (j: Job<unknown> | Scheduler) => formatJobLine(j, false);
const ascii = (j: Job<unknown> | Scheduler) => formatJobLine(j, true);

/** The reference A7 example: ticker, a, failing b, sub(s1, s2), c, and an unlabelled job. */
function a7(): { s: Scheduler; jobs: Record<string, Job<unknown> | Scheduler> } {
  const ticker = new Job(
    ({ signal }) =>
      new Promise((_, rej) => signal.addEventListener("abort", () => rej(signal.reason))),
    { label: "ticker", forever: true },
  );
  const a = new Job(
    async () => {
      await sleep(20);
      return "A";
    },
    { label: "a" },
  );
  const b = new Job(
    async () => {
      throw new Error("boom");
    },
    { label: "b", critical: false, required: a },
  );
  const c = new Job(async () => "C", { label: "c", required: b });
  const sub = new Scheduler(
    [
      new Sequence(
        new Job(async () => 1, { label: "s1" }),
        new Job(async () => 2, { label: "s2" }),
      ),
    ],
    { label: "sub", required: a },
  );
  const last = new Job(async () => "D", { label: "last", required: [c, sub] });
  return { s: new Scheduler([ticker, a, b, c, sub, last]), jobs: { ticker, a, b, c, sub, last } };
}

describe("toString() of a job", () => {
  test("SPEC example: `⚠ ☓ Job b2 -> 200 requires {b1}`", async () => {
    const b1 = new Job(async () => 100, { label: "b1" });
    const b2 = new Job(async () => 200, { label: "b2", required: b1 });
    expect(line(b2)).toBe("⚠ ⚐ Job b2 [not done] requires {b1}");
    await new Scheduler([b1, b2]).run();
    expect(line(b2)).toBe("⚠ ☓ Job b2 -> 200 requires {b1}");
    expect(ascii(b2)).toBe("! x Job b2 -> 200 requires {b1}");
    expect(String(b2)).toBe(formatJobLine(b2));
    expect(`${b1}`).toBe(formatJobLine(b1));
  });

  test("exceptions, criticality, forever, cancelled, scheduled and running", async () => {
    const { s, jobs } = a7();
    await s.run();
    expect(line(jobs.b!)).toBe("★ ☓ Job b !! Error: boom requires {a}");
    expect(ascii(jobs.b!)).toBe(":( x Job b !! Error: boom requires {a}");
    expect(line(jobs.ticker!)).toBe("⚠ ⊘ ∞ Job ticker [cancelled]");
    expect(ascii(jobs.ticker!)).toBe("! / 8 Job ticker [cancelled]");
    expect(line(jobs.sub!)).toBe("⚠ ☓ Scheduler sub -> true requires {a}");
    expect(line(jobs.a!)).toBe("⚠ ☓ Job a -> 'A'");

    const crit = new Job(
      async () => {
        throw new RangeError("bad range");
      },
      { label: "crit" },
    );
    const slow = new Job(() => sleep(100), { label: "slow" });
    const waiting = new Job(() => sleep(1), { label: "waiting" });
    const s2 = new Scheduler([slow, waiting], { window: 1 });
    const p = s2.run();
    await sleep(30);
    expect(line(slow)).toBe("⚠ ↺ Job slow [not done]");
    expect(ascii(slow)).toBe("! o Job slow [not done]");
    expect(line(waiting)).toBe("⚠ ⚑ Job waiting [not done]");
    expect(ascii(waiting)).toBe("! . Job waiting [not done]");
    await p;
    await new Scheduler([crit]).run();
    expect(line(crit)).toBe("⚠ ★ ☓ Job crit !! CRITICAL RangeError: bad range");
  });
});

describe("list()", () => {
  test("reference A7 example: topological order, ids, nested indentation, entries/exits", async () => {
    const { s } = a7();
    expect(await s.run()).toBe(true);
    expect(s.list({ ascii: false })).toBe(
      [
        "1 ⚠   ⊘ ∞ Job ticker [cancelled]",
        "2 ⚠ ☉ ☓   Job a -> 'A'",
        "3   ★ ☓   Job b !! Error: boom requires {2}",
        "4 ⚠ ☉ ☓   Job c -> 'C' requires {3}",
        "5 ⚠ ☉ ☓   Scheduler sub -> true requires {2} -> entries {6}",
        "6 ⚠ ☉ ☓   > Job s1 -> 1",
        "7 ⚠ ☉ ☓   > Job s2 -> 2 requires {6}",
        "5 --end-- < Scheduler sub exits {7}",
        "8 ⚠ ☉ ☓   Job last -> 'D' requires {4, 5}",
      ].join("\n"),
    );
  });

  test("ASCII badges; a critical failure leaves its dependent idle", async () => {
    const t = new Job(
      ({ signal }) =>
        new Promise((_, rej) => signal.addEventListener("abort", () => rej(signal.reason))),
      { label: "t", forever: true, critical: false },
    );
    const c = new Job(
      async () => {
        await sleep(10);
        throw new Error("boom");
      },
      { label: "c" },
    );
    const d = new Job(async () => 1, { label: "d", required: c });
    const s = new Scheduler([t, c, d]);
    expect(await s.run()).toBe(false);
    expect(s.list({ ascii: true })).toBe(
      [
        "1      / 8 Job t [cancelled]",
        "2 ! :( x   Job c !! CRITICAL Error: boom",
        "3 !    >   Job d [not done] requires {2}",
      ].join("\n"),
    );
  });

  test("deeper nesting indents with one > per level and closes with < per level", () => {
    const inner2 = new Scheduler([noop("deep")], { label: "inner2" });
    const inner1 = new Scheduler([inner2], { label: "inner1" });
    const s = new Scheduler([inner1]);
    const lines = s.list({ ascii: true }).split("\n");
    expect(lines).toEqual([
      "1 !    >   Scheduler inner1 [not done] -> entries {2}",
      "2 !    >   > Scheduler inner2 [not done] -> entries {3}",
      "3 !    >   >> Job deep [not done]",
      "2 --end-- << Scheduler inner2 exits {3}",
      "1 --end-- < Scheduler inner1 exits {2}",
    ]);
  });

  test("B12: ids are padded to the width of the job count: 9 jobs -> 1..9, 10 jobs -> 01..10", () => {
    const ids = (n: number) =>
      new Scheduler(Array.from({ length: n }, (_, i) => noop(`j${i}`)))
        .list({ ascii: true })
        .split("\n")
        .map((l) => l.split(" ")[0]);
    expect(ids(9)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const ten = ids(10);
    expect(ten[0]).toBe("01");
    expect(ten[9]).toBe("10");
    expect(ten.every((id) => id?.length === 2)).toBe(true);
    // nested jobs count towards the width
    const nested = new Scheduler([
      ...Array.from({ length: 8 }, (_, i) => noop(`k${i}`)),
      new Scheduler([noop("x")], { label: "inner" }),
    ]);
    const nestedIds = nested
      .list({ ascii: true })
      .split("\n")
      .map((l) => l.split(" ")[0]);
    expect(nestedIds).toContain("10");
    expect(nestedIds[0]).toBe("01");
  });

  test("test_display: every state x exception x critical x forever renders, columns aligned", () => {
    const states = ["idle", "scheduled", "running", "done", "cancelled"] as const;
    const jobs: Job<unknown>[] = [];
    for (const state of states)
      for (const failed of [false, true])
        for (const critical of [false, true])
          for (const forever of [false, true]) {
            const j = new Job(async () => 1, {
              label: `${state}-${failed ? "F" : "ok"}-${critical ? "C" : "nc"}-${forever ? "8" : "1"}`,
              critical,
              forever,
            });
            j._state = state;
            j._failed = failed && state === "done";
            if (j._failed) j._error = new Error("boom");
            jobs.push(j);
          }
    const s = new Scheduler(jobs);
    for (const asciiMode of [false, true]) {
      const lines = s.list({ ascii: asciiMode }).split("\n");
      expect(lines).toHaveLength(40);
      const columns = new Set(lines.map((l) => [...l].indexOf("J")));
      expect(columns.size).toBe(1);
      for (const l of lines) expect(l).toMatch(/ Job (idle|scheduled|running|done|cancelled)-/);
    }
    const badge = (label: string) =>
      s
        .list({ ascii: true })
        .split("\n")
        .find((l) => l.includes(` ${label} `))
        ?.split(" Job ")[0];
    expect(badge("done-F-C-8")).toBe("32 ! :( x 8");
    expect(badge("running-ok-nc-1")).toBe("17   :) o  ");
    expect(badge("scheduled-ok-C-1")).toBe("11 !    .  ");
  });

  test("details() lines are printed under their job with details: true", () => {
    class Detailed extends Job<number> {
      override details(): string {
        return "first detail\nsecond detail";
      }
    }
    const s = new Scheduler([new Detailed(async () => 1, { label: "d" })]);
    expect(s.list({ ascii: true, details: true }).split("\n")).toEqual([
      "1 !    >   Detailed d [not done]",
      "    first detail",
      "    second detail",
    ]);
    expect(s.list({ ascii: true })).not.toContain("detail");
  });

  test("B6: list() works on a graph with a cycle and with outside requirements", () => {
    const a = noop("a");
    const b = noop("b", a);
    a.requires(b);
    const out = noop("out");
    const c = noop("c", out);
    const s = new Scheduler([a, b, c]);
    expect(() => s.list()).not.toThrow();
    expect(s.list({ ascii: true })).toContain("requires {??}");
  });
});
