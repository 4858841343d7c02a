import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { dynamicScenario, scenario } from "../../dsl/index.ts";
import { type AbstractJob, type AiorchError, Scheduler } from "../../src/index.ts";
import { LocalNode, run } from "../../src/ssh/index.ts";

const labels = (s: Scheduler): string[] => s.jobs.map((j) => j.label);

describe(".each fan-out", () => {
  test("one job per item labelled label:<item>, in a nested scheduler joined by its label", async () => {
    let running = 0;
    let most = 0;
    const b = scenario("fan")
      .job("prep", async () => 10)
      .each(
        "install",
        ["n1", "n2", "n3", "n4"],
        async (host, { results, label }) => {
          running++;
          most = Math.max(most, running);
          await sleep(20);
          running--;
          return `${label}=${results.prep + host.length}`;
        },
        { after: ["prep"], window: 2 },
      )
      .job("sum", async ({ results }) => results.install.join(" "), { after: ["install"] });
    const s = b.build();
    expect(labels(s)).toEqual(["prep", "install", "sum"]);
    const group = s.jobs[1] as Scheduler;
    expect(group).toBeInstanceOf(Scheduler);
    expect(labels(group)).toEqual(["install:n1", "install:n2", "install:n3", "install:n4"]);
    expect(group.window).toBe(2);
    expect(await s.run()).toBe(true);
    expect(most).toBe(2);
    expect(s.jobs[2]!.result()).toBe("install:n1=12 install:n2=12 install:n3=12 install:n4=12");
  });

  test("items from params, custom keys; non-critical items read as Outcomes", async () => {
    const s = scenario("fan", { params: { hosts: "a,bb,ccc" } })
      .each(
        "probe",
        ({ hosts }) => hosts.split(",").map((h, i) => ({ h, i })),
        async ({ h }) => {
          if (h === "bb") throw new Error("bb down");
          return h.length;
        },
        { critical: false, key: ({ h }) => h.toUpperCase() },
      )
      .job("count", async ({ results }) => results.probe.map((o) => (o.ok ? o.value : -1)), {
        after: ["probe"],
      })
      .build({ params: { hosts: "a,bb,ccc,dddd" } });
    expect(labels(s.jobs[0] as Scheduler)).toEqual([
      "probe:A",
      "probe:BB",
      "probe:CCC",
      "probe:DDDD",
    ]);
    expect(await s.run()).toBe(true);
    expect(s.jobs[1]!.result()).toEqual([1, -1, 3, 4]);
  });

  test("a critical item failure fails the group, and the run", async () => {
    const s = scenario("fan")
      .each("x", [1, 2], async (n) => {
        if (n === 2) throw new Error("two");
        return n;
      })
      .build();
    expect(await s.run()).toBe(false);
    expect(s.why()).toMatch(/critical job "x" failed/);
  });
});

describe(".include", () => {
  const part = scenario("part", { window: 1 })
    .job("a", async () => 1)
    .job("b", async ({ results }) => results.a + 1, { after: ["a"] })
    .job("c", async () => "c", { critical: false });

  test("nests a scenario as one job with its own window; results are its record", async () => {
    const s = scenario("all")
      .include("setup", part, { timeout: 5_000 })
      .job("use", async ({ results }) => results.setup.b * 10 + (results.setup.c.ok ? 1 : 0), {
        after: ["setup"],
      })
      .build();
    const nested = s.jobs[0] as Scheduler;
    expect(nested.label).toBe("setup");
    expect(labels(nested)).toEqual(["a", "b", "c"]);
    expect(nested.window).toBe(1);
    expect(nested.timeout).toBe(5_000);
    expect(await s.run()).toBe(true);
    expect(s.jobs[1]!.result()).toBe(21);
  });

  test("prefix lets one part be included twice; without it the labels collide", () => {
    const twice = scenario("all")
      .include("p1", part, { prefix: true })
      .include("p2", part, { prefix: true })
      .build();
    expect(labels(twice.jobs[1] as Scheduler)).toEqual(["p2.a", "p2.b", "p2.c"]);
    expect(() => scenario("all").include("p1", part).include("p2", part).build()).toThrow(
      expect.objectContaining({ code: "DUPLICATE_LABEL", label: "a" }),
    );
  });

  test("a non-critical include that fails reads as an Outcome", async () => {
    const failing = scenario("f").job("boom", async () => {
      throw new Error("inner");
    });
    const s = scenario("all")
      .include("f", failing, { critical: false })
      .job("after", async ({ results }) => results.f.ok, { after: ["f"] })
      .build();
    expect(await s.run()).toBe(true);
    expect(s.jobs[1]!.result()).toBe(false);
  });

  test("parts declared as separate statements stay one flat, typed scenario", async () => {
    const first = scenario("big").job("j0", async () => 0);
    const second = first.job("j1", async ({ results }) => results.j0 + 1, { after: ["j0"] });
    expect(await second.run()).toBe(true);
    expect(labels(second.build())).toEqual(["j0", "j1"]);
  });
});

