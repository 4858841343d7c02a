/**
 * What travels back from a worker: output lines (as BullMQ progress, so they are ordered
 * with the job's completion on the queue's event stream) and the job's result, errors as
 * their code, message and facts. Names of queues and Redis keys live here too.
 */
import { AiorchError, type AiorchErrorCode } from "../errors.ts";
import type { CommandOutcome } from "../ssh/exec.ts";
import { SshJobResult } from "../ssh/job.ts";

/** BullMQ key prefix of every aiorch queue. */
export const PREFIX = "aiorch";
/** Pub/sub channel on which the controller asks workers to stop a job. */
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;

/** Queue of a site (`default` without one). */
export function queueName(site: string | undefined): string {
  return site === undefined ? "default" : `site.${site}`;
}

/** Redis key marking a job as cancelled (read by a worker that picks it up late). */
export function cancelKey(jobId: string): string {
  return `${PREFIX}:cancelled:${jobId}`;
}

/** Redis key of a run's state. */
export function runKey(runId: string): string {
  return `${PREFIX}:run:${runId}`;
}

/** An output line: stream, line, host. */
export type WireLine = [stream: "stdout" | "stderr" | "log", line: string, host?: string];

/** Progress data of a queue job. */
export interface WireProgress {
  lines: WireLine[];
}

/** An error as data. */
export interface WireError {
  code: AiorchErrorCode;
  message: string;
  facts: Record<string, string | number | boolean | null | readonly string[]>;
}

/** A command outcome as data. */
export interface WireOutcome {
  index: number;
  label: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  ok: boolean;
  stdout?: string;
  /** base64 of the captured bytes */
  stdoutBytes?: string;
  /** set for a byte capture (`encoding: "buffer"`) */
  encoding?: "buffer";
  files?: number;
  error?: WireError;
}

/** The return value of a queue job. */
export interface WireResult {
  node: string;
  commands: WireOutcome[];
  /** variables captured by the job's commands */
  vars: Record<string, string>;
  /** set when the job failed (critical command failure, unreachable host…) */
  error?: WireError;
}

const FACTS = [
  "label",
  "labels",
  "host",
  "user",
  "port",
  "command",
  "exitCode",
  "signal",
  "timeoutMs",
  "option",
  "file",
  "line",
] as const;

/** Encode an error; anything that is not an AiorchError becomes `JOB_FAILED`. */
export function encodeError(err: unknown): WireError {
  if (!(err instanceof AiorchError))
    return {
      code: "JOB_FAILED",
      message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      facts: {},
    };
  const facts: WireError["facts"] = {};
  const rec = err as unknown as Record<string, unknown>;
  for (const k of FACTS) if (rec[k] !== undefined) facts[k] = rec[k] as string;
  return { code: err.code, message: err.message, facts };
}

/** Rebuild an error sent by a worker. */
export function decodeError(w: WireError): AiorchError {
  return new AiorchError(w.code, w.message, w.facts as Record<string, never>);
}

/** Encode command outcomes. */
export function encodeOutcomes(outcomes: readonly CommandOutcome[]): WireOutcome[] {
  return outcomes.map((o) => ({
    index: o.index,
    label: o.label,
    exitCode: o.exitCode,
    signal: o.signal,
    durationMs: o.durationMs,
    ok: o.ok,
    ...(o.stdout !== undefined ? { stdout: o.stdout } : {}),
    ...(o.stdoutBytes !== undefined ? { stdoutBytes: o.stdoutBytes.toString("base64") } : {}),
    ...(o.encoding === "buffer" ? { encoding: "buffer" as const } : {}),
    ...(o.files !== undefined ? { files: o.files } : {}),
    ...(o.error !== undefined ? { error: encodeError(o.error) } : {}),
  }));
}

/** The SshJobResult a worker's answer stands for. */
export function decodeResult(w: WireResult): SshJobResult {
  const outcomes: CommandOutcome[] = w.commands.map((o) => ({
    index: o.index,
    label: o.label,
    exitCode: o.exitCode,
    signal: o.signal,
    durationMs: o.durationMs,
    ok: o.ok,
    ...(o.encoding === "buffer"
      ? { encoding: "buffer" as const, stdoutBytes: Buffer.from(o.stdoutBytes ?? "", "base64") }
      : {
          ...(o.stdout !== undefined ? { stdout: o.stdout } : {}),
          ...(o.stdoutBytes !== undefined
            ? { stdoutBytes: Buffer.from(o.stdoutBytes, "base64") }
            : {}),
        }),
    ...(o.files !== undefined ? { files: o.files } : {}),
    ...(o.error !== undefined ? { error: decodeError(o.error) } : {}),
  }));
  return new SshJobResult(w.node, outcomes);
}
