import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { AiorchError } from "../errors.ts";
import { TRACE_VERSION, type Trace } from "./types.ts";
import { validateTrace } from "./validate.ts";

/** A temp file name beside `file` (same folder, so the rename is atomic). */
function tempName(file: string): string {
  return join(
    dirname(file),
    `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
}

function serialize(trace: Trace): string {
  return `${JSON.stringify(trace, null, 1)}\n`;
}

/**
 * Write a trace atomically: to a temp file in the same folder, flushed, then renamed over
 * `file`. Readers see the old file or the complete new one, never a half-written one.
 *
 * @example
 * ```ts
 * await writeTrace({ file: "run.trace.json", trace: recorder.finish({ ok }) });
 * ```
 */
export async function writeTrace({ file, trace }: { file: string; trace: Trace }): Promise<void> {
  const tmp = tempName(file);
  try {
    const fh = await open(tmp, "w", 0o644);
    try {
      await fh.writeFile(serialize(trace));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new AiorchError("TRACE", `cannot write trace ${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
}

/** Same as {@link writeTrace}, synchronously (for a process about to exit). */
export function writeTraceSync({ file, trace }: { file: string; trace: Trace }): void {
  const tmp = tempName(file);
  try {
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, serialize(trace));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new AiorchError("TRACE", `cannot write trace ${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
}

/**
 * Read and check a trace file: JSON, `format: "aiorch-trace"`, a supported `version`, a
 * `scenario` tree. Throws a `TRACE` error naming the file and the problem.
 */
export async function readTrace({ file }: { file: string }): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new AiorchError("TRACE", `cannot read trace ${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AiorchError(
      "TRACE",
      `${file} is not JSON (expected a trace written by \`aiorch run --record\`): ${(err as Error).message}`,
      { file },
    );
  }
  return checkTrace({ data, file });
}

/**
 * Check that `data` is a trace this version can read, every field's type and range
 * (src/trace/validate.ts); returns it typed. Throws a `TRACE` error naming the file and the
 * JSON path of the first problem: `run.startedAt: expected a number, got a string`.
 */
export function checkTrace({ data, file = "trace" }: { data: unknown; file?: string }): Trace {
  const t = data as Partial<Trace> | null;
  if (!t || typeof t !== "object" || t.format !== "aiorch-trace")
    throw new AiorchError(
      "TRACE",
      `${file} is not an aiorch trace: expected the JSON object written by \`aiorch run --record\` (with "format": "aiorch-trace")`,
      { file },
    );
  if (typeof t.version !== "number" || Math.floor(t.version) !== TRACE_VERSION)
    throw new AiorchError(
      "TRACE",
      `${file}: trace version ${String(t.version)} is not supported (this aiorch reads version ${TRACE_VERSION})`,
      { file },
    );
  return validateTrace({ data, file });
}