describe("dynamicScenario (untyped, runtime-checked)", () => {
  test("forward references are fine and results are passed", async () => {
    const d = dynamicScenario("dyn");
    d.addJob("b", async ({ results }) => Number(results.a) + 1, { after: ["a"] });
    d.addJob("a", async () => 1);
    const s = d.build();
    expect(await s.run()).toBe(true);
    expect(s.jobs[0]!.result()).toBe(2);
  });

  test("unknown label, duplicate label, cycle and self-requirement name the label", () => {
    expect(() =>
      dynamicScenario("d")
        .addJob("a", async () => 1, { after: ["zz"] })
        .build(),
    ).toThrow(
      expect.objectContaining({
        code: "UNKNOWN_REQUIREMENT",
        label: "a",
        message: 'job "a" requires "zz", which is not declared in scenario "d"',
      }),
    );
    expect(() =>
      dynamicScenario("d")
        .addJob("a", async () => 1)
        .addJob("a", async () => 2),
    ).toThrow(
      expect.objectContaining({
        code: "DUPLICATE_LABEL",
        label: "a",
        message: 'duplicate label: "a" names two jobs in scenario "d"',
      }),
    );
    const cyc = dynamicScenario("d")
      .addJob("a", async () => 1, { after: ["c"] })
      .addJob("b", async () => 1, { after: ["a"] })
      .addJob("c", async () => 1, { after: ["b"] });
    expect(() => cyc.build()).toThrow(
      expect.objectContaining({
        code: "CYCLE",
        message: 'cycle in scenario "d": a -> b -> c -> a',
      }),
    );
    expect(() =>
      dynamicScenario("d")
        .addJob("a", async () => 1, { after: ["a"] })
        .build(),
    ).toThrow(expect.objectContaining({ code: "SELF_REQUIREMENT", label: "a" }));
  });

  test("typed and dynamic parts include each other", async () => {
    const d = dynamicScenario("d").addJob("x", async () => 5);
    const s = scenario("t")
      .include("dyn", d)
      .job("y", async ({ results }) => Number(results.dyn.x) * 2, { after: ["dyn"] })
      .build();
    expect(await s.run()).toBe(true);
    expect(s.jobs[1]!.result()).toBe(10);
    const back = dynamicScenario("d2").addInclude(
      "typed",
      scenario("t2").job("k", async () => 1),
    );
    expect(await back.run()).toBe(true);
  });
});

describe(".ssh / .local / .sshEach on LocalNode", () => {
  test("commands run in order; dependents read the SshJobResult", async () => {
    const node = new LocalNode();
    const s = scenario("local", { timeout: 20_000 })
      .local("hello", [run("echo hello")])
      .ssh("whoami", node, [run("echo", "it's me", { capture: "me" })], { after: ["hello"] })
      .sshEach("fan", [node, new LocalNode()], [run("true")], { key: (_n, i) => `n${i}` })
      .job(
        "check",
        async ({ results, vars }) =>
          `${results.hello.ok} ${results.whoami.commands[0]?.stdout?.trim()} ${vars.me} ${results.fan.length}`,
        { after: ["hello", "whoami", "fan"] },
      )
      .build();
    expect(labels(s)).toEqual(["hello", "whoami", "fan", "check"]);
    expect(labels(s.jobs[2] as Scheduler)).toEqual(["fan:n0", "fan:n1"]);
    expect(s.jobs.map((j: AbstractJob) => j.kind)).toEqual([
      "SshJob",
      "SshJob",
      "Scheduler",
      "Job",
    ]);
    expect(await s.run()).toBe(true);
    expect(s.jobs[3]!.result()).toBe("true it's me it's me 2");
  });

  test("a failing non-critical command fails its job; dependents read ok: false; the run goes on", async () => {
    const s = scenario("local", { timeout: 20_000 })
      .local("bad", [run("exit 3"), run("echo still")], { critical: false })
      .job(
        "after",
        async ({ results }) =>
          results.bad.ok
            ? "ok"
            : `${(results.bad.error as AiorchError).code}: ${(results.bad.error as AiorchError).message}`,
        { after: ["bad"] },
      )
      .build();
    expect(await s.run()).toBe(true);
    expect(s.jobs[0]!.isFailed()).toBe(true);
    expect(s.jobs[1]!.result()).toMatch(/^COMMAND_FAILED: "exit 3" exited 3 on .*@localhost$/);
  });
});
