/**
 * `npm run bench -- memory`: peak RSS of `aiorch run --record` (plain view) for a 47 MB
 * capture and a 600 MB line without a newline, against a run printing nothing measured in
 * the same session. Target: under 300 MB for both, whatever the output size (the views
 * and the trace keep bounded tails; -o files get every byte).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printTable } from "./util.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "output.scenario.ts");

/** Peak RSS (MB) of one `aiorch run`, from /usr/bin/time; and the trace size. */
function peakRss(
  which: string,
  bytes: number,
  dir: string,
): Promise<{ mb: number; trace: number; ms: number }> {
  const trace = join(dir, `${which}.trace.json`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      "/usr/bin/time",
      ["-f", "%M", "node", "bin/aiorch.mjs", "run", FIXTURE, "--plain", "--record", trace],
      {
        env: { ...process.env, AIORCH_BENCH_CASE: which, AIORCH_BENCH_BYTES: String(bytes) },
        maxBuffer: 1024 * 1024 * 1024,
        encoding: "buffer",
      },
      (err, _stdout, stderr) => {
        const kb = Number(/(\d+)\s*$/.exec(stderr.toString())?.[1]);
        if (!Number.isFinite(kb)) return reject(err ?? new Error(stderr.toString()));
        resolve({ mb: kb / 1024, trace: statSync(trace).size, ms: Date.now() - started });
      },
    );
  });
}

export async function benchMemory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "aiorch-bench-memory-"));
  try {
    const idle = await peakRss("idle", 0, dir);
    const rows: (string | number)[][] = [
      ["nothing printed (baseline)", idle.mb.toFixed(0), "1.00", idle.trace, idle.ms],
    ];
    for (const [label, which, bytes] of [
      ["47 MB capture", "capture", 47_000_000],
      ["600 MB line, no newline", "long-line", 600_000_000],
    ] as const) {
      const r = await peakRss(which, bytes, dir);
      rows.push([label, r.mb.toFixed(0), (r.mb / idle.mb).toFixed(2), r.trace, r.ms]);
    }
    printTable(
      "peak RSS of aiorch run --record (target < 300 MB)",
      ["case", "peak RSS MB", "x baseline", "trace bytes", "ms"],
      rows,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
