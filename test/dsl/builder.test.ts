import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { scenario } from "../../dsl/index.ts";
import { AiorchError, Scheduler } from "../../src/index.ts";
import { LocalNode, run, type SshJob } from "../../src/ssh/index.ts";

describe("scenario() builder at run time", () => {
  test("builds the Scheduler the engine runs, with typed results passed to bodies", async () => {
    const seen: unknown[] = [];
    const b = scenario("deploy", { timeout: 5_000 })
      .job("fetch", async () => 42)
      .job("use", async ({ results }) => results.fetch + 1, { after: ["fetch"] })
      .after("fetch", "use")
      .job("report", async ({ results }) => {
        seen.push(results);
        return `${results.fetch}->${results.use}`;
      });
    const s = b.build();
    expect(s).toBeInstanceOf(Scheduler);
    expect(s.label).toBe("deploy");
    expect(s.timeout).toBe(5_000);
    expect(s.jobs.map((j) => j.label)).toEqual(["fetch", "use", "report"]);
    expect([...s.jobs[2]!.required].map((j) => j.label)).toEqual(["fetch", "use"]);
    expect(await s.run()).toBe(true);
    expect(seen).toEqual([{ fetch: 42, use: 43 }]);
    expect(s.jobs[2]!.result()).toBe("42->43");
  });

  test("the builder is runnable, immutable and builds fresh jobs each time", async () => {
    let runs = 0;
    const base = scenario("s").job("a", async () => ++runs);
    const left = base.job("b", async () => "left");
    const right = base.job("c", async () => "right");
    expect(base.labels()).toEqual(["a"]);
    expect(left.labels()).toEqual(["a", "b"]);
    expect(right.labels()).toEqual(["a", "c"]);
    expect(left.build()).not.toBe(left.build());
    expect(left.build().jobs[0]).not.toBe(left.build().jobs[0]);
    expect(await left.run()).toBe(true);
    expect(await left.run()).toBe(true);
    expect(runs).toBe(2);
  });

  test("a non-critical requirement reads as an Outcome; the run goes on", async () => {
    const got: unknown[] = [];
    const ok = await scenario("s")
      .job(
        "bad",
        async (): Promise<number> => {
          throw new Error("boom");
        },
        { critical: false },
      )
      .job("good", async () => 7, { critical: false })
      .job(
        "after",
        async ({ results }) => {
          got.push(results.bad, results.good);
        },
        { after: ["bad", "good"] },
      )
      .run();
    expect(ok).toBe(true);
    expect(got[0]).toMatchObject({ ok: false });
    expect(((got[0] as { error: Error }).error as Error).message).toBe("boom");
    expect(got[1]).toEqual({ ok: true, value: 7 });
  });

  test("scenario-wide critical: false makes jobs non-critical by default", async () => {
    const s = scenario("s", { critical: false })
      .job("x", async () => {
        throw new Error("x failed");
      })
      .job("y", async ({ results }) => results.x.ok, { after: ["x"] })
      .job("z", async () => 1, { critical: true })
      .build();
    expect(s.jobs.map((j) => j.critical)).toEqual([false, false, true]);
    expect(await s.run()).toBe(true);
    expect(s.jobs[1]!.result()).toBe(false);
  });

  test("a critical failure ends the run false and leaves its dependents idle", async () => {
    const s = scenario("s")
      .job("f1", async () => {
        throw new Error("f1 failed");
      })
      .job("f2", async () => 1, { after: ["f1"] })
      .build();
    expect(await s.run()).toBe(false);
    expect(s.failedCritical()).toBe(true);
    expect(s.jobs[1]!.state).toBe("idle");
  });

  test("bodies receive signal, label, log, vars and params", async () => {
    const lines: string[] = [];
    let ctxSeen: Record<string, unknown> = {};
    const s = scenario("s", { params: { who: "world" } })
      .job("hello", async ({ signal, label, log, vars, params }) => {
        log(`hello ${params.who}`);
        ctxSeen = { aborted: signal.aborted, label, vars: { ...vars } };
      })
      .build({ params: { who: "you" } });
    s.on((e) => {
      if (e.type === "job-output") lines.push(`${e.label}|${e.line}`);
    });
    expect(await s.run({ vars: { k: "v" } })).toBe(true);
    expect(lines).toEqual(["hello|hello you"]);
    expect(ctxSeen).toEqual({ aborted: false, label: "hello", vars: { k: "v" } });
  });

  test("a forever job is aborted at the end and read as an Outcome", async () => {
    const s = scenario("s")
      .job(
        "monitor",
        async ({ signal }) => {
          await sleep(60_000, undefined, { signal });
        },
        { forever: true },
      )
      .job("work", async () => {
        await sleep(20);
        return 1;
      })
      .build();
    expect(await s.run()).toBe(true);
    expect(s.jobs[0]!.state).toBe("cancelled");
  });

  test("a forever requirement: the dependent starts once it is ready and reads it as running", async () => {
    const seen: unknown[] = [];
    const s = scenario("s", { timeout: 10_000 })
      .job(
        "server",
        async ({ signal, log }) => {
          await sleep(30, undefined, { signal });
          log("listening on 8080");
          await sleep(60_000, undefined, { signal });
          return 0;
        },
        { forever: true, ready: /listening on \d+/, readyTimeout: 5_000 },
      )
      .job("quick", async () => 1, { forever: true })
      .job(
        "client",
        async ({ results }) => {
          seen.push(results.server, results.quick);
          return results.server.running;
        },
        { after: ["server", "quick"] },
      )
      .build();
    expect(await s.run()).toBe(true);
    expect(seen).toEqual([
      { ok: false, running: true },
      { ok: true, value: 1, running: false },
    ]);
    expect(s.jobs[0]!.state).toBe("cancelled");
  });

  test("a scenario's name names its group: a job may carry it (SPEC 1)", async () => {
    const s = scenario("deploy").job("deploy", async () => "d");
    expect(await s.run()).toBe(true);
    expect(s.build().jobs.map((j) => j.label)).toEqual(["deploy"]);
  });

  test("atMostOnce reaches the SshJobs of .ssh / .local / .sshEach; a bad value names the job", () => {
    const s = scenario("s")
      .ssh("s", new LocalNode(), [run("true")], { atMostOnce: true })
      .local("l", "true")
      .sshEach("e", [new LocalNode(), new LocalNode({ shell: "/bin/bash" })], "true", {
        atMostOnce: true,
        key: (_n, i) => String(i),
      })
      .build();
    const once = [...s.allJobs()].map((j) => [j.label, (j as SshJob).atMostOnce]);
    expect(once).toEqual([
      ["s", true],
      ["l", false],
      ["e:0", true],
      ["e:1", true],
    ]);
    expect(() =>
      scenario("s").local("x", "true", { atMostOnce: "yes" as unknown as boolean }),
    ).toThrow('job "x": atMostOnce must be true or false, got string');
  });

  test("a body's Job is cancelled by the scenario timeout", async () => {
    const ok = await scenario("s", { timeout: 100 })
      .job("slow", async ({ signal }) => sleep(10_000, undefined, { signal }))
      .run();
    expect(ok).toBe(false);
  });
});

