import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURE = join(import.meta.dirname, "fixtures/local.yaml");
mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const dir = mkdtempSync(join(ROOT, ".tmp", "cg-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/aiorch.mjs"), ...args], { cwd: ROOT });
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
});
