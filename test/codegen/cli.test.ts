import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURE = join(import.meta.dirname, "fixtures/local.yaml");
mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const dir = mkdtempSync(join(ROOT, ".tmp", "cg-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/aiorch.mjs"), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", rej);
    child.on("exit", (code) => res({ code, out, err }));
  });
}

/** Pids of the processes whose environment holds `marker` (what a run started with it). */
function processesWith(marker: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, "latin1").split("\0").includes(marker);
      } catch {
        return false; // gone, or not ours
      }
    })
    .map(Number);
}

/** The job lines of a plain log, without their timestamps. */
const jobLines = (out: string): string[] =>
  out
    .split("\n")
    .filter((l) => /^\d\d:\d\d:\d\d\.\d{3} [↺☓⊘]/.test(l))
    .map((l) => l.slice(13).replace(/ \(\d+ ms\)/, ""));

// tsc inside `codegen --check` takes 5 s of CPU, 20-30 s on a loaded 2-core machine
describe.concurrent("aiorch codegen / run with data files", { timeout: 90_000 }, () => {
  test("codegen scenario.yaml -o x.scenario.ts --check, then aiorch run it", async () => {
    const out = join(dir, "local.scenario.ts");
    const gen = await cli(["codegen", FIXTURE, "-o", out, "--check"]);
    expect(gen.err).toContain(`wrote ${out}`);
    expect(gen.code).toBe(0);
    expect(readFileSync(out, "utf8")).toContain('.job("twice", moduleJob(double');
    const ran = await cli(["run", out, "--plain"]);
    expect(ran.code).toBe(0);
    expect(ran.out).toMatch(/twice\b.*\bdone\b/);
    // a full type-check plus two CLI starts: ~27 s alone on a loaded 2-core machine
  }, 120_000);

  test("aiorch run scenario.yaml runs it directly", async () => {
    const ran = await cli(["run", FIXTURE, "--plain"]);
    expect(ran.code).toBe(0);
    // node output lines of the plain view: "<node>:<line>"
    expect(ran.out).toMatch(/^localhost:hello$/m);
    expect(ran.out).toMatch(/^localhost:it's\|a "b" `c` \$\{d\}\|$/m);
  });

  test("an invalid data file: exit 2, the message names key and line", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "scenario: s\njobs:\n  - label: a\n    replay: { duration: 1 }\n    forevr: true\n",
    );
    for (const cmd of ["run", "codegen"]) {
      const r = await cli([cmd, bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${bad}:5:5: jobs[0].forevr: unexpected key "forevr"`);
    }
  });

  test("services: a YAML scenario runs to completion; its codegen runs the same", async () => {
    const scratch = mkdtempSync(join(dir, "svc-"));
    const env = { SVC_DIR: scratch };
    const yaml = join(import.meta.dirname, "fixtures/service.yaml");
    const direct = await cli(["run", yaml, "--plain"], env);
    expect(direct.err).toBe("");
    expect(direct.code).toBe(0);
    // the client starts once both are ready (a command retried, a line of output), not at
    // the 20 s timeout; the services are stopped at the end of the run
    const expectOrder = (lines: string[]): void => {
      expect(lines.slice(0, 2)).toEqual(["↺ server started", "↺ logger started"]);
      expect(lines.slice(2, 4).sort()).toEqual(["↺ logger ready", "↺ server ready"]);
      expect(lines.slice(4)).toEqual([
        "↺ client started",
        "☓ client done",
        "⊘ server cancelled: end of run",
        "⊘ logger cancelled: end of run",
      ]);
    };
    expectOrder(jobLines(direct.out));
    expect(direct.out).toMatch(/^localhost:LISTENING on 8080\n[\s\S]*^localhost:up\n/m);
    expect(direct.out).toMatch(/■ end services: ok after \d+ ms/);
    expect(processesWith(`SVC_DIR=${scratch}`)).toEqual([]);

    rmSync(join(scratch, "server.flag"));
    const out = join(dir, "service.scenario.ts");
    const gen = await cli(["codegen", yaml, "-o", out, "--check"]);
    expect(gen.code).toBe(0);
    const code = readFileSync(out, "utf8");
    expect(code).toContain('.service("server", here, ');
    expect(code).toContain('ready: run("test -e \\"$SVC_DIR/server.flag\\""),');
    expect(code).toContain('ready: new RegExp("listening on \\\\d+", "i"),');
    const ran = await cli(["run", out, "--plain"], env);
    expect(ran.code).toBe(0);
    expectOrder(jobLines(ran.out));
    expect(processesWith(`SVC_DIR=${scratch}`)).toEqual([]);
  }, 120_000);

  test("an invalid ready: exit 2 naming the key and the line, for run and codegen", async () => {
    // (the other spellings are checked in data.test.ts, without starting the CLI)
    const cases: Array<[string, string]> = [
      [
        "ready: nc -z localhost 8080",
        '5:12: jobs[0].ready: expected { run: "command" } (retried until it exits 0) or { output: "pattern" } (a line of its output), got "nc -z localhost 8080"',
      ],
    ];
    for (const [line, message] of cases) {
      const bad = join(dir, "bad-ready.yaml");
      writeFileSync(
        bad,
        `scenario: s\njobs:\n  - label: server\n    service: sleep 9\n    ${line}\n    node: local\n`,
      );
      for (const cmd of ["run", "codegen"]) {
        const r = await cli([cmd, bad]);
        expect(r.code).toBe(2);
        expect(r.err).toContain(`${bad}:${message}`);
        expect(r.err).not.toMatch(/^\s+at /m); // no stack
      }
    }
  });
});