describe("params", () => {
  const p = scenario("p", { params: { hosts: "a,b", rounds: 2, dry: false } }).job(
    "show",
    async ({ params }) => `${params.hosts}|${params.rounds * 10}|${params.dry}`,
  );

  test("defaults, and --param strings coerced to the default's type", async () => {
    const s1 = p.build();
    await s1.run();
    expect(s1.jobs[0]!.result()).toBe("a,b|20|false");
    const s2 = p.build({ params: { hosts: "x", rounds: "3", dry: "yes" } });
    await s2.run();
    expect(s2.jobs[0]!.result()).toBe("x|30|true");
  });

  test("an unknown or badly typed parameter is a USAGE error naming it", () => {
    expect(() => p.build({ params: { nope: "1" } as never })).toThrow(
      /unknown parameter "nope" for scenario "p" \(it takes: hosts, rounds, dry\)/,
    );
    expect(() => p.build({ params: { rounds: "many" } })).toThrow(
      expect.objectContaining({
        code: "USAGE",
        message: 'parameter "rounds" expects a number, got "many"',
      }),
    );
    expect(() => p.build({ params: { dry: "maybe" } })).toThrow(/expects true or false/);
    expect(() => p.build({ params: { nope: "1" } as never, strictParams: false })).not.toThrow();
  });
});

test("runtime checks still apply to casts and plain JS callers", () => {
  const b = scenario("s").job("a", async () => 1) as unknown as {
    job(l: unknown, f: unknown, o?: unknown): { build(): Scheduler };
  };
  expect(() => b.job("a", async () => 2).build()).toThrow(
    expect.objectContaining({ code: "DUPLICATE_LABEL", label: "a" }),
  );
  expect(() => b.job("b", async () => 2, { after: ["zz"] }).build()).toThrow(
    expect.objectContaining({
      code: "UNKNOWN_REQUIREMENT",
      message: 'job "b" requires "zz", which is not declared in scenario "s"',
    }),
  );
  expect(() => b.job("", async () => 2)).toThrow(AiorchError);
  expect(() => b.job("c", 42)).toThrow(/the body must be a function/);
});
