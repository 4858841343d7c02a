/**
 * Readiness of forever jobs (SPEC 1): dependents of a forever job start once it is ready —
 * at its start, or once its `ready` check (pattern on its lines, function) passes, bounded
 * by `readyTimeout`. "Start the server, then the clients" must run to completion.
 */
import { describe, expect, test } from "vitest";
import { AiorchError, emitOutput, Job, type RunEvent, Scheduler } from "../../src/index.ts";
import { Recorder, sleep, timed } from "./helpers.ts";

/** A server: logs `lines` every `every` ms, then runs until aborted; marks its abort reason. */
function server(
  opts: { lines?: string[]; every?: number } & ConstructorParameters<typeof Job>[1] = {},
) {
  const seen: { aborted?: unknown } = {};
  const { lines = [], every = 30, ...jobOpts } = opts;
  const job = new Job(
    async (ctx) => {
      try {
        for (const line of lines) {
          await sleep(every, undefined, { signal: ctx.signal });
          ctx.log(line);
        }
        await sleep(60_000, undefined, { signal: ctx.signal });
      } catch (err) {
        seen.aborted = ctx.signal.reason;
        throw err;
      }
    },
    { label: "server", forever: true, ...jobOpts },
  );
  return { job, seen };
}

/** `label state` / `label ready` / `label | line`, for the jobs of a run. */
function trail(s: Scheduler): string[] {
  const out: string[] = [];
  s.on((e: RunEvent) => {
    if (e.type === "job-state" && (e.state === "running" || e.state === "done"))
      out.push(`${e.label} ${e.state}${e.error ? " failed" : ""}`);
    else if (e.type === "job-ready") out.push(`${e.label} ready`);
    else if (e.type === "job-output") out.push(`${e.label} | ${e.line}`);
  });
  return out;
}

