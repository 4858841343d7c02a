import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CommandFailedError,
  CommandTimeoutError,
  LocalNode,
  pull,
  push,
  run,
  runScript,
  runString,
  service,
  SshJob,
  type SshJobFailedError,
} from "../../src/ssh/index.ts";
import { Scheduler } from "../../src/index.ts";
import { runJobs, stdoutOf } from "./helpers.ts";

describe("LocalNode", () => {
  const node = new LocalNode();

  it("numbers derived labels per scheduler, not per process", () => {
    const first = [new SshJob(node, "true"), new SshJob(node, "true"), new SshJob(node, "echo")];
    const again = [new SshJob(node, "true"), new SshJob(node, "true")];
    expect(first[0]!.label).toBe("true@localhost");
    new Scheduler(first);
    new Scheduler(again);
    expect(first.map((j) => j.label)).toEqual([
      "true@localhost",
      "true@localhost #2",
      "echo@localhost",
    ]);
    expect(again.map((j) => j.label)).toEqual(["true@localhost", "true@localhost #2"]);
    const named = new SshJob(node, "true", { label: "mine" });
    new Scheduler([named, new SshJob(node, "true")]);
    expect(named.label).toBe("mine");
  });

  it("runs every command type locally, with capture, env, cwd and copies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aiorch-local-test-"));
    const script = join(dir, "s.sh");
    writeFileSync(script, '#!/bin/sh\n. "$(dirname "$0")/inc.sh"\necho "s:$1:$V"\n');
    writeFileSync(join(dir, "inc.sh"), "V=included\n");
    const data = randomBytes(64 * 1024);
    writeFileSync(join(dir, "data.bin"), data);
    const job = new SshJob(
      node,
      [
        run("echo", "$HOME", { capture: "h" }),
        run("echo $A; pwd", { env: { A: "env-a" }, cwd: dir }),
        runScript(script, ["x y"], { includes: [join(dir, "inc.sh")] }),
        runString("echo str:$1", [(v) => v.h ?? ""]),
        push([join(dir, "data.bin")], join(dir, "copy/")),
        pull([join(dir, "copy", "data.bin")], join(dir, "back.bin")),
      ],
      { label: "local", critical: true },
    );
    const { ok, output } = await runJobs([job], { critical: true });
    expect(ok).toBe(true);
    expect(stdoutOf(output, "local")).toEqual([
      "$HOME",
      "env-a",
      dir,
      "s:x y:included",
      "str:$HOME",
    ]);
    expect(output[0]?.host).toBe("localhost");
    expect(readFileSync(join(dir, "back.bin")).equals(data)).toBe(true);
    expect(job.describe()).toMatchObject({ kind: "commands", node: { type: "local" } });
  });

  it("reports failures and timeouts like SshNode", async () => {
    const crit = new SshJob(node, [run("exit 4"), run("echo no")], { label: "lc", critical: true });
    await runJobs([crit], { critical: true });
    expect(crit.raisedException()).toBeInstanceOf(CommandFailedError);
    expect((crit.raisedException() as CommandFailedError).exitCode).toBe(4);
    const slow = new SshJob(node, [run("sleep 30", { timeout: 300 })], {
      label: "ls",
      critical: false,
    });
    const t0 = Date.now();
    await runJobs([slow]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(slow.isFailed()).toBe(true);
    const failed = slow.raisedException() as SshJobFailedError;
    expect(failed.result.failures[0]?.error).toBeInstanceOf(CommandTimeoutError);
    expect(failed.message).toBe('"sleep 30" timed out after 300 ms on ' + node.name);
  });

  it("stops a local service's process group at the end of the run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aiorch-svc-"));
    const flag = join(dir, "alive");
    const svc = service(node, `while :; do touch ${flag}; sleep 0.1; done`, { label: "lsvc" });
    const wait = new SshJob(node, [run(`sleep 0.4; test -e ${flag}`)], { label: "wait" });
    const { ok } = await runJobs([svc, wait]);
    expect(ok).toBe(true);
    expect(existsSync(flag)).toBe(true);
    expect(svc.processGroup).toBeUndefined();
    // the loop is gone: the flag is not recreated
    rmSync(flag);
    await new Promise((r) => setTimeout(r, 400));
    expect(existsSync(flag)).toBe(false);
  });
});
