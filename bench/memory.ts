/**
 * `npm run bench -- memory`: peak RSS of
 * 1. `aiorch run --record` (plain view) for a 47 MB capture and a 600 MB line without a
 *    newline, against a run printing nothing measured in the same session;
 * 2. `aiorch ssh -o DIR` and `aiorch ssh -r` against a real sshd on loopback for 600 MB
 *    (one line without a newline, and random bytes), against `aiorch ssh` of `true`; the
 *    bytes received (the .out file, or stdout written to a file) are checked to be all 600 MB.
 * Target: under 300 MB for every case, whatever the output size (the views and the trace
 * keep bounded tails; -o files and -r get every byte).
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sshd, startSshd } from "../test/ssh/sshd.ts";
import { printTable } from "./util.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "output.scenario.ts");
const SIZE = 600_000_000;

/** Peak RSS (MB, from /usr/bin/time) and duration of `node bin/aiorch.mjs ARGS`; stdout to `out`. */
function peakRss(
  args: string[],
  opts: { env?: Record<string, string>; out?: string } = {},
): Promise<{ mb: number; ms: number }> {
  const started = Date.now();
  const fd = openSync(opts.out ?? "/dev/null", "w");
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "%M", "node", "bin/aiorch.mjs", ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", fd, "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4096);
    });
    child.on("error", reject);
    child.on("close", () => {
      closeSync(fd);
      const kb = Number(/(\d+)\s*$/.exec(stderr)?.[1]);
      if (!Number.isFinite(kb)) reject(new Error(stderr));
      else resolve({ mb: kb / 1024, ms: Date.now() - started });
    });
  });
}

/** Section 1: `aiorch run --record` of the output fixture. */
async function runCases(dir: string): Promise<void> {
  const record = (which: string, bytes: number) => {
    const trace = join(dir, `${which}.trace.json`);
    return peakRss(["run", FIXTURE, "--plain", "--record", trace], {
      env: { AIORCH_BENCH_CASE: which, AIORCH_BENCH_BYTES: String(bytes) },
    }).then((r) => ({ ...r, trace: statSync(trace).size }));
  };
  const idle = await record("idle", 0);
  const rows: (string | number)[][] = [
    ["nothing printed (baseline)", idle.mb.toFixed(0), "1.00", idle.trace, idle.ms],
  ];
  for (const [label, which, bytes] of [
    ["47 MB capture", "capture", 47_000_000],
    ["600 MB line, no newline", "long-line", SIZE],
  ] as const) {
    const r = await record(which, bytes);
    rows.push([label, r.mb.toFixed(0), (r.mb / idle.mb).toFixed(2), r.trace, r.ms]);
  }
  printTable(
    "peak RSS of aiorch run --record (target < 300 MB)",
    ["case", "peak RSS MB", "x baseline", "trace bytes", "ms"],
    rows,
  );
}

/** Section 2: `aiorch ssh -o DIR` / `-r` of 600 MB against a loopback sshd. */
async function sshCases(dir: string): Promise<void> {
  let sshd: Sshd | undefined;
  try {
    sshd = await startSshd({ addresses: ["127.0.0.14"] });
    const target = `127.0.0.14:${sshd.port}`;
    const login = ["-l", sshd.user, "-k", sshd.keys.clientKey.path];
    const common = [...login, "--known-hosts", sshd.knownHosts, "-t", target, "--no-live"];
    const commands = {
      line: `head -c ${SIZE} /dev/zero | tr '\\000' x`,
      random: `head -c ${SIZE} /dev/urandom`,
    };
    const idle = await peakRss(["ssh", ...common, "--", "true"]);
    const rows: (string | number)[][] = [
      ["ssh true (baseline)", idle.mb.toFixed(0), "1.00", 0, idle.ms],
    ];
    for (const [label, mode, command] of [
      ["-o DIR, 600 MB line, no newline", "-o", commands.line],
      ["-o DIR, 600 MB random bytes", "-o", commands.random],
      ["-r, 600 MB line, no newline", "-r", commands.line],
    ] as const) {
      const out = join(dir, `${mode === "-o" ? "out" : "raw"}-${label.length}`);
      const r =
        mode === "-o"
          ? await peakRss(["ssh", ...common, "-o", out, "--", command])
          : await peakRss(["ssh", ...common, "-r", "--", command], { out });
      const file = mode === "-o" ? join(out, `${target}.out`) : out;
      const got = existsSync(file) ? statSync(file).size : 0;
      rows.push([label, r.mb.toFixed(0), (r.mb / idle.mb).toFixed(2), got, r.ms]);
      rmSync(out, { recursive: true, force: true });
      if (got !== SIZE) throw new Error(`${label}: ${got} bytes received, not ${SIZE}`);
    }
    printTable(
      "peak RSS of aiorch ssh against a loopback sshd (target < 300 MB)",
      ["case", "peak RSS MB", "x baseline", "bytes received", "ms"],
      rows,
    );
  } finally {
    await sshd?.stop();
  }
}

export async function benchMemory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "aiorch-bench-memory-"));
  try {
    await runCases(dir);
    await sshCases(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
