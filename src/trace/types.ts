/**
 * The trace of one run: a versioned JSON document written by `aiorch run --record FILE`
 * and {@link recordRun}, read by `aiorch codegen`. Field by field reference: docs/trace.md.
 *
 * Times are epoch milliseconds; `at` fields are milliseconds since the run started.
 * Secrets (passwords, passphrases, key contents) are never recorded: they are removed from
 * node descriptions and replaced by `***` wherever they would appear in recorded text.
 */

/** Current version of the trace format; readers reject other major versions. */
export const TRACE_VERSION = 1;

import type { JsonValue } from "../json.ts";

export type { JsonValue };

/** The whole trace file. */
export interface Trace {
  /** always `"aiorch-trace"`: tells a trace from other JSON files */
  format: "aiorch-trace";
  /** format version, {@link TRACE_VERSION} */
  version: number;
  /** when the trace was written, ISO 8601 */
  createdAt: string;
  /** the scenario file that was run (absolute path), when known: codegen resolves
   *  relative module paths of function jobs against its folder */
  file?: string;
  /** how the run went */
  run: TraceRun;
  /** the root scheduler, with every job and nested scheduler, in insertion order */
  scenario: TraceScheduler;
  /** the bounds applied to captured output */
  limits: TraceLimits;
}

/** Outcome of the whole run. */
export interface TraceRun {
  /** epoch ms when the root scheduler started (0 if it never started) */
  startedAt: number;
  /** epoch ms when the recording ended */
  endedAt: number;
  /** `endedAt - startedAt` */
  elapsed: number;
  /** what `run()` resolved */
  ok: boolean;
  /**
   * why it ended: the scheduler's reason, `"interrupted"` when a SIGINT/SIGTERM cancelled it,
   * `"error"` when `run()` rejected (invalid scenario), `"unfinished"` when written mid-run
   */
  reason: "ok" | "timeout" | "critical" | "cancelled" | "interrupted" | "error" | "unfinished";
  /** the signal that interrupted the run (`SIGINT`, `SIGTERM`) */
  signal?: string;
  /** run options that overrode the scheduler's (CLI `--timeout`, `--window`) */
  timeout?: number;
  window?: number;
  /** the error `run()` rejected with, when `reason` is `"error"` */
  error?: TraceError;
}

/** Bounds on captured output. */
export interface TraceLimits {
  /** most bytes (UTF-8) of output lines kept per job */
  jobOutputBytes: number;
  /** most bytes (UTF-8) of output lines kept for the whole run */
  totalOutputBytes: number;
  /** most bytes of a job's result (as JSON) kept; larger results are summarized */
  resultBytes: number;
}

/** What every recorded node of the tree has: a job or a nested scheduler. */
export interface TraceNodeBase {
  /** the label, unique in the whole tree */
  label: string;
  /** true when the label was generated (`job-3`), not given */
  generatedLabel?: boolean;
  /** effective criticality during the run (own value, else inherited) */
  critical: boolean;
  /** the job's own `critical`, when it set one (absent: inherited) */
  criticalSet?: boolean;
  /** a forever job: the run does not wait for it */
  forever: boolean;
  /** labels of the jobs it requires, in the same scheduler */
  requires: string[];
  /** last state: idle (never started), scheduled, running, done or cancelled */
  state: "idle" | "scheduled" | "running" | "done" | "cancelled";
  /** ms since run start when it started running */
  startedAt?: number;
  /** ms since run start when it ended (done or cancelled) */
  endedAt?: number;
  /** `endedAt - startedAt` */
  duration?: number;
  /** the exception it ended with (failure, or why it was cancelled) */
  error?: TraceError;
}

