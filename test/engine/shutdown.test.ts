import { describe, expect, test } from "vitest";
import {
  AbstractJob,
  AiorchError,
  type EndReason,
  Job,
  type RunOptions,
  Scheduler,
  type ShutdownEvent,
} from "../../src/index.ts";
import { sleep, timed } from "./helpers.ts";

/**
 * Reference A5 (tests/test_shutdown.py), in ms: two chains of four 200 ms jobs; a counter goes
 * up per finished run and down per finished shutdown (only for jobs that ran). One chain's
 * shutdowns take 100 ms, the other's 500 ms.
 */
class CounterJob extends AbstractJob<number> {
  readonly box: { n: number };
  readonly runMs: number;
  readonly shutMs: number;
  constructor(label: string, box: { n: number }, runMs: number, shutMs: number) {
    super({ label });
    this.box = box;
    this.runMs = runMs;
    this.shutMs = shutMs;
  }
  async run({ signal }: { signal: AbortSignal }): Promise<number> {
    await sleep(this.runMs, undefined, { signal });
    return ++this.box.n;
  }
  override async shutdown(): Promise<void> {
    if (!this.isDone()) return;
    await sleep(this.shutMs);
    this.box.n--;
  }
}

function chains(box: { n: number }): Scheduler {
  const jobs: CounterJob[] = [];
  for (const [name, shutMs] of [
    ["fast", 100],
    ["slow", 500],
  ] as const) {
    let prev: CounterJob | undefined;
    for (let i = 1; i <= 4; i++) {
      const j = new CounterJob(`${name}${i}`, box, 200, shutMs);
      if (prev) j.requires(prev);
      jobs.push(j);
      prev = j;
    }
  }
  return new Scheduler(jobs);
}

describe("shutdown counters (reference A5, in ms)", () => {
  test.each([
    [undefined, 50, 8],
    [undefined, 250, 4],
    [undefined, 800, 0],
    // a 500 ms timeout: two jobs per chain done (at 400 ms), the third cancelled
    [500, 50, 4],
    [500, 250, 2],
    [500, 800, 0],
  ])("run timeout %s, shutdownTimeout %s -> counter %s", async (timeout, shutdownTimeout, n) => {
    const box = { n: 0 };
    const s = chains(box);
    s.shutdownTimeout = shutdownTimeout;
    expect(await s.run(timeout === undefined ? {} : { timeout })).toBe(timeout === undefined);
    expect(box.n).toBe(n);
    // every done job whose hook did not return in time is reported
    expect(s.shutdownProblems().length).toBe(n);
  });
});

