import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { buildFromModel } from "../../codegen/build.ts";
import { parseDataScenario } from "../../codegen/data.ts";
import { loadScenario } from "../../src/cli/load.ts";
import { Job, LocalNode, run, Scheduler, SshJob } from "../../src/index.ts";
import { recordRun } from "../../src/trace/index.ts";

const FIXTURE = join(import.meta.dirname, "fixtures/local.yaml");

/** The error message of parsing `text`. */
function errorOf(text: string, file = "s.yaml"): string {
  try {
    parseDataScenario({ text, file });
  } catch (err) {
    expect(err).toMatchObject({ code: "SCENARIO_INVALID", file });
    return (err as Error).message;
  }
  throw new Error("no error");
}

describe("data scenarios (YAML/JSON)", () => {
  test("a YAML file becomes a model", () => {
    const m = parseDataScenario({
      text: [
        "scenario: s",
        "nodes:",
        "  gw: { host: gw.example.org, user: me }",
        "  n1: { host: 10.0.0.7, user: root, gateway: gw, hostKeys: accept-new }",
        "jobs:",
        "  - label: a",
        "    node: n1",
        "    commands: [uname -a, { push: [conf/], to: /etc/app/ }]",
        "  - { label: b, after: a, critical: false, replay: { duration: 5 } }",
      ].join("\n"),
    });
    expect(m).toMatchObject({
      name: "s",
      nodes: [
        { id: "gw", type: "ssh", host: "gw.example.org", user: "me" },
        { id: "n1", host: "10.0.0.7", gateway: "gw", hostKeys: "accept-new" },
      ],
      jobs: [
        {
          label: "a",
          kind: "commands",
          node: "n1",
          commands: [
            { type: "run", argv: ["uname -a"] },
            { type: "push", locals: ["conf/"], remote: "/etc/app/" },
          ],
        },
        {
          label: "b",
          after: ["a"],
          critical: false,
          kind: "replay",
          replay: { duration: 5, outcome: "ok" },
        },
      ],
    });
  });

  test("errors name the key, the path and the line", () => {
    const base = ["scenario: s", "jobs:", "  - label: a", "    node: local", "    commands:"];
    expect(errorOf([...base, "      - comand: ls"].join("\n"))).toBe(
      "s.yaml:6:9: jobs[0].commands[0]: a command needs one of run, script, string, push, pull",
    );
    expect(errorOf([...base, "      - run: ls", "        timout: 5"].join("\n"))).toBe(
      's.yaml:7:9: jobs[0].commands[0].timout: unexpected key "timout" (allowed: run, label, timeout, allowedExits, env, cwd, capture)',
    );
    expect(
      errorOf(["scenario: s", "jobs:", "  - label: a", "    replay: { duration: -1 }"].join("\n")),
    ).toBe("s.yaml:4:25: jobs[0].replay.duration: must be >= 0, got -1");
    expect(
      errorOf(
        [
          "scenario: s",
          "jobs:",
          "  - label: a",
          "    after: [nope]",
          "    replay: { duration: 1 }",
        ].join("\n"),
      ),
    ).toBe('s.yaml:4:13: jobs[0].after[0]: "nope" is not a job declared earlier in this scenario');
    expect(
      errorOf(
        ["scenario: s", "jobs:", "  - label: a", "    node: n9", "    commands: [ls]"].join("\n"),
      ),
    ).toBe('s.yaml:4:11: jobs[0].node: unknown node "n9" (declared: none)');
    expect(
      errorOf(["scenario: s", "jobs:", "  - node: local", "    commands: [ls]"].join("\n")),
    ).toBe('s.yaml:3:5: jobs[0]: missing key "label"');
    expect(
      errorOf(
        [
          "scenario: s",
          "jobs:",
          "  - label: a",
          "    replay: { duration: 1 }",
          "  - label: a",
          "    replay: { duration: 1 }",
        ].join("\n"),
      ),
    ).toBe(
      's.yaml:5:12: jobs[1].label: duplicate label "a" (labels are unique in the whole scenario)',
    );
    expect(errorOf("scenario: s\nscenario: t\njobs: []\n")).toMatch(
      /^s\.yaml:2:1: Map keys must be unique/,
    );
    expect(errorOf("scenario: s\njobs: [\n")).toMatch(/^s\.yaml:3:1: /);
  });

  test("JSON files get the same checks and lines", () => {
    const json = JSON.stringify(
      { scenario: "s", jobs: [{ label: "a", replay: { duration: 1, outcom: "ok" } }] },
      null,
      2,
    );
    expect(errorOf(json, "s.json")).toBe(
      's.json:8:9: jobs[0].replay.outcom: unexpected key "outcom" (allowed: duration, outcome, result, error)',
    );
  });

  test("aiorch run scenario.yaml: loads and runs it directly", async () => {
    const { scheduler } = await loadScenario({ file: FIXTURE });
    const s = scheduler as Scheduler;
    expect(await s.run()).toBe(true);
    expect(s.jobs.map((j) => j.label)).toEqual(["hello", "twice", "wait", "phase"]);
    const [hello, twice, wait, phase] = s.jobs;
    expect(twice?.result()).toBe(42);
    expect(wait?.result()).toEqual({ waited: true });
    expect(phase?.critical).toBe(false);
    expect((phase as Scheduler).window).toBe(1);
    expect(String(hello?.result())).toBe("OK");
    const echo = (phase as Scheduler).jobs[0];
    expect(JSON.stringify(echo?.describe())).toContain('"echo"');
  });

  test("a JSON trace is a data scenario too: replays and real commands", async () => {
    const a = new Job(async () => "A", { label: "a" });
    const b = new SshJob(new LocalNode(), [run("echo", "b")], { label: "b", required: a });
    const { trace } = await recordRun({ scheduler: new Scheduler([a, b], { label: "t" }) });
    const model = parseDataScenario({ text: JSON.stringify(trace), file: "run.trace.json" });
    expect(model.jobs.map((j) => [j.label, j.kind])).toEqual([
      ["a", "replay"],
      ["b", "commands"],
    ]);
    const again = await buildFromModel({ model });
    expect(await again.run()).toBe(true);
    expect(again.jobs[0]?.result()).toBe("A");
  });
});
