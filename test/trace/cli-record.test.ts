import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readTrace } from "../../src/trace/index.ts";

const BIN = join(import.meta.dirname, "../../bin/aiorch.mjs");
const SLOW = join(import.meta.dirname, "fixtures/slow.scenario.ts");

/** Run the CLI; `onLine` may send a signal once a given line shows up. */
function runCli(
  args: string[],
  signalOn?: { line: RegExp; signal: NodeJS.Signals },
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (signalOn?.line.test(out)) {
        child.kill(signalOn.signal);
        signalOn = undefined;
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}

describe.concurrent("aiorch run --record", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    test(`${signal} cancels the run and the trace says interrupted`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "aiorch-rec-"));
      const file = join(dir, "run.trace.json");
      const code = await runCli(["run", SLOW, "--plain", "--record", file], {
        line: /long started/,
        signal,
      });
      // 128 + the signal number, as shells report it
      expect(code).toBe(signal === "SIGINT" ? 130 : 143);
      // the trace and the journal beside it, no temp file left
      expect(readdirSync(dir).sort()).toEqual(["run.trace.journal.jsonl", "run.trace.json"]);
      const trace = await readTrace({ file });
      expect(trace.run).toMatchObject({ ok: false, reason: "interrupted", signal });
      expect(trace.file).toBe(SLOW);
      expect(trace.scenario.jobs).toMatchObject([
        {
          label: "quick",
          state: "done",
          result: 7,
          output: { lines: [{ stream: "log", line: "quick says hi" }] },
        },
        { label: "long", state: "cancelled", requires: ["quick"] },
      ]);
    });

  test("a run that ends by itself writes its trace (timeout from the command line)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aiorch-rec-"));
    const file = join(dir, "t.json");
    expect(await runCli(["run", SLOW, "--quiet", "--timeout", "300", "--record", file])).toBe(1);
    const trace = await readTrace({ file });
    expect(trace.run).toMatchObject({ ok: false, reason: "timeout", timeout: 300 });
  });
});
