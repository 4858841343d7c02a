/**
 * The one public error base of aiorch. Every error aiorch raises is an {@link AiorchError}
 * with a `code` from {@link AiorchErrorCode} and the facts as fields, so callers branch on
 * `err.code` and read `err.label`, `err.host`, `err.command`… instead of parsing messages.
 *
 * @example
 * ```ts
 * try { await scheduler.run(); }
 * catch (err) { if (err instanceof AiorchError && err.code === "CYCLE") console.error(err.cycle); }
 * ```
 */

import { maskSecrets } from "./redact.ts";

/** Closed list of error codes. */
export type AiorchErrorCode =
  /** a dependency cycle; `cycle` holds the path */
  | "CYCLE"
  /** a job requires a job that is not in the same scheduler */
  | "UNKNOWN_REQUIREMENT"
  /** two jobs of one scheduler tree share a label */
  | "DUPLICATE_LABEL"
  /** one job was added to two schedulers */
  | "JOB_IN_TWO_SCHEDULERS"
  /** a job requires itself */
  | "SELF_REQUIREMENT"
  /** a bad argument or option (named in the message) */
  | "INVALID_ARGUMENT"
  /** a job failed (wraps its error as `cause`) */
  | "JOB_FAILED"
  /** a nested scheduler's run was false */
  | "SCHEDULER_FAILED"
  /** a run or a command ran out of time */
  | "TIMEOUT"
  /** a job was cancelled */
  | "CANCELLED"
  /** a forever job's readiness check failed or did not pass within `readyTimeout` */
  | "NOT_READY"
  /** a shutdown hook failed or was too slow */
  | "SHUTDOWN"
  /** TCP connection refused, reset or timed out */
  | "SSH_CONNECT"
  /** host name lookup failed */
  | "SSH_DNS"
  /** no key or password was accepted */
  | "SSH_AUTH"
  /** host key unknown or changed */
  | "SSH_HOST_KEY"
  /** a channel could not be opened, or the connection dropped mid-command */
  | "SSH_CHANNEL"
  /** a command exited with a code or signal that is not allowed */
  | "COMMAND_FAILED"
  /** a local file to push, script or include is missing or unreadable */
  | "FILE"
  /** a trace file could not be read or written */
  | "TRACE"
  /** a journal could not be read or written, or holds something this run cannot use */
  | "JOURNAL"
  /** `--resume` was given the journal of another scenario */
  | "RESUME_MISMATCH"
  /** a scenario file (TS, YAML, JSON) is invalid */
  | "SCENARIO_INVALID"
  /** an OpenSSH client configuration file is invalid or uses what aiorch cannot do */
  | "SSH_CONFIG"
  /** code generation failed */
  | "CODEGEN"
  /** bad command line */
  | "USAGE"
  /** (`--redis`) the Redis server cannot be reached, or stopped answering mid-run */
  | "REDIS_UNREACHABLE"
  /** (`--redis`) the Redis server is older than BullMQ needs; `version` holds its version */
  | "REDIS_VERSION"
  /** (`--redis`) no worker serves a site within the bound; `site` names it */
  | "NO_WORKER"
  /** (`--redis`) a job marked `atMostOnce` was taken over from a worker that died */
  | "NOT_RERUN";

/** Facts an error may carry; which ones depends on the code. */
export interface AiorchErrorFacts {
  label?: string;
  labels?: readonly string[];
  cycle?: readonly string[];
  host?: string;
  user?: string;
  port?: number;
  command?: string;
  exitCode?: number | null;
  signal?: string | null;
  timeoutMs?: number;
  option?: string;
  file?: string;
  line?: number;
  /** Redis address, credentials removed */
  url?: string;
  /** worker site */
  site?: string;
  /** server version */
  version?: string;
  /** a process the failing job started and left running (`left running on HOST (pid N, …)`) */
  leftRunning?: string;
  cause?: unknown;
}

/** Base class of every error aiorch raises. */
export class AiorchError extends Error implements AiorchErrorFacts {
  readonly code: AiorchErrorCode;
  /** the message without the facts prefix, for compact listings */
  readonly shortMessage: string;
  readonly label?: string;
  readonly labels?: readonly string[];
  readonly cycle?: readonly string[];
  readonly host?: string;
  readonly user?: string;
  readonly port?: number;
  readonly command?: string;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly timeoutMs?: number;
  readonly option?: string;
  readonly file?: string;
  readonly line?: number;
  readonly url?: string;
  readonly site?: string;
  readonly version?: string;
  readonly leftRunning?: string;

  constructor(code: AiorchErrorCode, message: string, facts: AiorchErrorFacts = {}) {
    // one redaction policy (src/redact.ts): a declared secret never reaches a message
    const shown = maskSecrets(message);
    super(shown, facts.cause === undefined ? undefined : { cause: facts.cause });
    this.name = new.target.name;
    this.code = code;
    this.shortMessage = shown;
    for (const [k, v] of Object.entries(facts)) {
      if (k !== "cause" && v !== undefined)
        Object.defineProperty(this, k, { value: v, enumerable: true });
    }
  }
}

/** A dependency cycle; `cycle` is the path, first label repeated at the end. */
export class CycleError extends AiorchError {
  constructor(cycle: readonly string[], where?: string) {
    super("CYCLE", `cycle${where ? ` in ${where}` : ""}: ${cycle.join(" -> ")}`, {
      cycle,
      labels: cycle,
    });
  }
}

/** Structural problems found by validation, other than cycles. */
export class ValidationError extends AiorchError {}

/** A nested scheduler whose run was false; `cause` is the critical failure when there is one. */
export class SchedulerFailedError extends AiorchError {}

/** A job that was aborted (timeout, critical failure elsewhere, end of run). */
export class CancelledError extends AiorchError {}

/** Name of a thrown value, for listings: `TypeError`, `COMMAND_FAILED`… */
export function describeError(err: unknown): string {
  if (err instanceof AiorchError) return maskSecrets(err.message);
  if (err instanceof Error) return maskSecrets(`${err.name}: ${err.message}`);
  return maskSecrets(String(err));
}
