/**
 * The plain data of a run, shared by the engine and everything that reads it (views, the
 * recorder, user listeners): states, end reasons, resources, and the plan, a tree of plain
 * nodes built once per run and carried by the `run-start` event. Imports nothing.
 */

/** Lifecycle of a job within one run. */
export type JobState = "idle" | "scheduled" | "running" | "done" | "cancelled";

/** Why a run ended. */
export type EndReason = "ok" | "timeout" | "critical" | "cancelled";

/**
 * A shared resource (an SSH connection, a temp dir…) registered by a job with
 * `JobContext.use`: closed once, after the shutdown of the outermost run, in
 * decreasing `closeOrder` (remotest SSH hops first), each group in parallel.
 */
export interface Resource {
  close(): Promise<void>;
  /** higher closes first @default 0 */
  readonly closeOrder?: number;
  /** name used when closing it fails */
  readonly name?: string;
}

/** How a job describes itself to traces and codegen. */
export type JobDescription =
  | { kind: "opaque" }
  | { kind: "function"; module: string; name: string; args?: readonly unknown[] }
  | { kind: "scheduler" }
  | {
      kind: "commands";
      node: Record<string, unknown>;
      commands: readonly Record<string, unknown>[];
    }
  | { kind: string; [key: string]: unknown };

/**
 * One job of a plan. Ids are the display ids of `list()`: depth first, each group's jobs in
 * topological order, zero-padded to the same width (`01`…`12`).
 */
export interface PlanNode {
  readonly id: string;
  readonly label: string;
  /** `Job`, `SshJob`, `Scheduler`… */
  readonly kind: string;
  /** a nested scheduler (or the root): it has `children` */
  readonly group: boolean;
  readonly critical: boolean;
  readonly forever: boolean;
  /** ids of its requirements, in the order given; `??` for one outside the tree */
  readonly requires: readonly string[];
  /** labels of the enclosing groups, outermost first, the root's excluded */
  readonly path: readonly string[];
  /** position among its group's jobs, in insertion order */
  readonly index: number;
  /** what the job is (commands on a node, a module's function…), as `describe()` says */
  readonly description: JobDescription;
  /** attempts allowed, for a job with a `retry` option */
  readonly retry?: number;
  /** the label was generated (`job-3`), not given */
  readonly generatedLabel?: true;
  /** the job's own `critical` option, when it set one (else `critical` is inherited) */
  readonly criticalSet?: boolean;
  /** groups: their own timeout (ms) and window, when set */
  readonly timeout?: number;
  readonly window?: number;
  /** extra listing lines (an SSH job's commands), when the plan was built with them */
  readonly details?: string;
  /** groups: their jobs, in topological order */
  readonly children?: readonly PlanNode[];
  /** groups: ids of the jobs with no requirement */
  readonly entries?: readonly string[];
  /** groups: ids of the finite jobs nothing requires */
  readonly exits?: readonly string[];
}

/** What a view needs of one job's run, beside its plan node. */
export interface NodeStatus {
  readonly state: JobState;
  readonly failed: boolean;
  readonly result?: unknown;
  readonly error?: unknown;
  /** done without running: its result was restored from a journal (`--resume`) */
  readonly restored?: boolean;
  /** attempts made, when the job has a `retry` option and made more than one */
  readonly attempts?: number;
  /** what it left running on purpose (a detached service), whatever its end */
  readonly leftRunning?: string;
}

/** What {@link statusOfJob} reads of a job (an `AbstractJob` is one). */
export interface StatusSource {
  readonly state: JobState;
  readonly attempts: number;
  isFailed(): boolean;
  isRestored(): boolean;
  result(): unknown;
  raisedException(): unknown;
  leftRunningText(): string | undefined;
}

/** The status of a job's last run, as views read it. */
export function statusOfJob(j: StatusSource): NodeStatus {
  const left = j.leftRunningText();
  return {
    state: j.state,
    failed: j.isFailed(),
    result: j.result(),
    error: j.raisedException(),
    ...(j.isRestored() ? { restored: true } : {}),
    ...(j.attempts > 1 ? { attempts: j.attempts } : {}),
    ...(left === undefined ? {} : { leftRunning: left }),
  };
}

/** The facts a why / end-of-run text is made of. */
export interface EndFacts {
  /** undefined: not run */
  readonly reason: EndReason | undefined;
  /** ms, for `timeout` */
  readonly timeout?: number | undefined;
  /** the critical job that ended the run, for `critical` */
  readonly critical?: { readonly label: string; readonly error: unknown } | undefined;
}

/**
 * The id of a job in views and reports: its scheduler path and label joined by `/`, each
 * part with `%` and `/` escaped (`%25`, `%2F`), so labels that contain `/` never give two
 * jobs one id (`a` › `b/c` is `a/b%2Fc`, `a/b` › `c` is `a%2Fb/c`), and a group's id
 * followed by `/` prefixes exactly the ids of its members.
 * @example jobId(["tests"], "unit") // "tests/unit"
 */
export function jobId(path: readonly string[], label?: string): string {
  const parts = label === undefined ? path : [...path, label];
  let id = "";
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!;
    const part =
      p.includes("/") || p.includes("%") ? p.replace(/%/g, "%25").replace(/\//g, "%2F") : p;
    id = k === 0 ? part : `${id}/${part}`;
  }
  return id;
}
