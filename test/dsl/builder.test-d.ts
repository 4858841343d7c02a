/**
 * Type tests of the DSL: each guarantee is a `// @ts-expect-error` right above the line
 * that must not compile, plus `expectTypeOf` for what must. Remove a guarantee and an
 * expect-error becomes unused, which fails `vitest --typecheck` / `tsc`.
 */
import { describe, expectTypeOf, test } from "vitest";
import { dynamicScenario, type ForeverOutcome, type Outcome, scenario } from "../../dsl/index.ts";
import type { Scheduler } from "../../src/index.ts";
import {
  type ExecStatus,
  type LeftRunning,
  LocalNode,
  run,
  type SshJobResult,
} from "../../src/ssh/index.ts";

const base = scenario("s")
  .job("fetch", async () => 42)
  .job("name", () => "n")
  .job("probe", async () => ({ up: true }), { critical: false });

describe("unknown labels", () => {
  test("in { after: [...] }", () => {
    base.job("ok", async () => 1, { after: ["fetch", "probe"] });
    base.job("bad", async () => 1, {
      // @ts-expect-error "nope" was never declared
      after: ["fetch", "nope"],
    });
  });

  test("in .after(...)", () => {
    base.after("fetch").job("ok", async ({ results }) => results.fetch);
    // @ts-expect-error "nope" was never declared
    base.after("fetch", "nope");
  });

  test("in .each / .include / .ssh options", () => {
    const sub = scenario("sub").job("x", async () => 1);
    // @ts-expect-error unknown label
    base.each("e", [1], async (n) => n, { after: ["nope"] });
    // @ts-expect-error unknown label
    base.include("i", sub, { after: ["nope"] });
    // @ts-expect-error unknown label
    base.local("l", "true", { after: ["nope"] });
  });
});

describe("duplicate labels", () => {
  test("re-declaring a label does not compile, the parameter type names it", () => {
    const a = scenario("s").job("a1", async () => 1);
    // @ts-expect-error duplicate label: a1
    a.job("a1", async () => 2);
    // @ts-expect-error duplicate label: a1
    a.each("a1", [1], async () => 2);
    // @ts-expect-error duplicate label: a1
    a.include("a1", scenario("x"));
    // @ts-expect-error duplicate label: a1
    a.local("a1", "true");
    // @ts-expect-error duplicate label: a1
    a.ssh("a1", new LocalNode(), "true");
    type LabelParam = Parameters<typeof a.job<"a1", number>>[0];
    expectTypeOf<LabelParam>().toExtend<"duplicate label: a1">();
    expectTypeOf<"a1">().not.toExtend<LabelParam>();
  });

  test("a label must be a literal: a plain string would make every label known", () => {
    const label: string = "dyn";
    // @ts-expect-error label must be a string literal
    scenario("s").job(label, async () => 1);
  });
});

describe("no cycle can be written", () => {
  test("a job cannot require itself", () => {
    // @ts-expect-error "self" is not declared yet when its own options are checked
    base.job("self", async () => 1, { after: ["self"] });
  });

  test("with no label declared yet, the type of `after` is a sentence, and the message names the label", () => {
    const empty = scenario("s");
    type AfterLabel = Parameters<typeof empty.after>[0];
    expectTypeOf<AfterLabel>().toExtend<"no label is declared before this job: a job requires only labels declared before it">();
    expectTypeOf<"later">().not.toExtend<AfterLabel>();
    empty
      // @ts-expect-error Type '"later"' is not assignable to type 'TypeError<"no label is declared before this job: …">'
      .job("first", async () => 1, { after: ["later"] })
      .job("later", async () => 2);
  });

  test("a job cannot require a job declared later", () => {
    base
      // @ts-expect-error "later" is declared on the next line only
      .job("first", async () => 1, { after: ["later"] })
      .job("later", async () => 2);
  });
});

