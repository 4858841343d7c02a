import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { buildFromModel } from "../../codegen/build.ts";
import { parseDataScenario } from "../../codegen/data.ts";
import { loadScenario } from "../../src/cli/load.ts";
import { generateScenario } from "../../codegen/emit/scenario.ts";
import { Job, LocalNode, run, Scheduler, SshJob, service } from "../../src/index.ts";
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
      's.yaml:7:9: jobs[0].commands[0].timout: unexpected key "timout" (allowed: run, label, timeout, allowedExits, env, cwd, capture, encoding)',
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

  test("services: a forever remote command, its readiness and options become a model", () => {
    const m = parseDataScenario({
      text: [
        "scenario: s",
        "jobs:",
        "  - label: web",
        "    node: local",
        "    service: python3 -m http.server 8000",
        "    ready: { run: [nc, -z, localhost, 8000], allowedExits: [0] }",
        "    readyTimeout: 5000",
        "    readyInterval: 100",
        "    env: { TOKEN: { fromEnv: TOKEN } }",
        "    cwd: /srv",
        "    stopSignal: SIGINT",
        "    stopTimeout: 2000",
        "  - label: bg",
        "    node: local",
        "    service: exec sleep 60",
        "    detach: true",
        "    log: /tmp/bg.log",
        "    ready: { output: 'up \\d+', flags: is }",
        "  - label: tail",
        "    after: [web, bg]",
        "    node: local",
        "    forever: true",
        "    ready: { output: ready }",
        "    commands: [tail -f /var/log/syslog]",
      ].join("\n"),
    });
    expect(m.jobs).toEqual([
      {
        label: "web",
        after: [],
        kind: "service",
        node: "local",
        command: "python3 -m http.server 8000",
        ready: { run: ["nc", "-z", "localhost", 8000], allowedExits: [0] },
        readyTimeout: 5000,
        readyInterval: 100,
        env: { TOKEN: { fromEnv: "TOKEN" } },
        cwd: "/srv",
        stopSignal: "INT",
        stopTimeout: 2000,
      },
      {
        label: "bg",
        after: [],
        kind: "service",
        node: "local",
        command: "exec sleep 60",
        detach: true,
        log: "/tmp/bg.log",
        ready: { output: "up \\d+", flags: "is" },
      },
      {
        label: "tail",
        after: ["web", "bg"],
        forever: true,
        kind: "commands",
        node: "local",
        ready: { output: "ready" },
        commands: [{ type: "run", argv: ["tail -f /var/log/syslog"] }],
      },
    ]);
  });

  test("services: every wrong spelling of ready and of the options names the key and line", () => {
    const svc = (...lines: string[]) =>
      errorOf(
        [
          "scenario: s",
          "jobs:",
          "  - label: srv",
          "    node: local",
          "    service: sleep 9",
          ...lines,
        ].join("\n"),
      );
    const forms =
      'expected { run: "command" } (retried until it exits 0) or { output: "pattern" } (a line of its output)';
    // a bare string, or a JavaScript-looking regex (YAML reads it as a string): ambiguous
    expect(svc("    ready: nc -z localhost 80")).toBe(
      `s.yaml:6:12: jobs[0].ready: ${forms}, got "nc -z localhost 80"`,
    );
    expect(svc("    ready: /listening on/")).toBe(
      `s.yaml:6:12: jobs[0].ready: ${forms}, got "/listening on/"`,
    );
    expect(svc("    ready: [nc, -z]")).toBe(`s.yaml:6:12: jobs[0].ready: ${forms}, got a list`);
    expect(svc("    ready: {}")).toBe(`s.yaml:6:12: jobs[0].ready: ${forms}, got a mapping`);
    expect(svc("    ready: { run: x, output: y }")).toBe(
      "s.yaml:6:12: jobs[0].ready: give only one of run, output",
    );
    expect(svc("    ready: { run: [] }")).toBe("s.yaml:6:19: jobs[0].ready.run: give a command");
    expect(svc("    ready: { run: x, retries: 3 }")).toBe(
      's.yaml:6:22: jobs[0].ready.retries: unexpected key "retries" (allowed: run, allowedExits)',
    );
    expect(svc("    ready: { output: 'listening (' }")).toBe(
      "s.yaml:6:22: jobs[0].ready.output: not a valid pattern: Invalid regular expression: /listening (/: Unterminated group",
    );
    expect(svc("    ready: { output: '' }")).toBe(
      "s.yaml:6:22: jobs[0].ready.output: must not be empty",
    );
    expect(svc("    ready: { output: up, flags: g }")).toBe(
      's.yaml:6:33: jobs[0].ready.flags: unknown flag "g" (allowed: i, m, s, u, v)',
    );
    expect(svc("    ready: { output: up, flags: uv }")).toMatch(
      /^s\.yaml:6:33: jobs\[0\]\.ready\.flags: not a valid pattern: /,
    );
    expect(svc("    readyTimeout: soon")).toBe(
      's.yaml:6:19: jobs[0].readyTimeout: expected a number, got "soon"',
    );
    expect(svc("    forever: true")).toBe(
      "s.yaml:6:5: jobs[0].forever: a service is a forever job already (with detach: true, its job ends once it is ready)",
    );
    expect(svc("    log: /tmp/x.log")).toBe(
      's.yaml:6:5: jobs[0].log: "log" only applies to a detached service (detach: true)',
    );
    expect(svc("    detach: true", "    stopSignal: INT")).toBe(
      's.yaml:7:5: jobs[0].stopSignal: "stopSignal" does not apply to a detached service (the run never stops it)',
    );
    expect(svc("    retry: { attempts: 2 }")).toBe(
      's.yaml:6:5: jobs[0].retry: "retry" does not apply to a service (its process is not run again)',
    );
    expect(svc("    stopSignal: TERMINATE")).toBe(
      's.yaml:6:17: jobs[0].stopSignal: unknown signal "TERMINATE" (e.g. TERM, INT, HUP, KILL, USR1)',
    );
    expect(svc("    service: again")).toMatch(/^s\.yaml:6:5: Map keys must be unique/);
    expect(
      errorOf(
        ["scenario: s", "jobs:", "  - label: a", "    node: local", "    service: ''"].join("\n"),
      ),
    ).toBe("s.yaml:5:14: jobs[0].service: must not be empty");
    // readiness of other jobs: only a forever one, only a pattern
    const job = (...lines: string[]) =>
      errorOf(["scenario: s", "jobs:", "  - label: a", "    node: local", ...lines].join("\n"));
    expect(job("    commands: [ls]", "    ready: { output: x }")).toBe(
      's.yaml:6:5: jobs[0].ready: "ready" only applies to a service or a forever job (commands or call)',
    );
    expect(job("    forever: true", "    commands: [ls]", "    ready: { run: ls }")).toBe(
      's.yaml:7:14: jobs[0].ready.run: a command readiness check needs a service job (a forever job takes { output: "pattern" })',
    );
    expect(job("    commands: [ls]", "    detach: true")).toBe(
      's.yaml:6:5: jobs[0].detach: "detach" only applies to a service',
    );
    expect(
      errorOf(["scenario: s", "jobs:", "  - label: a", "    service: sleep 9"].join("\n")),
    ).toBe('s.yaml:3:5: jobs[0]: missing key "node" (a node id, or "local")');
  });

  test("services run from data: the client starts once the service is ready", async () => {
    const flag = `/tmp/aiorch-data-svc-${process.pid}`;
    const m = parseDataScenario({
      text: [
        "scenario: s",
        "timeout: 20000",
        "jobs:",
        "  - label: server",
        "    node: local",
        `    service: trap '' TERM; sleep 0.3; touch ${flag}; echo listening; sleep 60`,
        `    ready: { run: 'test -e ${flag}' }`,
        "    readyInterval: 50",
        "  - label: client",
        "    after: server",
        "    node: local",
        `    commands: ['test -e ${flag} && rm ${flag} && echo saw it']`,
      ].join("\n"),
    });
    const s = await buildFromModel({ model: m });
    const t0 = Date.now();
    expect(await s.run()).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const [server, client] = s.jobs;
    expect(server?.state).toBe("cancelled"); // stopped at the end of the run
    expect(client?.isFailed()).toBe(false); // the flag existed when it started
    expect(String(client?.result())).toBe("OK");
  });

  test("a capture can keep bytes: encoding: buffer (checked, and only with capture)", () => {
    const job = (...lines: string[]) =>
      ["scenario: s", "jobs:", "  - label: a", "    node: local", "    commands:", ...lines].join(
        "\n",
      );
    const m = parseDataScenario({
      text: job("      - { run: cat img, capture: img, encoding: buffer }"),
    });
    expect(m.jobs[0]).toMatchObject({
      commands: [{ type: "run", options: { capture: "img", encoding: "buffer" } }],
    });
    expect(errorOf(job("      - { run: cat img, capture: img, encoding: latin1 }"))).toBe(
      's.yaml:6:49: jobs[0].commands[0].encoding: expected one of "utf8", "buffer", got "latin1"',
    );
    expect(errorOf(job("      - { run: cat img, encoding: buffer }"))).toBe(
      's.yaml:6:25: jobs[0].commands[0].encoding: "encoding" applies to a capture: give capture too',
    );
  });

  test("a traced service becomes a service again: its readiness, options, no env value", async () => {
    const flag = `/tmp/aiorch-traced-svc-${process.pid}`;
    const node = new LocalNode();
    const server = service(node, `sleep 0.2; touch ${flag}; echo up; sleep 60`, {
      label: "server",
      ready: run(`test -e ${flag}`, { allowedExits: [0] }),
      readyInterval: 50,
      readyTimeout: 10_000,
      env: { API_TOKEN: "tok-never-recorded-77", MODE: "x" },
      stopSignal: "INT",
    });
    const logger = service(node, "echo 'Listening ON 9'; sleep 60", {
      label: "logger",
      ready: /listening on \d/i,
    });
    const fn = service(node, "sleep 60", { label: "fn", ready: async () => undefined });
    const client = new SshJob(node, [run(`rm ${flag}`)], {
      label: "client",
      required: [server, logger, fn],
    });
    const { trace } = await recordRun({
      scheduler: new Scheduler([server, logger, fn, client], { label: "t", timeout: 20_000 }),
    });
    const text = JSON.stringify(trace);
    expect(text).not.toContain("tok-never-recorded-77");
    const model = parseDataScenario({ text, file: "run.trace.json" });
    expect(model.jobs[0]).toMatchObject({
      kind: "service",
      command: `sleep 0.2; touch ${flag}; echo up; sleep 60`,
      ready: { run: [`test -e ${flag}`], allowedExits: [0] },
      readyInterval: 50,
      readyTimeout: 10_000,
      stopSignal: "INT",
      env: { API_TOKEN: { fromEnv: "API_TOKEN" }, MODE: { fromEnv: "MODE" } },
    });
    expect(model.jobs[1]).toMatchObject({
      kind: "service",
      ready: { output: "listening on \\d", flags: "i" },
    });
    // a function cannot be written down: replayed, and said so
    expect(model.jobs[2]).toMatchObject({
      kind: "replay",
      note: expect.stringContaining("a service whose readiness is a function"),
    });
    const code = generateScenario({ model, outFile: "t.scenario.ts" });
    expect(code).toContain('ready: run("test -e /tmp/aiorch-traced-svc-');
    expect(code).toContain('ready: new RegExp("listening on \\\\d", "i"),');
    expect(code).toContain(
      'env: { API_TOKEN: process.env["API_TOKEN"] ?? "", MODE: process.env["MODE"] ?? "" }',
    );
    // a garbled service in a trace: a clean error with its JSON path, never code
    for (const [mutate, message] of [
      [
        (w: Record<string, unknown>) => (w.ready = { output: "(" }),
        "ready.output: expected a valid regular expression",
      ],
      [(w: Record<string, unknown>) => (w.ready = "nc -z"), "ready: expected an object"],
      [
        (w: Record<string, unknown>) => (w.stopSignal = "TERM; rm -rf /"),
        "stopSignal: expected a signal name",
      ],
      [(w: Record<string, unknown>) => (w.readyTimeout = "5"), "readyTimeout: expected a number"],
      [
        (w: Record<string, unknown>) => (w.env = { "A;B": { $redacted: true } }),
        "expected a shell variable name",
      ],
    ] as const) {
      const bad = JSON.parse(text);
      mutate(bad.scenario.jobs[0].work);
      expect(() => parseDataScenario({ text: JSON.stringify(bad), file: "bad.json" })).toThrow(
        message,
      );
    }
    // and it runs again from the trace: the client starts once both services are ready
    const again = await buildFromModel({ model });
    expect(await again.run()).toBe(true);
    expect(again.jobs[3]?.isFailed()).toBe(false); // the flag existed
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
