import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import {
  AbstractJob,
  AiorchError,
  Job,
  type JobContext,
  Scheduler,
  emitOutput,
} from "../../src/index.ts";
import { scenario } from "../../dsl/index.ts";
import { moduleJob, recordRun, replay } from "../../src/trace/index.ts";
import type { TraceJob, TraceScheduler } from "../../src/trace/types.ts";

const find = (s: TraceScheduler, label: string): TraceJob | TraceScheduler => {
  for (const j of s.jobs) {
    if (j.label === label) return j;
    if (j.type === "scheduler") {
      const f = (() => {
        try {
          return find(j, label);
        } catch {
          return undefined;
        }
      })();
      if (f) return f;
    }
  }
  throw new Error(`no ${label}`);
};

/** A job describing itself with a secret, printing it, and failing with it. */
class SecretJob extends AbstractJob<string> {
  async run(ctx: JobContext): Promise<string> {
    emitOutput(ctx, "stdout", "logging in with hunter2-secret now", "h1");
    return "ok";
  }
  override describe() {
    return {
      kind: "commands",
      node: { type: "ssh", host: "h1", passphrase: "hunter2-secret", password: "pw-abcdef" },
      commands: [{ type: "run", argv: ["echo"], options: { env: { API_TOKEN: "tok-123456" } } }],
    };
  }
}

describe("recorder", () => {
  test("records structure, states, timings, results and errors", async () => {
    const a = new Job(async () => ({ n: 42 }), { label: "a" });
    const b = new Job(
      async () => {
        throw new AiorchError("COMMAND_FAILED", "boom", { host: "h", exitCode: 3 });
      },
      { label: "b", required: a, critical: false },
    );
    const f = new Job(({ signal }) => sleep(60_000, undefined, { signal }), {
      label: "f",
      forever: true,
    });
    const inner = new Scheduler([new Job(async () => "in", { label: "i1" })], {
      label: "phase",
      window: 2,
      timeout: 5_000,
      required: [a],
    });
    const s = new Scheduler([a, b, f, inner], { label: "root", timeout: 10_000 });
    const { ok, trace } = await recordRun({ scheduler: s });
    expect(ok).toBe(true);
    expect(trace.format).toBe("aiorch-trace");
    expect(trace.version).toBe(1);
    expect(trace.run).toMatchObject({ ok: true, reason: "ok" });
    const root = trace.scenario;
    expect(root).toMatchObject({ label: "root", timeout: 10_000, critical: true, state: "done" });
    expect(root.jobs.map((j) => j.label)).toEqual(["a", "b", "f", "phase"]);
    expect(find(root, "a")).toMatchObject({
      state: "done",
      result: { n: 42 },
      work: { kind: "opaque" },
    });
    expect(find(root, "b")).toMatchObject({
      requires: ["a"],
      critical: false,
      state: "done",
      error: {
        name: "AiorchError",
        code: "COMMAND_FAILED",
        message: "boom",
        facts: { host: "h", exitCode: 3 },
      },
    });
    expect(find(root, "f")).toMatchObject({ forever: true, state: "cancelled" });
    expect(find(root, "phase")).toMatchObject({
      type: "scheduler",
      window: 2,
      timeout: 5_000,
      requires: ["a"],
      reason: "ok",
      jobs: [{ label: "i1", result: "in", state: "done" }],
    });
    const i1 = find(root, "i1") as TraceJob;
    const ja = find(root, "a") as TraceJob;
    expect(i1.startedAt).toBeGreaterThanOrEqual(ja.endedAt ?? 0);
    expect(i1.duration).toBe((i1.endedAt ?? 0) - (i1.startedAt ?? 0));
  });

  test("bounds output per job and notes what it dropped", async () => {
    const noisy = new Job(
      async (ctx) => {
        for (let i = 0; i < 100; i++) ctx.log(`line ${i} ${"x".repeat(90)}`);
      },
      { label: "noisy" },
    );
    const { trace } = await recordRun({ scheduler: new Scheduler([noisy]), jobOutputBytes: 1_000 });
    const out = (trace.scenario.jobs[0] as TraceJob).output;
    expect(out.lines.length).toBe(10); // 10 lines of 98 bytes fit in 1000
    expect(out.lines[0]).toMatchObject({ stream: "log", line: `line 0 ${"x".repeat(90)}` });
    expect(out.truncated).toBe(true);
    expect(out.droppedLines).toBe(90);
    expect(trace.limits.jobOutputBytes).toBe(1_000);
  });

  test("never records secrets: keys redacted, values masked in output", async () => {
    const { trace } = await recordRun({
      scheduler: new Scheduler([new SecretJob({ label: "s" })]),
    });
    const text = JSON.stringify(trace);
    expect(text).not.toContain("hunter2-secret");
    expect(text).not.toContain("pw-abcdef");
    expect(text).not.toContain("tok-123456");
    const s = trace.scenario.jobs[0] as TraceJob;
    expect(s.work).toMatchObject({
      node: { host: "h1", passphrase: { $redacted: true } },
      commands: [{ options: { env: { API_TOKEN: { $redacted: true } } } }],
    });
    expect(s.output.lines[0]).toMatchObject({ line: "logging in with *** now", host: "h1" });
  });

  test("replay and module jobs describe themselves through the DSL's wrapping body, in the plan and the trace", async () => {
    const step = async (_ctx: JobContext, n: number) => n * 2;
    const s = scenario("wrapped")
      .job("r", replay({ duration: 20, result: "r" }))
      .job("m", moduleJob(step, { module: "./steps.ts", name: "step", args: [21] }))
      .build();
    const replayWork = { kind: "replay", replay: { duration: 20, outcome: "ok", result: "r" } };
    const moduleWork = { kind: "function", module: "./steps.ts", name: "step", args: [21] };
    // known before the run: the one description the job carries (resume and workers use it)
    expect(s.plan().children?.map((n) => n.description)).toEqual([replayWork, moduleWork]);
    const { trace } = await recordRun({ scheduler: s });
    const [tr, tm] = trace.scenario.jobs as TraceJob[];
    expect(tr?.work).toEqual(replayWork);
    expect(tr?.result).toBe("r");
    expect(tr?.duration).toBeGreaterThanOrEqual(15);
    expect(tm?.work).toEqual(moduleWork);
    expect(tm?.result).toBe(42);
    // a wrapper of one's own that does not carry the description is opaque
    const plain = new Job((ctx: JobContext) => step(ctx, 1), { label: "p" });
    expect(plain.describe()).toEqual({ kind: "opaque" });
  });

  test("a replayed failure throws the recorded error; a cancelled one waits for the abort", async () => {
    const e = new Job(
      replay({ duration: 5, outcome: "error", error: { name: "TypeError", message: "bad" } }),
      {
        label: "e",
        critical: false,
      },
    );
    const c = new Job(replay({ duration: 0, outcome: "cancelled" }), { label: "c", forever: true });
    const s = new Scheduler([e, c]);
    expect(await s.run()).toBe(true);
    expect(e.raisedException()).toMatchObject({ name: "TypeError", message: "bad" });
    expect(c.state).toBe("cancelled");
  });
});
