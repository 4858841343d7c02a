/**
 * Helpers of the scale-out tests: the `aiorch run` of the test scenario, marker counts,
 * the processes left under the test sshd, and what a trace says once times are dropped.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sshd } from "../ssh/sshd.ts";

export const SCENARIO = "test/fixtures/scale.scenario.ts";
/** The module jobs scenario. */
export const MODULES = "test/fixtures/scale-module.scenario.ts";
/** The atMostOnce module job scenario. */
export const ONCE = "test/fixtures/scale-once.scenario.ts";

/** A world-writable directory for the marker files the remote user appends to. */
export function markerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiorch-marks-"));
  chmodSync(dir, 0o777);
  return dir;
}

/** Executions of job `i`: lines in its marker file. */
export function runsOf(dir: string, i: number): number {
  const f = join(dir, `job-${i}`);
  return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean).length : 0;
}

/** `--param` arguments of the scenario against the test sshd. */
export function scenarioParams(
  sshd: Sshd,
  p: {
    marks: string;
    jobs?: number;
    sleep?: number;
    once?: boolean;
    site?: string;
    /** index of a job whose definition differs (its command) */
    change?: number;
  },
): string[] {
  const params: Record<string, string | number> = {
    port: sshd.port,
    user: sshd.user,
    key: sshd.keys.clientKey.path,
    knownHosts: sshd.knownHosts,
    hosts: sshd.addresses.join(","),
    marks: p.marks,
    jobs: p.jobs ?? 40,
    sleep: p.sleep ?? 0,
    once: p.once ? 1 : 0,
    site: p.site ?? "",
    ...(p.change === undefined ? {} : { change: p.change }),
  };
  return Object.entries(params).flatMap(([k, v]) => ["--param", `${k}=${v}`]);
}

/** A started `aiorch run` of the scenario. */
export interface RunProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** exit code (128 for a signal) */
  exit: Promise<number>;
}

const runs: ChildProcess[] = [];

/** SIGKILL the runs a failed test left behind (a run leaves nothing behind). */
export function killLeftoverRuns(): void {
  for (const c of runs.splice(0))
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/** Start `aiorch run SCENARIO --plain ARGS…`. */
export function startRun(args: string[]): RunProcess {
  return startRunOf(SCENARIO, ["--plain", ...args]);
}

/** Start `aiorch run FILE ARGS…`. */
export function startRunOf(file: string, args: string[]): RunProcess {
  const child = spawn("node", ["bin/aiorch.mjs", "run", file, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  runs.push(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 0))),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Resolves when `get()` matches `re`, polling (the outputs are accumulated strings). */
export async function waitFor(get: () => string, re: RegExp, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!re.test(get())) {
    if (Date.now() > until) throw new Error(`no ${re} within ${timeoutMs} ms in:\n${get()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parentOf(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    return { ppid, comm };
  } catch {
    return undefined;
  }
}

/** Processes under this test's sshd that are not sshd itself: the remote commands left. */
export function remoteProcesses(sshd: Sshd): string[] {
  const left: string[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const me = parentOf(pid);
    if (!me || me.comm === "sshd" || me.comm.startsWith("sshd-")) continue;
    for (let p = me.ppid, hops = 0; p > 1 && hops < 50; hops++) {
      if (p === sshd.pid) {
        left.push(`${pid} ${me.comm}`);
        break;
      }
      const up = parentOf(p);
      if (!up) break;
      p = up.ppid;
    }
  }
  return left;
}
