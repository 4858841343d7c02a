import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { noop, sleep } from "./helpers.ts";

describe("why(), stats(), debrief()", () => {
  test("why(): not run, ok, timed out after N ms, critical job X failed: msg, cancelled", async () => {
    const s = new Scheduler([new Job(() => sleep(200), { label: "slow" })]);
    expect(s.why()).toBe("not run");
    expect(await s.run({ timeout: 20 })).toBe(false);
    expect(s.why()).toBe("timed out after 20 ms");
    expect(await s.run({ signal: AbortSignal.abort() })).toBe(false);
    expect(s.why()).toBe("cancelled");
    const f = new Scheduler([
      new Job(
        async () => {
          throw new Error("disk full");
        },
        { label: "writer" },
      ),
    ]);
    await f.run();
    expect(f.why()).toBe('critical job "writer" failed: Error: disk full');
  });

  test("stats() counts direct jobs: done, running, idle", async () => {
    const inner = new Scheduler([noop("x"), noop("y")], { label: "inner" });
    const s = new Scheduler([noop("a"), inner]);
    expect(s.stats()).toBe("0 done + 0 running + 2 idle = 2");
    await s.run();
    expect(s.stats()).toBe("2 done + 0 running + 0 idle = 2");
  });

  test("debrief(): why, list, failures (stack for critical ones)", async () => {
    const boom = new Error("kaput");
    const nc = new Job(
      async () => {
        throw new Error("minor");
      },
      { label: "nc", critical: false },
    );
    const crit = new Job(
      async () => {
        await sleep(20);
        throw boom;
      },
      { label: "crit" },
    );
    const s = new Scheduler([nc, crit]);
    expect(await s.run()).toBe(false);
    const text = s.debrief({ ascii: true });
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^----- critical job "crit" failed: Error: kaput \(\d+ ms\)$/);
    expect(lines[1]).toBe("1   :( x   Job nc !! Error: minor");
    expect(lines[2]).toBe("2 ! :( x   Job crit !! CRITICAL Error: kaput");
    expect(lines[3]).toBe("===== 2 job(s) with an exception, including 1 critical");
    expect(lines[4]).toBe("critical: crit: Error: kaput");
    expect(lines[5]).toMatch(/^ {4}at /);
    expect(text).toContain("debrief.test.ts");
    // B13: the non-critical branch is printed
    expect(lines.at(-1)).toBe("non-critical: nc: Error: minor");
  });

  test("B13: debrief() prints the failures of non-critical jobs (the branch the seed never ran)", async () => {
    const nc = new Job(
      async () => {
        throw new Error("soft");
      },
      { label: "soft-fail", critical: false },
    );
    const s = new Scheduler([nc, noop("fine")]);
    expect(await s.run()).toBe(true);
    const text = s.debrief({ ascii: true });
    expect(text).toContain("===== 1 job(s) with an exception, including 0 critical");
    expect(text).toContain("non-critical: soft-fail: Error: soft");
  });

  test("debrief() follows the cause chain of a failed nested scheduler", async () => {
    const inner = new Scheduler(
      [
        new Job(
          async () => {
            throw new Error("root cause");
          },
          { label: "deep" },
        ),
      ],
      { label: "inner" },
    );
    const s = new Scheduler([inner]);
    expect(await s.run()).toBe(false);
    const text = s.debrief({ ascii: true });
    expect(text).toContain('critical: inner: scheduler "inner" failed');
    expect(text).toContain("    caused by: Error: root cause");
    expect(text).toContain("critical: deep: Error: root cause");
  });
});
