import { type JobState, jobId } from "../model.ts";
import type { LiveJob, LiveState } from "./live-state.ts";

/** How a job's run ended, as the report colours it. */
export type TimelineOutcome = "ok" | "restored" | "failed" | "cancelled" | "running" | "not-run";

/** One job of a finished (or interrupted) run, as the report draws it. */
export interface TimelineJob {
  /** unique within the run: enclosing scheduler labels and the label, joined by `/` */
  id: string;
  label: string;
  /** labels of the enclosing nested schedulers, outermost first */
  group: readonly string[];
  /** `Job`, `SshJob`, `Scheduler`… */
  kind: string;
  /** a nested scheduler (drawn as a group spanning its members) */
  isGroup: boolean;
  /** epoch ms; undefined when the job never started / never ended */
  start?: number;
  end?: number;
  state: JobState;
  outcome: TimelineOutcome;
  critical: boolean;
  forever: boolean;
  /** the exception, as `describeError()` prints it */
  error?: string;
  /** attempts made, for a job with a `retry` option */
  attempts?: number;
  /** the last failed attempt of a retried job: `attempt 1/3 failed: msg · attempt 2 in 400 ms` */
  retryNote?: string;
  /** last output lines, oldest first */
  output: readonly string[];
  /** the commands or function the job runs, when known */
  command?: string;
  /** the host of SSH jobs */
  host?: string;
  /** ids of the jobs it requires */
  requires: readonly string[];
}

/** A run as the report sees it: read from live events or from a trace file. */
export interface TimelineModel {
  title: string;
  /** epoch ms of the run's start and end */
  start: number;
  end: number;
  /** the run's result; undefined when it did not end */
  ok?: boolean;
  /** `ok`, `timeout`, `critical`, `cancelled` */
  reason?: string;
  /** root timeout, ms */
  timeout?: number;
  /** jobs in display order (topological, depth first) */
  jobs: readonly TimelineJob[];
  /** the text of `debrief()`, when the source had it */
  debrief?: string;
}

/** The outcome of a job from its state and failure flag. */
export function outcomeOf({
  state,
  failed,
  restored = false,
}: {
  state: JobState;
  failed: boolean;
  restored?: boolean | undefined;
}): TimelineOutcome {
  if (state === "done") return failed ? "failed" : restored ? "restored" : "ok";
  if (state === "cancelled") return "cancelled";
  if (state === "running") return "running";
  return "not-run";
}

/**
 * The timeline of a run from the live view's state (fed with `tail` > 1 to keep output).
 * @example
 * ```ts
 * const state = createLiveState({ tail: 20 });
 * scheduler.on((e) => reduceLiveState(state, e));
 * await scheduler.run();
 * writeFileSync("run.html", renderReport({ model: buildTimeline({ state, debrief: scheduler.debrief() }) }));
 * ```
 */
export function buildTimeline({
  state,
  debrief,
  now = Date.now(),
}: {
  state: LiveState;
  debrief?: string;
  /** end of an unfinished run @default Date.now() */
  now?: number;
}): TimelineModel {
  const jobs = state.jobs.map((j) => timelineJob(j));
  return {
    title: state.title,
    start: state.startedAt,
    end: state.endedAt > 0 ? state.endedAt : now,
    ...(state.result ? { ok: state.result.ok, reason: state.result.reason } : {}),
    ...(state.timeout !== undefined ? { timeout: state.timeout } : {}),
    jobs,
    ...(debrief !== undefined ? { debrief } : {}),
  };
}

function timelineJob(j: LiveJob): TimelineJob {
  return {
    id: j.key,
    label: j.label,
    group: j.path,
    kind: j.kind,
    isGroup: j.group,
    ...(j.startedAt > 0 ? { start: j.startedAt } : {}),
    ...(j.endedAt > 0 ? { end: j.endedAt } : {}),
    state: j.state,
    outcome: outcomeOf(j),
    critical: j.critical,
    forever: j.forever,
    ...(j.error !== undefined ? { error: j.error } : {}),
    ...(j.attempts > 0 && j.attempt > 0 ? { attempts: j.attempt } : {}),
    ...(j.retryNote !== undefined ? { retryNote: j.retryNote } : {}),
    output: [...j.output],
    ...(j.command !== undefined ? { command: j.command } : {}),
    ...(j.host !== undefined ? { host: j.host } : {}),
    requires: j.requires.map((r) => r.key),
  };
}

/**
 * The critical path: the chain of leaf jobs that made the run last as long as it did.
 * From the job that ended last, step back to the requirement (direct, or inherited from
 * an enclosing group; a required group stands for its members) that ended last; repeat.
 * Returns ids, first job first.
 */
export function findCriticalPath(model: TimelineModel): string[] {
  const byId = new Map(model.jobs.map((j) => [j.id, j]));
  const leaves = model.jobs.filter((j) => !j.isGroup && j.start !== undefined);
  const membersOf = (groupId: string): TimelineJob[] =>
    leaves.filter((j) => j.id.startsWith(`${groupId}/`));
  const effectiveRequires = (j: TimelineJob): TimelineJob[] => {
    const out: TimelineJob[] = [];
    const ids = [...j.requires];
    // requirements of enclosing groups gate this job too
    for (let k = j.group.length; k > 0; k--)
      ids.push(...(byId.get(jobId(j.group.slice(0, k)))?.requires ?? []));
    for (const id of ids) {
      const r = byId.get(id);
      if (!r) continue;
      if (r.isGroup) out.push(...membersOf(r.id));
      else if (r.end !== undefined) out.push(r);
    }
    return out;
  };
  let last: TimelineJob | undefined;
  for (const j of leaves)
    if (!j.forever && (last === undefined || endOf(j) > endOf(last))) last = j;
  const path: string[] = [];
  const seen = new Set<string>();
  for (let j = last; j && !seen.has(j.id); ) {
    seen.add(j.id);
    path.push(j.id);
    let next: TimelineJob | undefined;
    for (const r of effectiveRequires(j)) if (!next || endOf(r) > endOf(next)) next = r;
    j = next;
  }
  return path.reverse();
}

function endOf(j: TimelineJob): number {
  return j.end ?? j.start ?? 0;
}
