import { execFile } from "node:child_process";
import type { JobOutputEvent, RunEvent } from "../../src/events.ts";
import { Scheduler } from "../../src/scheduler.ts";
import type { AbstractJob } from "../../src/job.ts";
import { SshNode, type SshNodeOptions } from "../../src/ssh/index.ts";
import type { Sshd } from "./sshd.ts";

/** A node on the test sshd, host-key verified against its known_hosts. */
export function nodeOn(sshd: Sshd, address: string, extra: Partial<SshNodeOptions> = {}): SshNode {
  return new SshNode({
    host: address,
    port: sshd.port,
    user: sshd.user,
    keys: [sshd.keys.clientKey.path],
    knownHosts: sshd.knownHosts,
    agent: false,
    connectTimeout: 10_000,
    ...extra,
  });
}

/** Run jobs in a scheduler, collecting output events. */
export async function runJobs(
  jobs: AbstractJob[],
  opts: { critical?: boolean; timeout?: number; window?: number } = {},
): Promise<{ ok: boolean; scheduler: Scheduler; output: JobOutputEvent[]; events: RunEvent[] }> {
  const scheduler = new Scheduler(jobs, {
    critical: opts.critical ?? false,
    timeout: opts.timeout ?? 30_000,
    window: opts.window,
  });
  const output: JobOutputEvent[] = [];
  const events: RunEvent[] = [];
  scheduler.on((e) => {
    events.push(e);
    if (e.type === "job-output") output.push(e);
  });
  const ok = await scheduler.run();
  return { ok, scheduler, output, events };
}

/** stdout lines of a job's output events. */
export function stdoutOf(output: JobOutputEvent[], label: string): string[] {
  return output.filter((e) => e.label === label && e.stream === "stdout").map((e) => e.line);
}

/** How the CLI logs in to a test server: `-l user -k key --known-hosts FILE`. */
export interface CliLogin {
  user: string;
  key: string;
  knownHosts: string;
}

/** Run `aiorch SUB <login> ARGS…`; resolves with the exit code, stdout as bytes (never rejects). */
export function aiorchBytes(
  login: CliLogin,
  args: string[],
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const common = ["-l", login.user, "-k", login.key, "--known-hosts", login.knownHosts];
  const [sub, ...rest] = args;
  return new Promise((resolve) => {
    execFile(
      "node",
      ["bin/aiorch.mjs", sub as string, ...common, ...rest],
      { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr: stderr.toString("utf8"),
        }),
    );
  });
}

/** {@link aiorchBytes} with stdout as text. */
export async function aiorchAs(
  login: CliLogin,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await aiorchBytes(login, args);
  return { ...r, stdout: r.stdout.toString("utf8") };
}

/**
 * Run `aiorch SUB -l user -k key --known-hosts FILE ARGS…` against the test sshd;
 * resolves with the exit code and outputs (never rejects).
 */
export function aiorchCli(
  sshd: Sshd,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return aiorchAs(
    { user: sshd.user, key: sshd.keys.clientKey.path, knownHosts: sshd.knownHosts },
    args,
  );
}
