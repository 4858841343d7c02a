import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Job } from "../../src/job.ts";
import { Scheduler } from "../../src/scheduler.ts";
import {
  CommandFailedError,
  CommandTimeoutError,
  pull,
  push,
  run,
  runScript,
  runString,
  SshFileError,
  SshJob,
  SshJobFailedError,
  type SshJobResult,
  type SshNode,
} from "../../src/ssh/index.ts";
import { nodeOn, runJobs, stdoutOf } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
let node: SshNode;
let work: string;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2"] });
  node = nodeOn(sshd, "127.0.0.2");
  work = mkdtempSync(join(tmpdir(), "aiorch-cmd-"));
});

afterAll(async () => {
  await node?.close();
  await sshd?.stop();
});

/** The job's result: its value, or for a failed non-critical job the one the error carries. */
function resultOf(job: SshJob): SshJobResult {
  const err = job.raisedException();
  const r = err instanceof SshJobFailedError ? err.result : job.result();
  if (!r) throw new Error(`no result for ${job.label}: ${String(err)}`);
  return r;
}

describe("run", () => {
  it("runs a command line, quotes further arguments, streams output lines with the host", async () => {
    const job = new SshJob(node, [run("echo", "a b", "$HOME", "it's"), run("id -un")], {
      label: "echo",
    });
    const { ok, output } = await runJobs([job]);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "echo")).toEqual(["a b $HOME it's", "aiorchtest"]);
    expect(output[0]?.host).toBe(`127.0.0.2:${sshd.port}`);
    const r = resultOf(job);
    expect(r.ok).toBe(true);
    expect(r.commands.map((c) => c.exitCode)).toEqual([0, 0]);
  });

  it("passes env and cwd through the shell", async () => {
    const job = new SshJob(
      node,
      [run("echo $FOO $BAR; pwd", { env: { FOO: "x y", BAR: 3 }, cwd: "/tmp" })],
      {
        label: "env",
      },
    );
    const { ok, output } = await runJobs([job]);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "env")).toEqual(["x y 3", "/tmp"]);
  });

  it("separates stdout and stderr, buffers partial lines", async () => {
    const job = new SshJob(
      node,
      [run("printf 'one\\ntw'; printf 'o\\n' ; echo err >&2; printf last")],
      {
        label: "streams",
      },
    );
    const { output } = await runJobs([job]);
    expect(stdoutOf(output, "streams")).toEqual(["one", "two", "last"]);
    expect(output.filter((e) => e.stream === "stderr").map((e) => e.line)).toEqual(["err"]);
  });
});

