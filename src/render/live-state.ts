import { describeError } from "../errors.ts";
import type {
  JobAttemptEvent,
  JobOutputEvent,
  JobStateEvent,
  RunEvent,
  RunStartEvent,
} from "../events.ts";
import { type JobDescription, type JobState, jobId, type PlanNode } from "../model.ts";
import { cleanLine } from "./cells.ts";

/** What the live view and the timeline know about one job, built from run events only. */
export interface LiveJob {
  /** `path/label`, unique within the run */
  readonly key: string;
  readonly label: string;
  /** labels of the enclosing nested schedulers, outermost first */
  readonly path: readonly string[];
  readonly kind: string;
  /** a nested scheduler: shown as a group header */
  readonly group: boolean;
  readonly critical: boolean;
  readonly forever: boolean;
  /** jobs this one waits for (those known to the view) */
  requires: LiveJob[];
  /** the enclosing group, undefined at top level */
  parent: LiveJob | undefined;
  state: JobState;
  failed: boolean;
  /** epoch ms, 0 when not started / not ended */
  startedAt: number;
  endedAt: number;
  /** last output lines, cleaned, oldest first (at most `tail` of them) */
  output: string[];
  /** the host of SSH jobs, from their description or output */
  host: string | undefined;
  /** `describeError()` of the exception (failed or cancelled) */
  error: string | undefined;
  /** commands or function the job runs, when it describes itself */
  command: string | undefined;
  /** direct members, for groups */
  members: number;
  /** direct members that ended (done or cancelled), for groups */
  membersEnded: number;
  /** done without running: its result was restored from a journal (`--resume`) */
  restored: boolean;
  /** attempts started so far, for jobs with a `retry` option (0 otherwise) */
  attempt: number;
  /** attempts allowed, for jobs with a `retry` option */
  attempts: number;
  /** the last failed attempt: `attempt 1/3 failed: msg · next in 400 ms` */
  retryNote: string | undefined;
}

/** Counts over leaf jobs (nested schedulers are groups, not counted). */
export interface LiveCounts {
  idle: number;
  scheduled: number;
  running: number;
  done: number;
  /** done without running, restored from a journal */
  restored: number;
  failed: number;
  cancelled: number;
}

/** Everything a frame is drawn from. Updated in place by {@link reduceLiveState}. */
export interface LiveState {
  title: string;
  /** epoch ms of the root run's start and end (0 while unknown) */
  startedAt: number;
  endedAt: number;
  /** root timeout in ms, from the run-start event */
  timeout: number | undefined;
  /** jobs in display order: topological, depth first (as `list()`) */
  jobs: LiveJob[];
  /** jobs by `path/label` key */
  byKey: Map<string, LiveJob>;
  counts: LiveCounts;
  /** set by the root's run-end */
  result: { ok: boolean; reason: string; elapsed: number } | undefined;
  /** true when some job has a host: the view shows a host column */
  hosts: boolean;
  /** output lines kept per job */
  tail: number;
  /** bumped on every change, so a view can skip redraws */
  version: number;
  /** the scheduler whose run-start came first: the root of the view */
  root: RunStartEvent["scheduler"] | undefined;
  /** groups by key, for parent lookups */
  groups: Map<string, LiveJob>;
}

/**
 * A fresh state for {@link reduceLiveState}.
 * @param title shown in the header @default the root scheduler's label
 * @param tail output lines kept per job @default 1
 */
export function createLiveState({
  title = "",
  tail = 1,
}: {
  title?: string;
  tail?: number;
} = {}): LiveState {
  return {
    title,
    startedAt: 0,
    endedAt: 0,
    timeout: undefined,
    jobs: [],
    byKey: new Map(),
    counts: { idle: 0, scheduled: 0, running: 0, done: 0, restored: 0, failed: 0, cancelled: 0 },
    result: undefined,
    hosts: false,
    tail,
    version: 0,
    root: undefined,
    groups: new Map(),
  };
}

