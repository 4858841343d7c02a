/**
 * What travels back from a worker: output lines (as BullMQ progress, so they are ordered
 * with the job's completion on the queue's event stream) and the job's result, errors as
 * their code, message and facts. Names of queues and Redis keys live here too.
 */
import { AiorchError, type AiorchErrorCode } from "../errors.ts";
import type { CommandOutcome } from "../ssh/exec.ts";
import { SshJobResult } from "../ssh/job.ts";
import type { JsonValue } from "../trace/types.ts";

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

/** A command outcome's fields, with its captured bytes as `B` and its error as `E`. */
export interface OutcomeShape<B, E> {
  index: number;
  label: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  ok: boolean;
  stdout?: string;
  stdoutBytes?: B;
  /** set for a byte capture (`encoding: "buffer"`) */
  encoding?: "buffer";
  files?: number;
  error?: E;
}

/** A command outcome as data: the captured bytes as base64. */
export type WireOutcome = OutcomeShape<string, WireError>;

/** The return value of a queue job. */
export interface WireResult {
  node: string;
  commands: WireOutcome[];
  /** variables captured by the job's commands (set by a module job's function) */
  vars: Record<string, string>;
  /** what a module job's function returned (absent: undefined) */
  value?: JsonValue;
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

/**
 * One command outcome mapped field by field, the captured bytes and the error through
 * `bytes` and `error`: the one shape both directions share.
 */
function mapOutcome<B, E, OB, OE>(
  o: OutcomeShape<B, E>,
  bytes: (b: B) => OB,
  error: (e: E) => OE,
): OutcomeShape<OB, OE> {
  return {
    index: o.index,
    label: o.label,
    exitCode: o.exitCode,
    signal: o.signal,
    durationMs: o.durationMs,
    ok: o.ok,
    ...(o.stdout !== undefined ? { stdout: o.stdout } : {}),
    ...(o.stdoutBytes !== undefined ? { stdoutBytes: bytes(o.stdoutBytes) } : {}),
    ...(o.encoding === "buffer" ? { encoding: "buffer" as const } : {}),
    ...(o.files !== undefined ? { files: o.files } : {}),
    ...(o.error !== undefined ? { error: error(o.error) } : {}),
  };
}

/** Encode command outcomes. */
export function encodeOutcomes(outcomes: readonly CommandOutcome[]): WireOutcome[] {
  return outcomes.map((o) =>
    mapOutcome(o as OutcomeShape<Buffer, AiorchError>, (b) => b.toString("base64"), encodeError),
  );
}

/** The SshJobResult a worker's answer stands for. */
export function decodeResult(w: WireResult): SshJobResult {
  const outcomes = w.commands.map((o) => {
    const out = mapOutcome(o, (b: string) => Buffer.from(b, "base64"), decodeError);
    // a byte capture always has its bytes (an empty one too)
    if (out.encoding === "buffer") out.stdoutBytes ??= Buffer.alloc(0);
    return out as CommandOutcome;
  });
  return new SshJobResult(w.node, outcomes);
}
