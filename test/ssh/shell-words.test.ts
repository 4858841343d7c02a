/**
 * apssh habits on a real sshd: raw shell words (quoting stays the default), included files
 * keep their mode, `ignoreOutputs` lets `cmd &` return at once.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EngineImports, commandExpr } from "../../codegen/emit/parts.ts";
import { commandLine } from "../../src/ssh/commands.ts";
import {
  describeCommand,
  raw,
  run,
  runScript,
  runString,
  SshJob,
  SshJobFailedError,
  type SshJobResult,
} from "../../src/ssh/index.ts";
import { nodeOn, runJobs, stdoutOf } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
let work: string;
beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.9"] });
  work = mkdtempSync(join(tmpdir(), "aiorch-words-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("raw shell words", () => {
  test("quoted by default, raw() as written, template values quoted", () => {
    expect(commandLine(run("head -c 4", "<", "/dev/zero").argv)).toBe("head -c 4 '<' /dev/zero");
    expect(commandLine(run("head -c 4", raw("<"), "/dev/zero", raw(">"), "my f").argv)).toBe(
      "head -c 4 < /dev/zero > 'my f'",
    );
    const file = "it's";
    expect(raw`> ${file}.log 2>&1`.text).toBe(`> 'it'\\''s'.log 2>&1`);
    expect(() => raw(42 as unknown as string)).toThrow(/raw: expects a string or a template/);
    // a raw word last is an argument, not the options object
    expect(run("echo", raw("&")).argv).toHaveLength(2);
  });

  test("recorded in traces as { raw } and generated back as raw(...)", () => {
    const spec = describeCommand(run("cat", raw("<"), "in", { label: "l" }));
    expect(spec).toEqual({
      type: "run",
      argv: ["cat", { raw: "<" }, "in"],
      options: { label: "l" },
    });
    const imp = new EngineImports();
    const code = commandExpr(
      { type: "run", argv: ["cat", { raw: "<" }, "in"], options: { ignoreOutputs: true } },
      imp,
    );
    expect(code).toBe('run("cat", raw("<"), "in", { ignoreOutputs: true })');
    expect([...imp.used].sort()).toEqual(["raw", "run"]);
  });

  test("redirections run on the remote shell, in run, runScript and runString", async () => {
    const node = nodeOn(sshd, "127.0.0.9");
    const script = join(work, "count.sh");
    writeFileSync(script, '#!/bin/sh\nwc -c < "$1"\n');
    const job = new SshJob(
      node,
      [
        run("head -c 1024", raw("<"), "/dev/zero", raw(">"), "words-f"),
        run("wc -c", raw("<"), "words-f"),
        runScript(script, ["words-f", raw("| tr -d ' '")]),
        runString('#!/bin/sh\necho "$1"', ["a b", raw("; echo"), "c"]),
        run("rm -f words-f"),
      ],
      { label: "words" },
    );
    const { ok, output } = await runJobs([job]);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "words").map((l) => l.trim())).toEqual(["1024", "1024", "a b", "c"]);
  });
});

describe("runScript includes keep their mode", () => {
  test("an executable helper stays executable, a plain file stays 0644", async () => {
    const helper = join(work, "helper.sh");
    writeFileSync(helper, "#!/bin/sh\necho helper-ran\n");
    chmodSync(helper, 0o750);
    const data = join(work, "data.txt");
    writeFileSync(data, "x\n");
    chmodSync(data, 0o640);
    const main = join(work, "main.sh");
    writeFileSync(
      main,
      '#!/bin/sh\ncd "$(dirname "$0")" && ./helper.sh && stat -c %a helper.sh data.txt\n',
    );
    const job = new SshJob(
      nodeOn(sshd, "127.0.0.9"),
      [runScript(main, [], { includes: [helper, data] })],
      {
        label: "inc",
      },
    );
    const { ok, output } = await runJobs([job]);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "inc")).toEqual(["helper-ran", "750", "640"]);
  });
});

describe("ignoreOutputs", () => {
  test("a background process does not hold the command; without it, it does", async () => {
    const node = nodeOn(sshd, "127.0.0.9");
    const started = Date.now();
    const job = new SshJob(
      node,
      [
        run("sleep 30 & echo $! > words-bg.pid; echo hidden", { ignoreOutputs: true }),
        run("cat words-bg.pid", { capture: "pid" }),
        run("kill", (v) => v.pid, raw("; rm -f words-bg.pid")),
      ],
      { label: "bg" },
    );
    const { ok, output } = await runJobs([job]);
    expect(ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    const pid = (job.result() as SshJobResult).commands[1]?.stdout;
    expect(pid).toMatch(/^\d+$/);
    expect(stdoutOf(output, "bg")).toEqual([pid]); // "hidden" went to /dev/null
    // the same without ignoreOutputs is held by the sleep's open stdout (until its timeout)
    const held = new SshJob(node, [run("sleep 5 &", { timeout: 1500 })], { label: "held" });
    await runJobs([held]);
    // a non-critical job whose command failed fails, its outcomes in the error
    const heldError = held.raisedException() as SshJobFailedError;
    expect(heldError).toBeInstanceOf(SshJobFailedError);
    expect(heldError.result.commands[0]?.error?.code).toBe("TIMEOUT");
    expect(() => run("x", { ignoreOutputs: true, capture: "c" })).toThrow(/would get nothing/);
  });
});