describe("exit codes", () => {
  it("a critical job stops at the first failing command with an error naming host, command, code", async () => {
    const job = new SshJob(node, [run("true"), run("exit 3"), run("touch never-created")], {
      label: "crit",
      critical: true,
    });
    const { ok } = await runJobs([job], { critical: true });
    expect(ok).toBe(false);
    const err = job.raisedException();
    expect(err).toBeInstanceOf(CommandFailedError);
    const e = err as CommandFailedError;
    expect(e.code).toBe("COMMAND_FAILED");
    expect(e.exitCode).toBe(3);
    expect(e.host).toBe("127.0.0.2");
    expect(e.user).toBe("aiorchtest");
    expect(e.command).toBe("exit 3");
    expect(e.message).toBe(`"exit 3" exited 3 on aiorchtest@127.0.0.2:${sshd.port}`);
    const check = new SshJob(node, [run("test ! -e never-created")], { label: "check" });
    expect((await runJobs([check])).ok).toBe(true);
  });

  it("a non-critical job runs every command and records every failure", async () => {
    const job = new SshJob(
      node,
      [
        run("exit 1"),
        run("echo still"),
        run("echo oops >&2; exit 7"),
        runScript(join(work, "missing.sh")),
      ],
      {
        label: "noncrit",
        critical: false,
      },
    );
    const { ok, output, scheduler } = await runJobs([job]);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "noncrit")).toEqual(["still"]);
    // the job ran every command, then failed with one error naming each failed command
    expect(job.state).toBe("done");
    expect(job.isFailed()).toBe(true);
    expect(job.result()).toBeUndefined();
    const err = job.raisedException() as SshJobFailedError;
    expect(err).toBeInstanceOf(SshJobFailedError);
    expect(err.code).toBe("COMMAND_FAILED");
    expect(err.host).toBe("127.0.0.2");
    expect(err.message).toMatch(/^3 of 4 commands failed on aiorchtest@127\.0\.0\.2:\d+: /);
    expect(err.message).toContain('"exit 1" exited 1 on');
    expect(err.message).toContain('"echo oops >&2; exit 7" exited 7 on');
    expect(err.message).toContain("missing.sh not found");
    expect(err.labels).toEqual(["exit 1", "echo oops >&2; exit 7", `${join(work, "missing.sh")}`]);
    expect(scheduler.debrief()).toContain("3 of 4 commands failed");
    const r = resultOf(job);
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => f.index)).toEqual([0, 2, 3]);
    expect(r.commands.map((c) => c.exitCode)).toEqual([1, 0, 7, null]);
    expect(r.failures[2]?.error).toBeInstanceOf(SshFileError);
    expect(String(r)).toContain('[2] "echo oops >&2; exit 7" exited 7');
    const failed = r.failures[1]?.error as CommandFailedError;
    expect(failed.stderrTail).toBe("oops");
    expect(failed.message).toContain("(stderr: oops)");
  });

  it("allowedExits accepts codes and signal names", async () => {
    const job = new SshJob(
      node,
      [
        run("exit 2", { allowedExits: [2] }),
        run("kill -TERM $$", { allowedExits: ["TERM"] }),
        run("kill -TERM $$", { allowedExits: ["SIGTERM"] }),
        run("kill -TERM $$", { allowedExits: [15] }),
      ],
      { label: "allowed", critical: false },
    );
    await runJobs([job]);
    const r = resultOf(job);
    expect(r.commands.map((c) => c.ok)).toEqual([true, true, true, false]);
    expect(r.commands[1]?.signal).toBe("TERM");
    expect(r.commands[1]?.exitCode).toBe(null);
    expect(r.failures[0]?.error?.message).toContain("was killed by signal TERM");
  });

  it("a command timeout stops it and fails with TIMEOUT", async () => {
    const job = new SshJob(node, [run("sleep 20", { timeout: 500 })], {
      label: "slow",
      critical: false,
    });
    const t0 = Date.now();
    await runJobs([job]);
    expect(Date.now() - t0).toBeLessThan(8000);
    const f = resultOf(job).failures[0];
    expect(f?.error).toBeInstanceOf(CommandTimeoutError);
    expect(f?.error?.code).toBe("TIMEOUT");
  });
});

describe("capture", () => {
  it("stores stdout in vars for later commands and jobs (deferred args), binary-safe", async () => {
    const first = new SshJob(node, [run("echo captured-value", { capture: "v1" })], {
      label: "first",
    });
    const second = new SshJob(node, [run("echo", (vars) => `got-${vars.v1}`, { capture: "v2" })], {
      label: "second",
      required: first,
    });
    const bin = new SshJob(node, [run("printf '\\377\\000\\001\\n\\n'", { capture: "bin" })], {
      label: "bin",
    });
    const reader = new Job(async (ctx) => `${ctx.vars.v1}|${ctx.vars.v2}`, {
      label: "reader",
      required: second,
    });
    const { ok } = await runJobs([first, second, bin, reader]);
    expect(ok).toBe(true);
    expect(reader.result()).toBe("captured-value|got-captured-value");
    expect(resultOf(second).commands[0]?.stdout).toBe("got-captured-value");
    expect(resultOf(second).commands[0]?.label).toBe("echo got-captured-value");
    expect([...(resultOf(bin).commands[0]?.stdoutBytes ?? [])]).toEqual([0xff, 0, 1, 10]);
  });
});

describe("deferred arguments", () => {
  it("a deferred argument reading a variable not captured yet fails with a message naming it", async () => {
    const job = new SshJob(node, [run("echo", (vars) => vars.never_captured)], {
      label: "uncaptured",
      critical: true,
    });
    const s = new Scheduler([job], { timeout: 30_000 });
    expect(await s.run({ vars: { known: "x" } })).toBe(false);
    const err = job.raisedException() as { code?: string; message?: string };
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(
      /gave undefined: is the variable captured yet\? known variables: known/,
    );
  });
});

describe("scripts", () => {
  it("runScript uploads script and includes, runs with args, removes them", async () => {
    const script = join(work, "setup.sh");
    writeFileSync(
      script,
      '#!/bin/sh\n. "$(dirname "$0")/lib.sh"\necho "script $1 $2 $(greet)"\necho "$0"\n',
    );
    writeFileSync(join(work, "lib.sh"), "greet() { echo hello-from-lib; }\n");
    const job = new SshJob(
      node,
      [runScript(script, ["--fast", "a b"], { includes: [join(work, "lib.sh")] })],
      {
        label: "script",
      },
    );
    const { ok, output } = await runJobs([job]);
    expect(ok).toBe(true);
    const lines = stdoutOf(output, "script");
    expect(lines[0]).toBe("script --fast a b hello-from-lib");
    const remote = lines[1] as string;
    expect(remote).toMatch(/\.aiorch-remote\/[0-9a-f]+\/setup\.sh$/);
    const gone = new SshJob(node, [run("test", "!", "-e", remote)], { label: "gone" });
    expect((await runJobs([gone])).ok).toBe(true);
  });

  it("runString runs a body with a shebang and args; capture works", async () => {
    const job = new SshJob(
      node,
      [runString("#!/bin/sh\n# comment\necho body:$1\nexit 0\n", ["arg1"], { capture: "s" })],
      {
        label: "string",
      },
    );
    await runJobs([job]);
    expect(resultOf(job).commands[0]?.stdout).toBe("body:arg1");
    expect(job.details()).toContain("runString: echo body:$1 arg1");
  });
});

