/**
 * The fault matrix: every way a run ends, for `aiorch run` and `aiorch ssh`, against a real
 * sshd, with remote commands that ignore TERM. Each case checks the exit code, the summary
 * or debrief, the trace when asked, and that no process of its own sshd is left (each case
 * has its own sshd: its session processes carry its marker, see sshd.ts).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readTrace } from "../../src/trace/index.ts";
import { createKeys, removeKeys, type Sshd, type SshKeys, startSshd } from "./sshd.ts";

const BIN = join(import.meta.dirname, "../../bin/aiorch.mjs");
const SCENARIO = join(import.meta.dirname, "fixtures/faults.scenario.ts");

let keys: SshKeys;
const started: Sshd[] = [];

beforeAll(() => {
  keys = createKeys();
});

afterAll(async () => {
  // stop() also fails the file if any session process is left
  await Promise.all(started.map((s) => s.stop()));
  removeKeys(keys);
});

async function newSshd(addresses = ["127.0.0.2"]): Promise<Sshd> {
  const sshd = await startSshd({ keys, addresses });
  started.push(sshd);
  return sshd;
}

interface CliRun {
  code: number | null;
  /** the signal that ended the CLI, if one did (then `code` is null) */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from the first signal (or from the start) to the exit */
  exitMs: number;
}

/**
 * Run the CLI; the first of `signals` is sent once `after` shows up on stdout, each next one
 * once the CLI has acknowledged the previous one on stderr ("again to quit now"), so a
 * second signal always reaches a run that is still stopping, however loaded the machine.
 */
function cli(
  args: string[],
  opts: { env?: Record<string, string>; after?: RegExp; signals?: NodeJS.Signals[] } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    let t0 = Date.now();
    const pending = opts.signals ? [...opts.signals] : [];
    let acked = 0; // acknowledgements of a signal seen on stderr
    let sent = 0;
    const maybeSignal = () => {
      const sig = pending[0];
      if (!sig || !opts.after?.test(stdout) || acked < sent) return;
      pending.shift();
      if (sent === 0) t0 = Date.now();
      sent++;
      child.kill(sig);
    };
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      maybeSignal();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      acked = stderr.split("again to quit now").length - 1;
      maybeSignal();
    });
    child.on("error", reject);
    // resolve on "close", not "exit": on a loaded machine the last stdout chunks may still
    // be in the pipe when the process has exited (the debrief went missing that way)
    let exitMs = 0;
    child.on("exit", () => {
      exitMs = Date.now() - t0;
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, exitMs }));
  });
}

function runScenario(sshd: Sshd, which: string, extra: string[] = [], signals?: NodeJS.Signals[]) {
  return cli(["run", SCENARIO, "--plain", ...extra], {
    env: {
      FAULT_CASE: which,
      FAULT_PORT: String(sshd.port),
      FAULT_KEY: keys.clientKey.path,
      FAULT_KNOWN_HOSTS: sshd.knownHosts,
    },
    ...(signals ? { after: /hang started/, signals } : {}),
  });
}

async function expectNothingLeft(sshd: Sshd): Promise<void> {
  // sessions end as their connections close: give them a moment, then none may be left
  expect(await sshd.waitNoLeftovers(3000)).toEqual([]);
}

// each case starts the CLI (tsx compiles it): generous bounds for a loaded machine
const SLOW = { timeout: 90_000 };

