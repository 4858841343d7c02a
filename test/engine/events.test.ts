import { describe, expect, test, vi } from "vitest";
import { Job, type RunEvent, Scheduler } from "../../src/index.ts";
import { emitOutput } from "../../src/index.ts";
import { sleep } from "./helpers.ts";

/** A compact trace of events: `run-start root`, `a running`, `a | line`, `run-end root ok`. */
function compact(e: RunEvent): string {
  const where = [...e.path, e.label].join("/");
  switch (e.type) {
    case "run-start":
      return `run-start ${where}`;
    case "job-state":
      return `${where} ${e.state}`;
    case "job-ready":
      return `${where} ready`;
    case "job-output":
      return `${where} ${e.stream}: ${e.line}`;
    case "job-attempt":
      return `${where} attempt ${e.attempt}/${e.attempts}`;
    case "run-end":
      return `run-end ${where} ${e.reason}`;
    case "shutdown":
      return `shutdown ${where} ${e.ok}`;
  }
}

describe("event stream", () => {
  test("order: run-start, job states and output lines, shutdown, run-end", async () => {
    const a = new Job(
      async (ctx) => {
        ctx.log("hello");
        emitOutput(ctx, "stdout", "out line", "localhost");
        emitOutput(ctx, "stderr", "err line");
        return 1;
      },
      { label: "a" },
    );
    const b = new Job(async () => 2, { label: "b", required: a });
    const s = new Scheduler([a, b], { label: "root", timeout: 5000 });
    const events: RunEvent[] = [];
    s.on((e) => events.push(e));
    const t0 = Date.now();
    expect(await s.run()).toBe(true);
    expect(events.map(compact)).toEqual([
      "run-start root",
      "a running",
      "a log: hello",
      "a stdout: out line",
      "a stderr: err line",
      "a done",
      "b running",
      "b done",
      "shutdown root true",
      "run-end root ok",
    ]);
    const start = events[0];
    expect(start).toMatchObject({ type: "run-start", jobs: 2, timeout: 5000, scheduler: s });
    const out = events.find((e) => e.type === "job-output" && e.stream === "stdout");
    expect(out).toMatchObject({ host: "localhost", job: a });
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", ok: true, reason: "ok" });
    for (const e of events) {
      expect(e.time).toBeGreaterThanOrEqual(t0);
      expect(e.time).toBeLessThanOrEqual(Date.now());
    }
    const times = events.map((e) => e.time);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  test("job-state events carry previous state and the error of failing or cancelled jobs", async () => {
    const bad = new Job(
      async () => {
        throw new Error("boom");
      },
      { label: "bad", critical: false },
    );
    const slow = new Job(({ signal }) => sleep(5000, undefined, { signal }), { label: "slow" });
    const s = new Scheduler([bad, slow], { timeout: 50 });
    const events: RunEvent[] = [];
    s.on((e) => events.push(e));
    expect(await s.run()).toBe(false);
    const badDone = events.find(
      (e) => e.type === "job-state" && e.label === "bad" && e.state === "done",
    );
    expect(badDone).toMatchObject({ previous: "running" });
    expect(((badDone as { error?: Error }).error as Error).message).toBe("boom");
    const cancelled = events.find((e) => e.type === "job-state" && e.state === "cancelled");
    expect(cancelled).toMatchObject({ label: "slow", previous: "running" });
    expect((cancelled as { error?: unknown }).error).toMatchObject({ code: "TIMEOUT" });
    expect(events.at(-1)).toMatchObject({ type: "run-end", ok: false, reason: "timeout" });
  });

  test("nested events carry the path of enclosing schedulers and reach the outer listeners", async () => {
    const deep = new Job(async (ctx) => ctx.log("deep says hi"), { label: "deep" });
    const mid = new Scheduler([deep], { label: "mid" });
    const inner = new Scheduler([mid], { label: "inner" });
    const root = new Scheduler([inner], { label: "root" });
    const events: RunEvent[] = [];
    root.on((e) => events.push(e));
    const innerOnly: string[] = [];
    inner.on((e) => innerOnly.push(compact(e)));
    expect(await root.run()).toBe(true);
    const trace = events.map(compact);
    expect(trace).toEqual([
      "run-start root",
      "inner running",
      "run-start inner",
      "inner/mid running",
      "run-start inner/mid",
      "inner/mid/deep running",
      "inner/mid/deep log: deep says hi",
      "inner/mid/deep done",
      "shutdown inner/mid true",
      "run-end inner/mid ok",
      "inner/mid done",
      "shutdown inner true",
      "run-end inner ok",
      "inner done",
      "shutdown root true",
      "run-end root ok",
    ]);
    const deepEvent = events.find((e) => e.type === "job-output");
    expect(deepEvent?.path).toEqual(["inner", "mid"]);
    // a nested scheduler's own listener sees its subtree only
    expect(innerOnly[0]).toBe("run-start inner");
    expect(innerOnly.at(-1)).toBe("run-end inner ok");
    expect(innerOnly).not.toContain("run-start root");
  });

  test("a listener that throws does not break the run nor the other listeners", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const s = new Scheduler([new Job(async () => 1, { label: "a" })]);
      const seen: string[] = [];
      s.on(() => {
        throw new Error("broken view");
      });
      s.on((e) => seen.push(e.type));
      expect(await s.run()).toBe(true);
      expect(seen[0]).toBe("run-start");
      expect(seen.at(-1)).toBe("run-end");
      expect(warn).toHaveBeenCalled();
      expect(String(warn.mock.calls[0]?.[0])).toContain("broken view");
    } finally {
      warn.mockRestore();
    }
  });

  test("on() returns an unsubscribe function", async () => {
    const s = new Scheduler([new Job(async () => 1, { label: "a" })]);
    let n = 0;
    const off = s.on(() => n++);
    await s.run();
    const first = n;
    expect(first).toBeGreaterThan(0);
    off();
    await s.run();
    expect(n).toBe(first);
  });

  test("events() as an async iterable: every event of the run, also those emitted before iterating", async () => {
    const s = new Scheduler([new Job(async () => 1, { label: "a" })], { label: "root" });
    const ac = new AbortController();
    const iterable = s.events({ signal: ac.signal });
    const run = s.run(); // run-start is emitted before the loop below starts
    const seen: string[] = [];
    const consume = (async () => {
      for await (const e of iterable) seen.push(compact(e));
    })();
    expect(await run).toBe(true);
    ac.abort();
    await consume;
    expect(seen[0]).toBe("run-start root");
    expect(seen.at(-1)).toBe("run-end root ok");
    expect(seen).toContain("a done");
  });

  test("a run without listeners emits nothing and works the same", async () => {
    const a = new Job(
      async (ctx) => {
        ctx.log("nobody listens");
        return 5;
      },
      { label: "a" },
    );
    expect(await new Scheduler([a]).run()).toBe(true);
    expect(a.result()).toBe(5);
  });
});