describe("shutdown", () => {
  test("runs automatically once per run, on every job including never-started ones", async () => {
    const calls: string[] = [];
    const mk = (label: string, fail?: boolean) =>
      new Job(
        async () => {
          if (fail) throw new Error("boom");
          return label;
        },
        { label, shutdown: () => void calls.push(label) },
      );
    const a = mk("a", true);
    const b = mk("b");
    b.requires(a);
    const s = new Scheduler([a, b]);
    expect(await s.run()).toBe(false);
    expect(b.state).toBe("idle");
    expect(calls.sort()).toEqual(["a", "b"]);
    expect(await s.shutdown()).toBe(true);
    expect(calls.length).toBe(2);
  });

  test("runs on success, on timeout, on critical failure and on cancellation", async () => {
    const cases: [RunOptions, boolean, EndReason][] = [
      [{}, false, "ok"],
      [{ timeout: 30 }, false, "timeout"],
      [{}, true, "critical"],
      [{ signal: AbortSignal.timeout(30) }, false, "cancelled"],
    ];
    for (const [opts, fail, reason] of cases) {
      let shut = 0;
      const j = new Job(
        async ({ signal }) => {
          if (fail) throw new Error("x");
          await sleep(reason === "ok" ? 5 : 2000, undefined, { signal });
        },
        { label: "j", shutdown: () => void shut++ },
      );
      const s = new Scheduler([j]);
      expect(await s.run(opts)).toBe(reason === "ok");
      expect(s.endReason()).toBe(reason);
      expect(shut).toBe(1);
    }
  });

  test("hooks run in parallel: three 200 ms hooks take about 200 ms, not 600", async () => {
    const jobs = ["a", "b", "c"].map(
      (label) => new Job(async () => 1, { label, shutdown: () => sleep(200) }),
    );
    const { value, ms } = await timed(() => new Scheduler(jobs).run());
    expect(value).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(590);
  });

  test("B10: a throwing hook and a slow hook are reported, never thrown, and never stop others", async () => {
    let okShut = false;
    const thrower = new Job(async () => 1, {
      label: "thrower",
      shutdown: () => {
        throw new Error("hook broke");
      },
    });
    const slow = new Job(async () => 1, { label: "slow", shutdown: () => sleep(3000) });
    const ok = new Job(async () => 1, {
      label: "ok",
      shutdown: async () => {
        await sleep(20);
        okShut = true;
      },
    });
    const s = new Scheduler([thrower, slow, ok], { shutdownTimeout: 200 });
    const events: ShutdownEvent[] = [];
    s.on((e) => {
      if (e.type === "shutdown") events.push(e);
    });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(ms).toBeLessThan(1000);
    expect(okShut).toBe(true);
    const problems = s.shutdownProblems();
    expect(problems.map((p) => p.label).sort()).toEqual(["slow", "thrower"]);
    const slowErr = problems.find((p) => p.label === "slow")?.error;
    expect(slowErr).toBeInstanceOf(AiorchError);
    expect(slowErr).toMatchObject({ code: "SHUTDOWN", timeoutMs: 200 });
    expect((slowErr as Error).message).toBe('shutdown of "slow" did not return within 200 ms');
    const thrown = problems.find((p) => p.label === "thrower")?.error;
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe("hook broke");
    expect(events).toHaveLength(1);
    expect(events[0]?.ok).toBe(false);
    expect(events[0]?.problems).toHaveLength(2);
    expect(s.debrief()).toContain("===== 2 shutdown problem(s)");
    expect(s.debrief()).toContain("shutdown: thrower: Error: hook broke");
  });

  test("shutdownTimeout defaults to 1000 ms", async () => {
    const s = new Scheduler([new Job(async () => 1, { label: "x", shutdown: () => sleep(5000) })]);
    expect(s.shutdownTimeout).toBe(1000);
    const { ms } = await timed(() => s.run());
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2000);
    expect(s.shutdownProblems()[0]?.label).toBe("x");
  });

  test("B9: repeated shutdown() returns the same result and does not rerun hooks", async () => {
    let calls = 0;
    const bad = new Job(async () => 1, {
      label: "bad",
      shutdown: () => {
        calls++;
        throw new Error("no");
      },
    });
    const s = new Scheduler([bad]);
    expect(await s.run()).toBe(true);
    expect(await s.shutdown()).toBe(false);
    expect(await s.shutdown()).toBe(false);
    expect(calls).toBe(1);
    // and a new run shuts down again, once
    expect(await s.run()).toBe(true);
    expect(calls).toBe(2);
    expect(s.shutdownProblems()).toHaveLength(1);
  });

  test("a nested scheduler's jobs are shut down when the nested run ends, once", async () => {
    const log: string[] = [];
    const inner = new Scheduler(
      [new Job(async () => log.push("i-run"), { label: "i", shutdown: () => log.push("i-shut") })],
      { label: "inner" },
    );
    const after = new Job(async () => log.push("after-run"), { label: "after", required: inner });
    const outer = new Scheduler([inner, after]);
    expect(await outer.run()).toBe(true);
    expect(log).toEqual(["i-run", "i-shut", "after-run"]);
  });

  test("a nested scheduler that never started still shuts its jobs down", async () => {
    const log: string[] = [];
    const inner = new Scheduler(
      [new Job(async () => 1, { label: "i", shutdown: () => log.push("i-shut") })],
      { label: "inner" },
    );
    const bad = new Job(
      async () => {
        throw new Error("x");
      },
      { label: "bad" },
    );
    inner.requires(bad);
    const outer = new Scheduler([bad, inner]);
    expect(await outer.run()).toBe(false);
    expect(inner.state).toBe("idle");
    expect(log).toEqual(["i-shut"]);
  });

  test("resources registered with use() close after the run, highest closeOrder first", async () => {
    const closed: string[] = [];
    const res = (name: string, closeOrder: number) => ({
      name,
      closeOrder,
      close: async () => void closed.push(name),
    });
    const j = new Job(
      async ({ use }) => {
        use(res("near", 1));
        use(res("far", 3));
        use(res("mid", 2));
      },
      { label: "j" },
    );
    const inner = new Scheduler(
      [new Job(async ({ use }) => use(res("inner", 2)), { label: "k" })],
      { label: "inner" },
    );
    expect(await new Scheduler([j, inner]).run()).toBe(true);
    expect(closed[0]).toBe("far");
    expect(closed.slice(1, 3).sort()).toEqual(["inner", "mid"]);
    expect(closed[3]).toBe("near");
  });

  test("a Job subclass overriding shutdown() has it called once per run, started or not", async () => {
    const calls: string[] = [];
    class Tidy extends Job<string> {
      override async shutdown(): Promise<void> {
        calls.push(this.label);
      }
    }
    class Tidier extends Tidy {}
    const a = new Tidy(async () => "a", { label: "a" });
    const b = new Tidier(async () => "b", { label: "b", required: a });
    const failing = new Job(
      async () => {
        throw new Error("boom");
      },
      { label: "f", required: b },
    );
    const never = new Tidy(async () => "n", { label: "never", required: failing });
    const s = new Scheduler([a, b, failing, never]);
    expect(await s.run()).toBe(false);
    expect(calls.sort()).toEqual(["a", "b", "never"]);
    expect(await s.run()).toBe(false);
    expect(calls).toHaveLength(6);
  });
});
