/**
 * Smoke test of every scenarios/*.scenario.ts through the real CLI
 * (`node bin/aiorch.mjs run FILE --plain`), plus `aiorch run`'s flags and exit codes
 * (SPEC §5: 0 true, 1 false, 2 invalid scenario or usage) on small fixtures.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..");
const fixture = (name: string) => join("test", "dsl", "fixtures", name);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function aiorch(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/aiorch.mjs", ...args],
      { cwd: root, timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** What each known scenario must print (a scenario not listed must at least exit 0). */
const expected: Record<string, { args?: string[]; lines: RegExp[] }> = {
  "seed-examples.scenario.ts": {
    lines: [
      /A-parallel\/a3 done/,
      /C-forever-monitor\/monitor cancelled/,
      /D-timeout\/d-long cancelled .*timed out after 400 ms/,
      /E-non-critical\/e2 e1 failed, e2 runs anyway/,
      /F-critical\/f1 failed .*f1 failed on purpose/,
      /end seed-examples: ok after \d+ ms/,
    ],
  },
  "deploy-measure.scenario.ts": {
    args: ["--param", "nodes=2", "--param", "rounds=2"],
    lines: [
      /^localhost:ready$/m,
      /run measure: 2 job\(s\), window 1/,
      /report node-0: 2 rounds, median [\d.]+ ms/,
      /report overall median [\d.]+ ms over 2 nodes/,
      /cleanup done/,
      /end deploy-measure: ok/,
    ],
  },
  "fanout-join.scenario.ts": {
    lines: [
      /install\/install:gamma failed .*gamma: package mirror unreachable/,
      /summary installed on 4\/5 hosts/,
      /summary failed: gamma/,
      /verify\/verify:gamma gamma: skipped \(install failed\)/,
      /end fanout-join: ok/,
    ],
  },
  "experiment.scenario.ts": {
    // the README's example
    lines: [
      /\| probe\/probe:beta probing beta/,
      /report done/,
      /Job report -> 'kernel [^']+: 3 probes, total 14'/,
      /end experiment: ok/,
    ],
  },
  "composed.scenario.ts": {
    lines: [
      /migrate\/invoices migrated invoices/,
      /done blue 1\.4\.2 healthy; green 1\.4\.2 healthy/,
    ],
  },
};

const files = readdirSync(join(root, "scenarios"))
  .filter((f) => f.endsWith(".scenario.ts"))
  .sort();

describe("every scenario runs through the CLI", () => {
  test("the known scenarios are all there", () => {
    for (const name of Object.keys(expected)) expect(files).toContain(name);
  });

  test.each(files)("%s exits 0 and prints its key lines", async (file) => {
    const spec = expected[file];
    const r = await aiorch("run", join("scenarios", file), "--plain", ...(spec?.args ?? []));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const line of spec?.lines ?? []) expect(r.stdout).toMatch(line);
  });
});

describe("aiorch run: flags and exit codes", () => {
  test("--plan lists the jobs, nested ones included, without running", async () => {
    const r = await aiorch("run", "scenarios/composed.scenario.ts", "--plan");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Scheduler blue .*\n.*> Job blue\.drain/);
    expect(r.stdout).toMatch(/Job done \[not done\] requires/);
    expect(r.stdout).not.toMatch(/started/);
  });

  test("--param reaches a default-exported function and typed builder params", async () => {
    const canary = await aiorch(
      "run",
      "scenarios/composed.scenario.ts",
      "--plain",
      "--param",
      "canary=true",
    );
    expect(canary.code).toBe(0);
    expect(canary.stdout).toMatch(/canary canary traffic ok/);
    const fan = await aiorch(
      "run",
      "scenarios/fanout-join.scenario.ts",
      "--plain",
      "--param",
      "hosts=a,b",
      "--param",
      "flaky=",
    );
    expect(fan.code).toBe(0);
    expect(fan.stdout).toMatch(/summary installed on 2\/2 hosts/);
  });

  test("a bad --param is a usage error (exit 2) naming it", async () => {
    const unknown = await aiorch("run", "scenarios/fanout-join.scenario.ts", "--param", "nope=1");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown parameter "nope" for scenario "fanout-join" \(it takes: hosts, flaky\)/,
    );
    const badType = await aiorch(
      "run",
      "scenarios/deploy-measure.scenario.ts",
      "--param",
      "nodes=many",
    );
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/parameter "nodes" expects a number, got "many"/);
    // a function default export checks the names too (its module declares them)
    const fn = await aiorch("run", "scenarios/composed.scenario.ts", "--plan", "--param", "nope=1");
    expect(fn.code).toBe(2);
    expect(fn.stderr).toContain(
      'unknown parameter "nope" for scenarios/composed.scenario.ts (it takes: canary)',
    );
    const flag = await aiorch(
      "run",
      "scenarios/composed.scenario.ts",
      "--plan",
      "--param",
      "canary",
    );
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/Job canary/);
  });

  test("FILE --help lists the scenario's parameters with types, defaults, descriptions", async () => {
    const r = await aiorch("run", "scenarios/fanout-join.scenario.ts", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: aiorch run \[options\] \[file\]/);
    expect(r.stdout).toMatch(
      /--param hosts=A,B +string list +default alpha,beta,gamma,delta,epsilon +the \(simulated\) hosts to install on/,
    );
    expect(r.stdout).toMatch(
      /--param flaky=VALUE +string +default "gamma" +the host whose install fails/,
    );
    const fn = await aiorch("run", "scenarios/composed.scenario.ts", "-h");
    expect(fn.stdout).toMatch(/--param canary +flag +default false +add a canary stage/);
  });

  test("a false run exits 1 and prints the debrief; --quiet prints only that", async () => {
    const r = await aiorch("run", fixture("critical-fail.scenario.ts"), "--plain");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/install failed .*apt-get exited 100/);
    expect(r.stdout).toMatch(/critical job "install" failed/);
    const q = await aiorch("run", fixture("critical-fail.scenario.ts"), "--quiet");
    expect(q.code).toBe(1);
    expect(q.stdout).toMatch(/critical job "install" failed/);
    expect(q.stdout).not.toMatch(/started/);
  });

  test("--timeout and --window override the scenario's options", async () => {
    const t = await aiorch("run", fixture("slow.scenario.ts"), "--plain", "--timeout", "150");
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/timed out after 150 ms/);
    const w = await aiorch("run", fixture("slow.scenario.ts"), "--plain", "--window", "1");
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/run slow: 2 job\(s\), timeout 20000 ms, window 1/);
    expect(w.stdout.indexOf("s1 done")).toBeLessThan(w.stdout.indexOf("s2 started"));
  });

  test("an invalid scenario exits 2 naming the culprit", async () => {
    const r = await aiorch("run", fixture("cycle.scenario.ts"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cycle in scenario "cyclic": a -> b -> c -> a/);
  });
});