/** The counter a leaf job is in. */
export function bucketOf(j: Pick<LiveJob, "state" | "failed" | "restored">): keyof LiveCounts {
  if (j.state !== "done") return j.state;
  return j.failed ? "failed" : j.restored ? "restored" : "done";
}

/**
 * Fold one run event into the state. For speed with thousands of jobs the state is
 * updated in place (O(1) per event) and returned; views read it, never write it.
 * @example
 * ```ts
 * const state = createLiveState({ title: "deploy" });
 * scheduler.on((e) => reduceLiveState(state, e));
 * ```
 */
export function reduceLiveState(state: LiveState, e: RunEvent): LiveState {
  state.version++;
  switch (e.type) {
    case "run-start": {
      state.root ??= e.scheduler;
      const isRoot = e.scheduler === state.root;
      if (isRoot) {
        resetState(state);
        state.startedAt = e.time;
        state.timeout = e.timeout;
        if (!state.title) state.title = e.label;
      }
      if (e.plan) registerPlan(state, e.plan);
      return state;
    }
    case "job-state": {
      const j = state.byKey.get(keyOf(e)) ?? registerLate(state, e);
      const before = bucketOf(j);
      const wasEnded = j.state === "done" || j.state === "cancelled";
      j.state = e.state;
      if (e.state === "running") {
        j.startedAt = e.time;
        j.endedAt = 0;
        j.failed = false;
        j.error = undefined;
        // a job with a retry option: its attempts are known from its first job-attempt
        if (j.attempts > 0) j.attempt = 1;
        j.retryNote = undefined;
      } else if (e.state === "done" || e.state === "cancelled") {
        if (e.restored) {
          j.restored = true;
          j.startedAt = e.time;
        }
        j.endedAt = e.time;
        j.failed = e.state === "done" && e.error !== undefined;
        if (e.error !== undefined) j.error = describeError(e.error);
      }
      if (!j.group) {
        state.counts[before]--;
        state.counts[bucketOf(j)]++;
      }
      const isEnded = j.state === "done" || j.state === "cancelled";
      if (j.parent && isEnded !== wasEnded) j.parent.membersEnded += isEnded ? 1 : -1;
      return state;
    }
    case "job-attempt": {
      const j = state.byKey.get(keyOf(e)) ?? registerLate(state, e);
      j.attempts = e.attempts;
      const next =
        e.delay !== undefined ? ` · attempt ${e.attempt + 1} in ${e.delay} ms` : (e.gaveUp ?? "");
      j.retryNote = `attempt ${e.attempt}/${e.attempts} failed: ${describeError(e.error)}${next.startsWith(" ") || next === "" ? next : ` · gave up: ${next}`}`;
      if (e.delay !== undefined) j.attempt = e.attempt + 1;
      return state;
    }
    case "job-output": {
      const j = state.byKey.get(keyOf(e)) ?? registerLate(state, e);
      const line = cleanLine(e.line);
      if (line !== "") {
        j.output.push(e.stream === "stderr" ? `! ${line}` : line);
        if (j.output.length > state.tail) j.output.shift();
      }
      if (e.host !== undefined && j.host === undefined && e.host !== "localhost") {
        j.host = e.host;
        state.hosts = true;
      }
      return state;
    }
    case "run-end":
      if (e.scheduler === state.root) {
        state.endedAt = e.time;
        state.result = { ok: e.ok, reason: e.reason, elapsed: e.elapsed };
      }
      return state;
    case "job-ready":
    case "shutdown":
      return state;
  }
}

function resetState(state: LiveState): void {
  for (const j of state.jobs) {
    j.state = "idle";
    j.failed = false;
    j.startedAt = 0;
    j.endedAt = 0;
    j.output = [];
    j.error = undefined;
    j.membersEnded = 0;
    j.restored = false;
    j.attempt = 0;
    j.retryNote = undefined;
  }
  const leaves = state.jobs.filter((j) => !j.group).length;
  state.counts = {
    idle: leaves,
    scheduled: 0,
    running: 0,
    done: 0,
    restored: 0,
    failed: 0,
    cancelled: 0,
  };
  state.result = undefined;
  state.endedAt = 0;
}