/** A job that is not a scheduler. */
export interface TraceJob extends TraceNodeBase {
  type: "job";
  /** the class name (`Job`, `SshJob`…) */
  kind: string;
  /** what the job is: see {@link TraceWork} */
  work: TraceWork;
  /** the value it returned, as JSON; absent when not JSON-representable */
  result?: JsonValue;
  /** not run: done in the run this one resumed, its result restored from the journal */
  restored?: true;
  /** failed attempts of a job with a `retry` option, in order (the last one may be followed by a success) */
  attempts?: TraceAttempt[];
  /**
   * set when the result was not recorded as is: `"projected"` (an object that is not plain
   * data, recorded as `JSON.stringify` shows it), `"not-json"` (absent: cycles, functions…)
   * or `"too-large"` (absent: over `limits.resultBytes`)
   */
  resultNote?: "projected" | "not-json" | "too-large";
  /** captured output, bounded */
  output: TraceOutput;
}

/** A failed attempt of a retried job. */
export interface TraceAttempt {
  /** 1 for the first attempt */
  attempt: number;
  /** ms since run start when it failed */
  at: number;
  error: TraceError;
  /** ms waited before the next attempt (absent: it was the last) */
  delay?: number;
  /** why no attempt followed although some were left */
  gaveUp?: string;
}

/** A nested (or the root) scheduler. */
export interface TraceScheduler extends TraceNodeBase {
  type: "scheduler";
  /** the scheduler's own timeout in ms */
  timeout?: number;
  /** the scheduler's own window */
  window?: number;
  /** why its run ended (absent when it did not run) */
  reason?: "ok" | "timeout" | "critical" | "cancelled";
  /** its direct jobs and schedulers, in insertion order */
  jobs: TraceNode[];
}

/** A node of the recorded tree. */
export type TraceNode = TraceJob | TraceScheduler;

/**
 * What a job was, from its `describe()`:
 * - `commands`: an SSH or local command list (`node` and `commands` as the SSH layer
 *   describes them, secrets removed);
 * - `function`: a function exported by a module (`module` as given to the job's `source`);
 * - `replay`: a replay job generated from an earlier trace (its recorded duration/outcome);
 * - `opaque`: any other function: only its timing and outcome can be replayed.
 */
export type TraceWork =
  | { kind: "opaque" }
  | { kind: "function"; module: string; name: string; args?: JsonValue[] }
  | { kind: "commands"; node: Record<string, JsonValue>; commands: Record<string, JsonValue>[] }
  | { kind: "replay"; replay: ReplaySpec }
  | { kind: string; [key: string]: JsonValue };

/** What a replay job reproduces. */
export interface ReplaySpec {
  /** how long it runs, ms */
  duration: number;
  /** `ok` returns `result`; `error` throws `error`; `cancelled` waits until aborted */
  outcome: "ok" | "error" | "cancelled";
  /** the value returned when `outcome` is `ok` */
  result?: JsonValue;
  /** the error thrown when `outcome` is `error` */
  error?: TraceError;
  /** output lines to emit, with their time offset from the job's start (ms) */
  output?: TraceLine[];
}

/** An exception, as recorded. */
export interface TraceError {
  /** `Error.name` (`AiorchError`, `TypeError`…), or `typeof` for non-errors */
  name: string;
  /** the message (the value itself, stringified, for non-errors) */
  message: string;
  /** the `AiorchError` code, when it is one */
  code?: string;
  /** facts of an `AiorchError` (host, command, exitCode, signal…) */
  facts?: Record<string, JsonValue>;
}

/** Captured output of a job. */
export interface TraceOutput {
  /** lines kept, in order */
  lines: TraceLine[];
  /** true when lines were dropped because a size cap was reached */
  truncated: boolean;
  /** lines dropped */
  droppedLines: number;
  /** bytes dropped */
  droppedBytes: number;
}

/** One line of output. */
export interface TraceLine {
  /** ms since run start (in a {@link ReplaySpec}: since the job's start) */
  at: number;
  /** `stdout`/`stderr` of a command, or `log` for `ctx.log()` */
  stream: "stdout" | "stderr" | "log";
  /** the line, without its newline */
  line: string;
  /** the host that printed it (SSH and local command jobs) */
  host?: string;
}