describe("results", () => {
  test("critical requirement: the job's return type (promises awaited)", () => {
    base.job(
      "use",
      async ({ results }) => {
        expectTypeOf(results.fetch).toEqualTypeOf<number>();
        expectTypeOf(results.name).toEqualTypeOf<string>();
        expectTypeOf(results).toEqualTypeOf<{ readonly fetch: number; readonly name: string }>();
      },
      { after: ["fetch", "name"] },
    );
  });

  test("non-critical requirement: an Outcome", () => {
    base.job(
      "use",
      async ({ results }) => {
        expectTypeOf(results.probe).toEqualTypeOf<Outcome<{ up: boolean }>>();
        // @ts-expect-error an Outcome must be checked before its value is read
        results.probe.value.up;
        if (results.probe.ok) expectTypeOf(results.probe.value.up).toEqualTypeOf<boolean>();
      },
      { after: ["probe"] },
    );
  });

  test("a result of a job that is not a requirement is not on results", () => {
    base.job(
      "use",
      async ({ results }) => {
        // @ts-expect-error "name" is declared but not required
        results.name;
        return results.fetch;
      },
      { after: ["fetch"] },
    );
    // @ts-expect-error nothing required: results is empty
    base.job("none", async ({ results }) => results.fetch);
  });

  test(".after(...) adds to the next job's results", () => {
    base.after("fetch").job(
      "r",
      async ({ results }) => {
        expectTypeOf(results).toEqualTypeOf<{
          readonly fetch: number;
          readonly probe: Outcome<{ up: boolean }>;
        }>();
      },
      { after: ["probe"] },
    );
  });

  test("criticality follows the scenario default, and must be a literal", () => {
    scenario("s", { critical: false })
      .job("x", async () => 1)
      .job("y", async () => 1, { critical: true })
      .job(
        "z",
        async ({ results }) => {
          expectTypeOf(results.x).toEqualTypeOf<Outcome<number>>();
          expectTypeOf(results.y).toEqualTypeOf<number>();
        },
        { after: ["x", "y"] },
      );
    const flag = Math.random() > 0.5;
    // @ts-expect-error critical must be the literal true or false
    base.job("w", async () => 1, { critical: flag });
  });

  test("a forever requirement reads as a ForeverOutcome: no value while it runs", () => {
    base
      .job("mon", async () => 1, { forever: true })
      .job("crit", async () => "s", { forever: true, critical: true, ready: /up/, readyTimeout: 5 })
      .job(
        "u",
        async ({ results }) => {
          expectTypeOf(results.mon).toEqualTypeOf<ForeverOutcome<number>>();
          expectTypeOf(results.crit).toEqualTypeOf<ForeverOutcome<string>>();
          // @ts-expect-error the value is not there until narrowed (it usually still runs)
          results.mon.value;
          if (results.mon.running) expectTypeOf(results.mon.ok).toEqualTypeOf<false>();
          else if (results.mon.ok) expectTypeOf(results.mon.value).toEqualTypeOf<number>();
        },
        { after: ["mon", "crit"] },
      );
  });

  test("ready and readyTimeout only with forever: true", () => {
    base.job("s", async () => 1, { forever: true, ready: async () => {} });
    base.ssh("svc", new LocalNode(), "serve", { forever: true, ready: /listening/ });
    // @ts-expect-error ready needs forever: true
    base.job("f", async () => 1, { ready: /x/ });
    // @ts-expect-error readyTimeout needs forever: true
    base.job("g", async () => 1, { forever: false, readyTimeout: 10 });
    // @ts-expect-error a string is no readiness check
    base.job("h", async () => 1, { forever: true, ready: "listening" });
  });
});

describe(".service", () => {
  const node = new LocalNode();
  test("dependents read a ForeverOutcome of how it ended; detached, its LeftRunning", () => {
    base
      .service("web", node, "python3 -m http.server", { ready: run("nc -z localhost 8000") })
      .service("bg", node, "sleep 60", { detach: true, ready: /up/, readyTimeout: 5_000 })
      .service("opt", node, "sleep 60", { detach: true, critical: false, after: ["web"] })
      .service("mon", node, "vmstat 1", { ready: async () => {}, stopSignal: "INT" })
      .job(
        "client",
        async ({ results }) => {
          expectTypeOf(results.web).toEqualTypeOf<ForeverOutcome<ExecStatus>>();
          expectTypeOf(results.mon).toEqualTypeOf<ForeverOutcome<ExecStatus>>();
          expectTypeOf(results.bg).toEqualTypeOf<LeftRunning>();
          expectTypeOf(results.opt).toEqualTypeOf<Outcome<LeftRunning>>();
          expectTypeOf(results.bg.pid).toEqualTypeOf<number>();
        },
        { after: ["web", "bg", "opt", "mon"] },
      );
  });

  test("detach must be a literal; ready is a command, a pattern or a function", () => {
    const flag = Math.random() > 0.5;
    // @ts-expect-error detach must be the literal true or false
    base.service("a", node, "sleep 1", { detach: flag });
    // @ts-expect-error a string is no readiness check (run("...") or /pattern/)
    base.service("b", node, "sleep 1", { ready: "nc -z localhost 80" });
    // @ts-expect-error unknown label
    base.service("c", node, "sleep 1", { after: ["nope"] });
    // @ts-expect-error duplicate label
    base.service("fetch", node, "sleep 1");
    // @ts-expect-error a service is forever (or detached): no forever option
    base.service("d", node, "sleep 1", { forever: true });
  });
});