/** The id of an event's job (see `jobId`). */
function keyOf(e: { readonly path: readonly string[]; readonly label: string }): string {
  return jobId(e.path, e.label);
}

/** Register the jobs of a plan, depth first in topological order (as `list()`). */
function registerPlan(state: LiveState, plan: PlanNode): void {
  const added: [LiveJob, PlanNode][] = [];
  const byId = new Map<string, LiveJob>();
  const walk = (g: PlanNode): void => {
    for (const n of g.children ?? []) {
      const key = keyOf(n);
      let lj = state.byKey.get(key);
      if (!lj) {
        lj = registerJob(state, { ...n, key }, true);
        added.push([lj, n]);
      }
      byId.set(n.id, lj);
      if (n.group) walk(n);
    }
  };
  walk(plan);
  for (const [lj, n] of added) lj.requires = n.requires.flatMap((id) => byId.get(id) ?? []);
}

/** A job no plan announced (a run started without one): from its first event. */
function registerLate(
  state: LiveState,
  e: JobStateEvent | JobOutputEvent | JobAttemptEvent,
): LiveJob {
  const j = e.job;
  let description: JobDescription = { kind: "opaque" };
  let details: string | undefined;
  try {
    description = j.describe();
    details = j.details();
  } catch {
    // a job whose description throws is shown without one
  }
  return registerJob(state, {
    key: keyOf(e),
    label: e.label,
    path: e.path,
    kind: j.kind,
    group: false,
    critical: j.critical,
    forever: j.forever,
    description,
    ...(details ? { details } : {}),
    ...(j.retry ? { retry: j.retry.attempts } : {}),
  });
}

/** What a job is registered from: a plan node, or a late job's first event. */
interface JobFacts {
  key: string;
  label: string;
  path: readonly string[];
  kind: string;
  group: boolean;
  critical: boolean;
  forever: boolean;
  description: JobDescription;
  details?: string;
  /** attempts allowed, for a job with a `retry` option */
  retry?: number;
}

function registerJob(state: LiveState, job: JobFacts, inOrder = false): LiveJob {
  const path = job.path;
  const parent = path.length > 0 ? state.groups.get(jobId(path)) : undefined;
  const lj: LiveJob = {
    key: job.key,
    label: job.label,
    path,
    kind: job.kind,
    group: job.group,
    critical: job.critical,
    forever: job.forever,
    requires: [],
    parent,
    state: "idle",
    failed: false,
    startedAt: 0,
    endedAt: 0,
    output: [],
    host: undefined,
    error: undefined,
    command: undefined,
    members: 0,
    membersEnded: 0,
    restored: false,
    attempt: 0,
    attempts: job.retry ?? 0,
    retryNote: undefined,
  };
  describeJob(lj, job);
  if (lj.host !== undefined) state.hosts = true;
  if (parent) parent.members++;
  if (!lj.group) state.counts.idle++;
  if (lj.group) state.groups.set(lj.key, lj);
  // a tree walk registers in display order; a late job goes after its group's members
  if (inOrder || !parent) state.jobs.push(lj);
  else state.jobs.splice(lastDescendantIndex(state, parent) + 1, 0, lj);
  state.byKey.set(lj.key, lj);
  return lj;
}

function lastDescendantIndex(state: LiveState, group: LiveJob): number {
  let i = state.jobs.indexOf(group);
  const depth = group.path.length;
  while (i + 1 < state.jobs.length && state.jobs[i + 1]!.path.length > depth) i++;
  return i;
}

/** Host and command text from the job's own description (SSH jobs describe their node). */
function describeJob(lj: LiveJob, job: JobFacts): void {
  const d = job.description;
  if (d.kind === "commands" && typeof d.node === "object" && d.node !== null) {
    const host = (d.node as Record<string, unknown>).host;
    if (typeof host === "string" && host !== "localhost") lj.host = host;
  } else if (d.kind === "function" && typeof d.module === "string")
    lj.command = `${String(d.name)}() from ${d.module}`;
  if (job.details) lj.command = job.details;
}