describe("push and pull", () => {
  it("a 1 MiB binary file pushed then pulled comes back identical; directories recurse", async () => {
    const data = randomBytes(1024 * 1024);
    const src = join(work, "blob.bin");
    writeFileSync(src, data);
    mkdirSync(join(work, "tree/sub"), { recursive: true });
    writeFileSync(join(work, "tree/a.txt"), "A");
    writeFileSync(join(work, "tree/sub/b.txt"), "B");
    const back = join(work, "back");
    const job = new SshJob(
      node,
      [
        run("rm -rf xfer"),
        push([src], "xfer/"),
        push([join(work, "tree")], "xfer/"),
        run("cmp -s xfer/blob.bin xfer/blob.bin && cat xfer/tree/sub/b.txt"),
        pull(["xfer/blob.bin", "xfer/tree"], `${back}/`),
      ],
      { label: "xfer", critical: true },
    );
    const { ok, output } = await runJobs([job], { critical: true });
    expect(ok).toBe(true);
    expect(stdoutOf(output, "xfer")).toEqual(["B"]);
    expect(readFileSync(join(back, "blob.bin")).equals(data)).toBe(true);
    expect(readFileSync(join(back, "tree/a.txt"), "utf8")).toBe("A");
    expect(readFileSync(join(back, "tree/sub/b.txt"), "utf8")).toBe("B");
    expect(resultOf(job).commands[1]?.files).toBe(1);
  });

  it("file transfers and commands share a single session slot without starving", async () => {
    const one = nodeOn(sshd, "127.0.0.2", { maxSessions: 1 });
    writeFileSync(join(work, "small.txt"), "small\n");
    const jobs = Array.from(
      { length: 4 },
      (_, i) =>
        new SshJob(
          one,
          [
            push([join(work, "small.txt")], `one-${i}/`),
            run(`cat one-${i}/small.txt`),
            runString("echo s"),
          ],
          { label: `one${i}` },
        ),
    );
    const { ok, output } = await runJobs(jobs, { timeout: 20_000 });
    expect(ok).toBe(true);
    expect(jobs.every((j) => j.result()?.ok)).toBe(true);
    expect(stdoutOf(output, "one3")).toEqual(["small", "s"]);
  });

  it("a missing local file is a FILE error naming the file", async () => {
    const job = new SshJob(node, [push([join(work, "nope")], "x/")], {
      label: "nofile",
      critical: true,
    });
    await runJobs([job], { critical: true });
    const err = job.raisedException() as SshFileError;
    expect(err).toBeInstanceOf(SshFileError);
    expect(err.file).toBe(join(work, "nope"));
  });
});

describe("describe and labels", () => {
  it("derives a readable label and describes the job without secrets", () => {
    const n = nodeOn(sshd, "127.0.0.2", { passphrase: "s3cret-pass" });
    const job = new SshJob(n, [
      run("apt-get", "install", "-y", "iperf3", { allowedExits: [100] }),
      pull("/a", "b/"),
    ]);
    expect(job.label).toBe(`apt-get install -y iperf3 +1@127.0.0.2:${sshd.port}`);
    const d = job.describe();
    const text = JSON.stringify(d);
    expect(text).not.toContain("s3cret-pass");
    expect(text).not.toContain("PRIVATE KEY");
    expect(d).toMatchObject({
      kind: "commands",
      node: {
        type: "ssh",
        host: "127.0.0.2",
        port: sshd.port,
        user: "aiorchtest",
        hostKeys: "verify",
      },
      commands: [
        {
          type: "run",
          argv: ["apt-get", "install", "-y", "iperf3"],
          options: { allowedExits: [100] },
        },
        { type: "pull", remotes: ["/a"], local: "b/" },
      ],
    });
    expect(job.details()).toBe(
      `aiorchtest@127.0.0.2:${sshd.port}\napt-get install -y iperf3\npull /a -> b/`,
    );
  });
});
