/**
 * One redaction policy for every sink: secret-looking names are matched broadly, declared
 * secrets are masked, and a canary run (test/fixtures/canary.scenario.ts) leaves no canary
 * in any artifact: console, plain log, debrief, errors, trace, both reports, generated code.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { AiorchError } from "../src/errors.ts";
// the public surface: what a scenario author imports from "aiorch"
import { addSecrets, isSecretName, MASK, maskSecrets } from "../src/index.ts";

const work = mkdtempSync(join(tmpdir(), "aiorch-canary-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function aiorch(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "node",
      ["bin/aiorch.mjs", ...args],
      { encoding: "utf8", env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("secret names and values", () => {
  test.each([
    "API_TOKEN",
    "DB_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "API_KEY",
    "GITHUB_PAT",
    "MYSQL_PWD",
    "PGPASSWORD",
    "apiKey",
    "passphrase",
    "Authorization",
    "SLACK_WEBHOOK_SECRET",
    "NPM_AUTH_TOKEN",
    "GOOGLE_CREDENTIALS",
  ])("%s is a secret name", (name) => expect(isSecretName(name)).toBe(true));

  test.each(["PATH", "HOME", "MODE", "keys", "hostKeys", "knownHosts", "PATTERN", "KEYBOARD"])(
    "%s is not",
    (name) => expect(isSecretName(name)).toBe(false),
  );

  test("declared secrets are masked in text and in every aiorch error message", () => {
    addSecrets(["s3cr3t-value", "s3cr3t-value-longer", "ab", undefined]);
    expect(maskSecrets("a s3cr3t-value-longer and s3cr3t-value, ab")).toBe("a *** and ***, ab");
    addSecrets("one-string-secret"); // one string is one secret, not its characters
    expect(maskSecrets("one-string-secret, o, n, e")).toBe(`${MASK}, o, n, e`);
    const err = new AiorchError("COMMAND_FAILED", "echo s3cr3t-value exited 1");
    expect(err.message).toBe("echo *** exited 1");
    expect(err.shortMessage).toBe("echo *** exited 1");
  });
});

describe("a canary run", () => {
  test("no canary in any artifact; names are shown, values never", async () => {
    const fixture = join("test", "fixtures", "canary.scenario.ts");
    const trace = join(work, "t.json");
    const report = join(work, "live.html");
    const ran = await aiorch(["run", fixture, "--plain", "--record", trace, "--report", report]);
    expect(ran.code).toBe(1);
    const fromTrace = join(work, "trace.html");
    const rep = await aiorch(["report", trace, "-o", fromTrace]);
    expect(rep.code).toBe(0);
    const gen = join(work, "gen.scenario.ts");
    const cg = await aiorch(["codegen", trace, "-o", gen]);
    expect(cg.code).toBe(0);
    const artifacts: Record<string, string> = {
      "run stdout": ran.stdout,
      "run stderr": ran.stderr,
      trace: readFileSync(trace, "utf8"),
      "live report": readFileSync(report, "utf8"),
      "trace report": readFileSync(fromTrace, "utf8"),
      "generated code": readFileSync(gen, "utf8"),
      "report/codegen stderr": rep.stderr + cg.stderr,
    };
    for (const [what, text] of Object.entries(artifacts))
      for (const canary of ["env-canary-7f3a9c", "plain-env-canary-20b4", "declared-canary-51be02"])
        expect(text.includes(canary), `${canary} in ${what}`).toBe(false);
    // what is shown instead: masks and names
    const out = ran.stdout + ran.stderr;
    expect(out).toContain("the secret is ***");
    expect(out).toContain("log line with ***");
    expect(out).toContain("failed with ***");
    expect(out).toContain("export AWS_SECRET_ACCESS_KEY=*** MODE=***; true");
    expect(out).toMatch(/^localhost:\*\*\*$/m);
    expect(artifacts.trace).toContain('"API_TOKEN": {');
    expect(artifacts["generated code"]).toContain("process.env");
  });

  test("a secret added at run time with the public addSecrets: in no output, trace or report", async () => {
    const canary = `runtime-canary-${process.pid}-9d1e`;
    const file = join(work, "token.txt");
    writeFileSync(file, `${canary}\n`);
    const trace = join(work, "added.json");
    const report = join(work, "added.html");
    const ran = await aiorch(
      [
        "run",
        join("test", "fixtures", "added-secret.scenario.ts"),
        "--plain",
        "--record",
        trace,
        "--report",
        report,
      ],
      { CANARY_FILE: file },
    );
    expect(ran.code).toBe(0); // non-critical failure
    const fromTrace = join(work, "added-trace.html");
    expect((await aiorch(["report", trace, "-o", fromTrace])).code).toBe(0);
    const artifacts: Record<string, string> = {
      "plain output": ran.stdout + ran.stderr,
      trace: readFileSync(trace, "utf8"),
      "live report": readFileSync(report, "utf8"),
      "trace report": readFileSync(fromTrace, "utf8"),
    };
    for (const [what, text] of Object.entries(artifacts)) {
      expect(text.includes(canary), `the canary in ${what}`).toBe(false);
      // masking is literal: the upper-cased value is another string, and its presence proves
      // the command's output reached this artifact
      expect(
        text.includes(canary.toUpperCase()),
        `the command's other output (not a secret) in ${what}`,
      ).toBe(true);
    }
    const out = ran.stdout;
    expect(out).toContain("fetched ***");
    expect(out).toContain("masked by hand: ***");
    expect(out).toMatch(/^localhost:\*\*\*$/m); // the command's output line
    expect(out).toContain("login failed for token ***");
    expect(artifacts.trace).toContain('"token": "***"');
    expect(artifacts.trace).toContain("https://user:***@example.invalid/");
  });
});