describe("fan-out, composition, SSH", () => {
  test(".each: one result per item; item type from the list or the params", () => {
    scenario("s", { params: { hosts: "a,b" } })
      .each(
        "install",
        ({ hosts }) => hosts.split(","),
        async (host) => host.length,
      )
      .each("probe", [1, 2] as const, async (n) => n * 2, { critical: false })
      .job(
        "sum",
        async ({ results }) => {
          expectTypeOf(results.install).toEqualTypeOf<readonly number[]>();
          expectTypeOf(results.probe).toEqualTypeOf<readonly Outcome<number>[]>();
        },
        { after: ["install", "probe"] },
      );
  });

  test(".include: the part's labels stay typed inside and its record is typed outside", () => {
    const part = scenario("part")
      .job("a", async () => 1)
      // inside the part, its own labels are checked
      // @ts-expect-error "zz" is not a label of the part
      .job("b", async () => 2, { after: ["zz"] });
    scenario("all")
      .include("setup", part)
      .include("maybe", part, { critical: false })
      .job(
        "use",
        async ({ results }) => {
          expectTypeOf(results.setup.a).toEqualTypeOf<number>();
          expectTypeOf(results.maybe).toExtend<Outcome<{ readonly a: number }>>();
          // @ts-expect-error "nope" is not a label of the part
          results.setup.nope;
        },
        { after: ["setup", "maybe"] },
      );
  });

  test(".ssh / .local / .sshEach results are SshJobResults", () => {
    scenario("s")
      .ssh("probe", new LocalNode(), [run("uname -a")], { critical: false })
      .local("build", [run("make")])
      .sshEach("fan", [new LocalNode()], (node) => [run(`echo ${node.host}`)])
      .job(
        "r",
        async ({ results }) => {
          expectTypeOf(results.probe).toEqualTypeOf<Outcome<SshJobResult>>();
          expectTypeOf(results.build).toEqualTypeOf<SshJobResult>();
          expectTypeOf(results.fan).toEqualTypeOf<readonly SshJobResult[]>();
        },
        { after: ["probe", "build", "fan"] },
      );
  });

  test("atMostOnce: a boolean on .job / .ssh / .local / .sshEach and the dynamic addJob, not on .each / .include", () => {
    base
      .job("m", async () => 1, { atMostOnce: true })
      .ssh("s", new LocalNode(), [run("true")], { atMostOnce: true, critical: false })
      .local("l", "true", { atMostOnce: false })
      .sshEach("e", [new LocalNode()], [run("true")], { atMostOnce: true, window: 2 });
    dynamicScenario("d").addJob("a", async () => 1, { atMostOnce: true });
    // @ts-expect-error atMostOnce is a boolean
    base.local("x", "true", { atMostOnce: "yes" });
    // @ts-expect-error .each bodies run in the controller: no atMostOnce
    base.each("each", [1], async (n) => n, { atMostOnce: true });
    // @ts-expect-error nor on an included scenario
    base.include("inc", scenario("sub"), { atMostOnce: true });
  });

  test("params are typed from their defaults; build() gives the engine's Scheduler", () => {
    const p = scenario("p", { params: { hosts: "x", n: 3, dry: false } }).job(
      "j",
      async ({ params }) => {
        expectTypeOf(params).toEqualTypeOf<{
          readonly hosts: string;
          readonly n: number;
          readonly dry: boolean;
        }>();
      },
    );
    expectTypeOf(p.build()).toEqualTypeOf<Scheduler>();
    expectTypeOf(p.run()).toEqualTypeOf<Promise<boolean>>();
    p.build({ params: { n: "4" } });
    // @ts-expect-error "nope" is not a declared parameter
    p.build({ params: { nope: "1" } });
  });
});

test("dynamicScenario: labels are strings, results unknown, checks at build()", () => {
  const d = dynamicScenario("d");
  const label: string = "x";
  d.addJob(label, async ({ results }) => {
    expectTypeOf(results).toEqualTypeOf<Readonly<Record<string, unknown>>>();
  });
  d.addJob("y", async () => 1, { after: [label, "anything"] });
});