describe("forever jobs: readiness", () => {
  test("without a check, a forever job is ready once started: server, then its client, run true", async () => {
    const r = new Recorder();
    const { job: srv, seen } = server();
    const client = r.job("client", 50, { required: srv });
    const s = new Scheduler([srv, client], { timeout: 10_000 });
    const events = trail(s);
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(true);
    expect(ms).toBeLessThan(2_000);
    expect(events).toEqual(["server running", "server ready", "client running", "client done"]);
    expect(srv.state).toBe("cancelled");
    expect(seen.aborted).toBeInstanceOf(AiorchError);
  });

  test("ready: /pattern/ — dependents start after the first matching output line", async () => {
    const r = new Recorder();
    const { job: srv } = server({
      lines: ["booting", "listening on 8080", "accepted"],
      ready: /listening on \d+/g,
    });
    const client = r.job("client", 80, { required: srv });
    const s = new Scheduler([srv, client], { timeout: 10_000 });
    const events = trail(s);
    expect(await s.run()).toBe(true);
    expect(events.slice(0, 5)).toEqual([
      "server running",
      "server | booting",
      "server | listening on 8080",
      "server ready",
      "client running",
    ]);
    expect(events.filter((e) => e === "server ready")).toHaveLength(1);
  });

  test("ready: /pattern/ also watches command output (emitOutput), with or without listeners", async () => {
    const srv = new Job(
      async (ctx) => {
        await sleep(20);
        emitOutput(ctx, "stdout", "Server listening", "localhost");
        await sleep(60_000, undefined, { signal: ctx.signal });
      },
      { label: "srv", forever: true, ready: /listening/ },
    );
    const client = new Job(async () => "ok", { label: "client", required: srv });
    const { value, ms } = await timed(() =>
      new Scheduler([srv, client], { timeout: 10_000 }).run(),
    );
    expect(value).toBe(true);
    expect(ms).toBeLessThan(2_000);
    expect(client.result()).toBe("ok");
  });

  test("ready: async function — dependents start when it resolves; it gets the job's context", async () => {
    let up = false;
    let checkedLabel = "";
    const srv = new Job(
      async ({ signal }) => {
        await sleep(60, undefined, { signal });
        up = true;
        await sleep(60_000, undefined, { signal });
      },
      {
        label: "db",
        forever: true,
        ready: async (ctx) => {
          checkedLabel = ctx.label;
          while (!up) await sleep(10, undefined, { signal: ctx.signal });
        },
      },
    );
    let upWhenStarted: boolean | undefined;
    const client = new Job(
      async () => {
        upWhenStarted = up;
      },
      { label: "client", required: srv },
    );
    expect(await new Scheduler([srv, client], { timeout: 10_000 }).run()).toBe(true);
    expect(upWhenStarted).toBe(true);
    expect(checkedLabel).toBe("db");
  });

  test("a rejecting check fails the job (NOT_READY, cause kept): critical -> run false, client never starts", async () => {
    const r = new Recorder();
    const { job: srv, seen } = server({
      ready: async () => {
        await sleep(20);
        throw new Error("port 8080 refused");
      },
    });
    const client = r.job("client", 10, { required: srv });
    const s = new Scheduler([srv, client], { timeout: 10_000 });
    expect(await s.run()).toBe(false);
    expect(s.criticalJob()).toBe(srv);
    const err = srv.raisedException() as AiorchError;
    expect(err.code).toBe("NOT_READY");
    expect(err.message).toBe('forever job "server" never became ready: Error: port 8080 refused');
    expect((err.cause as Error).message).toBe("port 8080 refused");
    expect(r.didStart("client")).toBe(false);
    expect(seen.aborted).toBe(err);
    expect(s.why()).toContain('critical job "server" failed');
  });

  test("readyTimeout expiry fails the job with a message naming it and the bound", async () => {
    const { job: srv, seen } = server({ ready: /never printed/, readyTimeout: 100 });
    const client = new Job(async () => 1, { label: "client", required: srv });
    const s = new Scheduler([srv, client], { timeout: 10_000 });
    const { value, ms } = await timed(() => s.run());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(2_000);
    const err = srv.raisedException() as AiorchError;
    expect(err).toMatchObject({ code: "NOT_READY", label: "server", timeoutMs: 100 });
    expect(err.message).toBe('forever job "server" not ready within 100 ms');
    expect(seen.aborted).toBe(err);
    expect(client.state).toBe("idle");
  });

  test("a non-critical forever job that is never ready fails; its dependents still run, run true", async () => {
    const { job: srv } = server({ ready: /never/, readyTimeout: 50, critical: false });
    const client = new Job(async () => "ran", { label: "client", required: srv });
    const other = new Job(() => sleep(200).then(() => "slow"), { label: "other" });
    const s = new Scheduler([srv, client, other], { timeout: 10_000 });
    const events = trail(s);
    expect(await s.run()).toBe(true);
    expect(srv.isFailed()).toBe(true);
    expect(srv.state).toBe("done");
    expect((srv.raisedException() as AiorchError).code).toBe("NOT_READY");
    expect(client.result()).toBe("ran");
    expect(events).not.toContain("server ready");
  });

  test("a check that passes in time clears the bound: the job runs on and is cancelled at the end", async () => {
    const { job: srv } = server({ lines: ["up"], every: 10, ready: /up/, readyTimeout: 80 });
    const client = new Job(() => sleep(250), { label: "client", required: srv });
    const s = new Scheduler([srv, client], { timeout: 10_000 });
    expect(await s.run()).toBe(true);
    expect(srv.state).toBe("cancelled");
    expect(srv.isFailed()).toBe(false);
  });

  test("a check still waiting when the run ends sees the run's abort and fails nothing", async () => {
    let checkAborted: unknown;
    const srv = new Job(({ signal }) => sleep(60_000, undefined, { signal }), {
      label: "srv",
      forever: true,
      ready: async ({ signal }) => {
        try {
          await sleep(60_000, undefined, { signal });
        } catch (err) {
          checkAborted = signal.reason;
          throw err;
        }
      },
    });
    const work = new Job(() => sleep(30), { label: "work" });
    const s = new Scheduler([srv, work], { timeout: 10_000 });
    expect(await s.run()).toBe(true);
    await sleep(10);
    expect(checkAborted).toMatchObject({ code: "CANCELLED" });
    expect(srv.state).toBe("cancelled");
  });

  test("a forever nested scheduler of services is ready once each of them is ready", async () => {
    const a = server({ label: "svc-a", lines: ["a up"], every: 30, ready: /up/ }).job;
    const b = server({ label: "svc-b", lines: ["b up"], every: 90, ready: /up/ }).job;
    const services = new Scheduler([a, b], { label: "services", forever: true });
    const client = new Job(async () => "c", { label: "client", required: services });
    const s = new Scheduler([services, client], { timeout: 10_000 });
    const events = trail(s);
    expect(await s.run()).toBe(true);
    const at = (x: string) => events.indexOf(x);
    expect(at("client running")).toBeGreaterThan(at("svc-b ready"));
    expect(at("client running")).toBeGreaterThan(at("svc-a ready"));
    expect(at("services ready")).toBe(at("client running") - 1);
    expect(a.state).toBe("cancelled");
  });

  test("ready on a finite job is refused before anything starts", async () => {
    const j = new Job(async () => 1, { label: "finite", ready: /x/ });
    await expect(new Scheduler([j]).run()).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      label: "finite",
      message: expect.stringContaining('job "finite" has a ready check but is not forever'),
    });
    expect(j.state).toBe("idle");
  });

  test("bad ready / readyTimeout options are refused at construction, naming the option", () => {
    expect(() => new Job(async () => 1, { ready: "listening" as never })).toThrow(
      /ready must be a RegExp or a function/,
    );
    expect(() => new Job(async () => 1, { readyTimeout: -1 })).toThrow(
      "readyTimeout must be a number of ms >= 0, got number -1",
    );
  });

  test("with a window, a job released by readiness waits for a slot, then goes in insertion order", async () => {
    const r = new Recorder();
    const srv = r.job("srv", 400, { forever: true });
    const c = r.job("c", 20, { required: srv });
    const x = r.job("x", 40);
    const y = r.job("y", 40);
    const s = new Scheduler([srv, c, x, y], { window: 2, timeout: 10_000 });
    expect(await s.run()).toBe(true);
    expect(r.started()).toEqual(["srv", "x", "c", "y"]);
    expect(r.maxConcurrency()).toBe(2);
  });
});
