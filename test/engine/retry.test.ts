import { describe, expect, test } from "vitest";
import { AiorchError, Job, type RunEvent, Scheduler } from "../../src/index.ts";
import { plainLine } from "../../src/render/plain.ts";
import { checkRetry } from "../../src/retry.ts";
import { createRecorder } from "../../src/trace/index.ts";

/** A job body failing `failures` times, then returning `value`; counts its calls. */
function flaky<T>(failures: number, value: T) {
  const calls = { n: 0 };
  const fn = async () => {
    calls.n++;
    if (calls.n <= failures) throw new Error(`flake ${calls.n}`);
    return value;
  };
  return { calls, fn };
}

describe("retry", () => {
  test("a job failing twice then passing runs 3 times; each failed attempt is an event", async () => {
    const { calls, fn } = flaky(2, 42);
    const job = new Job(fn, { label: "flaky", retry: { attempts: 3, backoff: 5 } });
    const after = new Job(async () => job.result(), { label: "after", required: job });
    const s = new Scheduler([job, after]);
    const events: RunEvent[] = [];
    s.on((e) => events.push(e));
    const rec = createRecorder({ scheduler: s });
    expect(await s.run()).toBe(true);
    expect(calls.n).toBe(3);
    expect(job.attempts).toBe(3);
    expect(after.result()).toBe(42);
    const attempts = events.filter((e) => e.type === "job-attempt");
    expect(attempts.map((e) => [e.attempt, e.attempts, (e.error as Error).message])).toEqual([
      [1, 3, "flake 1"],
      [2, 3, "flake 2"],
    ]);
    for (const e of attempts) expect(e.delay).toBeGreaterThanOrEqual(0);
    // one running and one done per job: attempts are not state changes
    const states = events.flatMap((e) =>
      e.type === "job-state" && e.label === "flaky" ? [e.state] : [],
    );
    expect(states).toEqual(["running", "done"]);
    const node = rec.finish().scenario.jobs[0]!;
    expect(node.type === "job" && node.attempts?.map((a) => [a.attempt, a.error.message])).toEqual([
      [1, "flake 1"],
      [2, "flake 2"],
    ]);
    expect(job.toString()).toContain("(3 attempts)");
    const line = plainLine(attempts[0]!, { ascii: true, time: () => "T" });
    expect(line).toMatch(/^T ~ flaky attempt 1\/3 failed: Error: flake 1, attempt 2 in \d+ ms$/);
  });

  test("out of attempts: the job fails with the last error, every attempt reported", async () => {
    const { calls, fn } = flaky(5, 1);
    const job = new Job(fn, { label: "bad", retry: { attempts: 2, backoff: 1 }, critical: false });
    const s = new Scheduler([job]);
    const attempts: number[] = [];
    s.on((e) => {
      if (e.type === "job-attempt") attempts.push(e.attempt);
    });
    expect(await s.run()).toBe(true);
    expect(calls.n).toBe(2);
    expect(job.isFailed()).toBe(true);
    expect((job.raisedException() as Error).message).toBe("flake 2");
    expect(attempts).toEqual([1, 2]);
    expect(job.toString()).toContain("(after 2 attempts)");
  });

  test("no retry starts after the run's timeout: the job gives up at once with its error", async () => {
    const { calls, fn } = flaky(10, 1);
    const job = new Job(fn, {
      label: "slowly",
      retry: { attempts: 10, backoff: { initial: 1e9, max: 1e9 } },
    });
    const s = new Scheduler([job], { timeout: 15_000 });
    const events: RunEvent[] = [];
    s.on((e) => events.push(e));
    const t0 = Date.now();
    expect(await s.run()).toBe(false);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(calls.n).toBe(1);
    expect(s.endReason()).toBe("critical");
    const a = events.find((e) => e.type === "job-attempt");
    expect(a?.type === "job-attempt" && a.gaveUp).toMatch(/after the run's timeout/);
  });

  test("a cancelled run stops waiting between attempts at once", async () => {
    const { calls, fn } = flaky(10, 1);
    const job = new Job(fn, { label: "w", retry: { attempts: 5, backoff: 20_000 } });
    const ac = new AbortController();
    const s = new Scheduler([job]);
    s.on((e) => {
      if (e.type === "job-attempt") setTimeout(() => ac.abort(), 20);
    });
    const t0 = Date.now();
    expect(await s.run({ signal: ac.signal })).toBe(false);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(s.endReason()).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.n).toBe(1);
  });

  test("bad retry options are errors naming the job and the field", () => {
    expect(() => new Job(async () => 1, { label: "j", retry: { attempts: 0 } })).toThrow(
      /job "j": retry.attempts must be an integer >= 1, got 0/,
    );
    expect(() =>
      checkRetry({ retry: { attempts: 2, backoff: { initial: -1 } }, label: "k" }),
    ).toThrow(AiorchError);
    expect(checkRetry({ retry: { attempts: 2, backoff: 50 } })).toEqual({
      attempts: 2,
      initial: 50,
      max: 30_000,
      factor: 2,
    });
  });
});