describe.concurrent("aiorch run: every end stops every remote process group", SLOW, () => {
  test("ok: a TERM-ignoring service is stopped (KILL after the grace), exit 0", async () => {
    const sshd = await newSshd();
    const r = await runScenario(sshd, "ok");
    expect(r.stdout).toContain("work done");
    expect(r.stdout).toContain("serving");
    expect(r.code).toBe(0);
    await expectNothingLeft(sshd);
  });

  test("critical failure: the debrief names it, exit 1", async () => {
    const sshd = await newSshd();
    const r = await runScenario(sshd, "critical");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('critical job "bad" failed');
    expect(r.stdout).toContain("exited 3");
    await expectNothingLeft(sshd);
  });

  test("global timeout: exit 1 with the trace written", async () => {
    const sshd = await newSshd();
    const dir = mkdtempSync(join(tmpdir(), "aiorch-faults-"));
    const trace = join(dir, "t.json");
    const r = await runScenario(sshd, "timeout", ["--timeout", "1500", "--record", trace]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("timed out after 1500 ms");
    expect((await readTrace({ file: trace })).run).toMatchObject({ ok: false, reason: "timeout" });
    await expectNothingLeft(sshd);
  });

  test("per-command timeout: the job fails, the run stays true, exit 0", async () => {
    const sshd = await newSshd();
    const r = await runScenario(sshd, "command-timeout");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\"trap '' TERM; sleep 72\" timed out after 500 ms");
    expect(r.stdout).toContain("after"); // the next command of the non-critical job ran
    await expectNothingLeft(sshd);
  });

  test("--strict: the same run exits 1 (a job failed)", async () => {
    const sshd = await newSshd();
    const r = await runScenario(sshd, "command-timeout", ["--strict"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("1 job(s) with an exception");
    await expectNothingLeft(sshd);
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    test(`${signal}: cancels, prints the debrief, writes the trace, exit ${code}`, async () => {
      const sshd = await newSshd();
      const dir = mkdtempSync(join(tmpdir(), "aiorch-faults-"));
      const trace = join(dir, "t.json");
      const r = await runScenario(sshd, "signal", ["--record", trace], [signal]);
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(`${signal}, cancelling the run`);
      expect(r.stdout).toContain("cancelled");
      expect(r.exitMs).toBeLessThan(10_000);
      expect((await readTrace({ file: trace })).run).toMatchObject({ ok: false, signal });
      await expectNothingLeft(sshd);
    });

  test("a second SIGINT quits at once, KILLing what still runs remotely", async () => {
    const sshd = await newSshd();
    const dir = mkdtempSync(join(tmpdir(), "aiorch-faults-"));
    const trace = join(dir, "t.json");
    const r = await runScenario(sshd, "signal-stuck", ["--record", trace], ["SIGINT", "SIGINT"]);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 130, signal: null });
    // the run waits a minute for "deaf" after the first signal: the second one ended it
    expect(r.exitMs).toBeLessThan(30_000);
    expect(existsSync(trace)).toBe(true);
    await expectNothingLeft(sshd);
  });

  test("exits promptly after the debrief whatever abandoned jobs hold (timer, interval)", async () => {
    const sshd = await newSshd();
    const t0 = Date.now();
    const r = await runScenario(sshd, "held-open");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('critical job "fails" failed');
    // the holder keeps a 30 s timer and an interval: the exit does not wait for them
    expect(Date.now() - t0).toBeLessThan(15_000);
    await expectNothingLeft(sshd);
  });

  test("a job that never settles: the run is cancelled, debrief and trace, exit 1", async () => {
    const sshd = await newSshd();
    const dir = mkdtempSync(join(tmpdir(), "aiorch-faults-"));
    const trace = join(dir, "t.json");
    const r = await runScenario(sshd, "never-settles", ["--record", trace]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"stuck" never settle');
    expect(r.stdout).toContain("cancelled");
    expect((await readTrace({ file: trace })).run).toMatchObject({ ok: false });
  });
});

/** stdout once both hosts' commands print their start */
const BOTH_STARTED =
  /127\.0\.0\.2.*started[\s\S]*127\.0\.0\.3.*started|127\.0\.0\.3.*started[\s\S]*127\.0\.0\.2.*started/;

describe.concurrent("aiorch ssh: signals and --total-timeout", SLOW, () => {
  const sshArgs = (sshd: Sshd, extra: string[]) => [
    "ssh",
    "-l",
    sshd.user,
    "-k",
    keys.clientKey.path,
    "--known-hosts",
    sshd.knownHosts,
    ...sshd.addresses.flatMap((a) => ["-t", `${a}:${sshd.port}`]),
    ...extra,
    "--",
    "trap '' TERM; echo started; sleep 72",
  ];

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    test(`${signal}: every host's command stopped, summary with interrupted hosts, exit ${code}`, async () => {
      const sshd = await newSshd(["127.0.0.2", "127.0.0.3"]);
      const r = await cli(sshArgs(sshd, []), {
        after: BOTH_STARTED,
        signals: [signal],
      });
      expect(r.code).toBe(code);
      expect(r.stderr).toContain("2 hosts: 0 ok, 0 failed, 0 unreachable, 2 interrupted");
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.2:${sshd.port}\\s+interrupted`));
      expect(r.exitMs).toBeLessThan(10_000);
      await expectNothingLeft(sshd);
    });

  test("a second SIGINT quits at once and still KILLs the remote commands", async () => {
    const sshd = await newSshd(["127.0.0.2", "127.0.0.3"]);
    // both hosts' commands running: a command whose channel is still opening when the process
    // quits cannot be signalled (OpenSSH does not stop a session whose connection drops)
    const r = await cli(sshArgs(sshd, []), { after: BOTH_STARTED, signals: ["SIGINT", "SIGINT"] });
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 130, signal: null });
    expect(r.stderr).toContain("SIGINT again, quitting now");
    await expectNothingLeft(sshd);
  });

  test("--total-timeout stops TERM-ignoring commands on every host", async () => {
    const sshd = await newSshd(["127.0.0.2", "127.0.0.3"]);
    const r = await cli(sshArgs(sshd, ["--total-timeout", "1500"]));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("2 hosts: 0 ok, 2 failed");
    expect(r.stderr).toContain("cancelled: timed out after 1500 ms");
    await expectNothingLeft(sshd);
  });
});

describe("a stop that cannot be confirmed", () => {
  test("a command that left its process group is named in the debrief with its host", async () => {
    const sshd = await newSshd();
    const { nodeOn } = await import("./helpers.ts");
    const { Scheduler } = await import("../../src/scheduler.ts");
    const { run, SshJob } = await import("../../src/ssh/index.ts");
    const node = nodeOn(sshd, "127.0.0.2");
    // setsid: the sleep leads its own session, out of reach of the group's TERM and KILL,
    // and holds the channel open; "started" once it has left the group (its session id is
    // its pid): a TERM before that, on a loaded machine, would reach it and nothing escapes
    const job = new SshJob(
      node,
      [
        run(
          'setsid sleep 71 & while [ "$(ps -o sid= -p $! | tr -d " ")" != "$!" ]; do sleep 0.01; done; echo started',
        ),
      ],
      { label: "escaped" },
    );
    const s = new Scheduler([job], { critical: false });
    // cancel once the command runs (a timeout could come before the connection, on a loaded
    // machine, and then nothing would have escaped)
    const ac = new AbortController();
    s.on((e) => {
      if (e.type === "job-output" && e.line === "started") ac.abort();
    });
    expect(await s.run({ signal: ac.signal })).toBe(false);
    expect(s.debrief()).toContain(`stop not confirmed on ${node.name}`);
    expect(sshd.leftovers().map((p) => p.cmdline)).toEqual(["sleep 71"]);
    for (const p of sshd.leftovers()) process.kill(p.pid, "SIGKILL");
  });
});
