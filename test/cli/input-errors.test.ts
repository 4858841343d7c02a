/**
 * Bad input gets a message, not a stack: bad targets, a scenario whose default export
 * throws, a report of a file that is not a trace are usage errors (exit 2) naming what was
 * wrong; the stack only with `--debug`.
 */
import { execFile } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AiorchError } from "../../src/errors.ts";
import { parseTarget } from "../../src/ssh/targets.ts";

const work = mkdtempSync(join(tmpdir(), "aiorch-input-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function aiorch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", ["bin/aiorch.mjs", ...args], { encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const STACK = /^\s+at /m;

describe("targets", () => {
  it.each(["127.0.0.2:abc", "[::1", "::1]", "h:22:33", "u@[::1]x", "a:", "[::1]:99999"])(
    "%s is a usage error",
    (t) => {
      const err = (() => {
        try {
          parseTarget(t);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(AiorchError);
      expect((err as AiorchError).code).toBe("USAGE");
      expect((err as AiorchError).message).toContain(JSON.stringify(t));
    },
  );

  it("accepts hosts, ports and IPv6 addresses", () => {
    expect(parseTarget("::1")).toEqual({ host: "::1" });
    expect(parseTarget("[::1]:2200")).toEqual({ host: "::1", port: 2200 });
    expect(parseTarget("u@127.0.0.2:2222")).toEqual({ user: "u", host: "127.0.0.2", port: 2222 });
  });

  it("the CLI exits 2 on a bad target, before connecting, without a stack", async () => {
    const r = await aiorch(["ssh", "-t", "127.0.0.2:abc", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid target "127.0.0.2:abc"');
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe("scenario and trace files", () => {
  const scenario = join("test", "fixtures", "throwing.scenario.ts");

  it("a throwing default export: the message with file:line, exit 2; the stack with --debug", async () => {
    const r = await aiorch(["run", scenario]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `aiorch: ${scenario}:4: the default export threw: boom from the scenario\n`,
    );
    const d = await aiorch(["--debug", "run", scenario]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(STACK);
  });

  it("aiorch report of a file that is not a trace says what it expected", async () => {
    const file = join(work, "not-a-trace.json");
    writeFileSync(file, JSON.stringify({ name: "x" }));
    const r = await aiorch(["report", file, "-o", join(work, "r.html")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} is not an aiorch trace`);
    expect(r.stderr).toContain("aiorch run --record");
    expect(r.stderr).not.toMatch(STACK);
    const text = join(work, "notes.txt");
    writeFileSync(text, "hello\n");
    const t = await aiorch(["report", text, "-o", join(work, "r.html")]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(`${text} is not JSON`);
  });
});
