import type { RunEvent } from "../events.ts";
import type { PlanNode } from "../model.ts";
import type { Scheduler } from "../scheduler.ts";
import { Redactor, sanitizeDescription, toJsonValue, toTraceError } from "./capture.ts";
import {
  TRACE_VERSION,
  type Trace,
  type TraceError,
  type TraceJob,
  type TraceLimits,
  type TraceNode,
  type TraceRun,
  type TraceScheduler,
  type TraceWork,
} from "./types.ts";

/** Options of {@link createRecorder}. */
export interface RecorderOptions {
  /** the root scheduler to record */
  scheduler: Scheduler;
  /** the scenario file, recorded as `file` (codegen resolves module paths against it) */
  file?: string;
  /** most bytes of output kept per job @default 65536 */
  jobOutputBytes?: number;
  /** most bytes of output kept for the whole run @default 4194304 */
  totalOutputBytes?: number;
  /** most bytes of a job's result (as JSON) kept @default 16384 */
  resultBytes?: number;
}

/** How the recorded run ended, given to {@link Recorder.finish}. */
export interface FinishOptions {
  /** what `run()` resolved; undefined when it did not resolve */
  ok?: boolean;
  /** the signal that interrupted the run */
  signal?: string;
  /** the error `run()` rejected with */
  error?: unknown;
  /** run options that overrode the scheduler's */
  timeout?: number;
  window?: number;
}

/** A recorder attached to a scheduler's events. */
export interface Recorder {
  /** The trace so far (valid JSON at any moment, also mid-run). */
  finish(opts?: FinishOptions): Trace;
  /** Stop listening. */
  stop(): void;
}

/**
 * Subscribe to `scheduler`'s events and record the run: structure, what each job is,
 * timings, states, results, errors, bounded output. Secrets are never recorded.
 *
 * @example
 * ```ts
 * const rec = createRecorder({ scheduler });
 * const ok = await scheduler.run();
 * await writeTrace({ file: "run.trace.json", trace: rec.finish({ ok }) });
 * ```
 */
export function createRecorder(opts: RecorderOptions): Recorder {
  const root = opts.scheduler;
  const limits: TraceLimits = {
    jobOutputBytes: opts.jobOutputBytes ?? 65_536,
    totalOutputBytes: opts.totalOutputBytes ?? 4_194_304,
    resultBytes: opts.resultBytes ?? 16_384,
  };
  const redactor = new Redactor();
  /** trace nodes by the path and label their events carry */
  let nodes = new Map<string, TraceNode>();
  const outBytes = new Map<TraceJob, number>();
  let totalBytes = 0;
  let t0 = 0;
  let end: { time: number; ok: boolean; reason: TraceRun["reason"] } | undefined;
  let tree = fromPlan(root.plan());

  /** The trace tree of a plan (the root's run-start carries it), every job idle. */
  function fromPlan(plan: PlanNode): TraceScheduler {
    nodes = new Map();
    outBytes.clear();
    totalBytes = 0;
    // the root is not keyed: its label may be a job's too (it names the group)
    return toNode(plan, new Map()) as TraceScheduler;
  }

  function toNode(n: PlanNode, labels: ReadonlyMap<string, string>): TraceNode {
    const base = {
      label: n.label,
      ...(n.generatedLabel ? { generatedLabel: true } : {}),
      critical: n.critical,
      ...(n.criticalSet === undefined ? {} : { criticalSet: n.criticalSet }),
      forever: n.forever,
      requires: n.requires.map((id) => labels.get(id) ?? id),
      state: "idle" as const,
    };
    if (!n.group)
      return {
        type: "job",
        ...base,
        kind: n.kind,
        work: sanitizeDescription(n.description, redactor) as TraceWork,
        output: { lines: [], truncated: false, droppedLines: 0, droppedBytes: 0 },
      };
    const kids = n.children ?? [];
    const inner = new Map(kids.map((k) => [k.id, k.label]));
    const jobs: TraceNode[] = [];
    // the plan lists a group's jobs in topological order; a trace, in insertion order
    for (const k of [...kids].sort((x, y) => x.index - y.index)) {
      const node = toNode(k, inner);
      nodes.set(keyOf(k.path, k.label), node);
      jobs.push(node);
    }
    return {
      type: "scheduler",
      ...base,
      ...(n.timeout === undefined ? {} : { timeout: n.timeout }),
      ...(n.window ? { window: n.window } : {}),
      jobs,
    };
  }

  const onEvent = (e: RunEvent): void => {
    if (e.type === "run-start") {
      if (e.scheduler === root) {
        tree = fromPlan(e.plan ?? root.plan());
        t0 = e.time;
        end = undefined;
        tree.state = "running";
        tree.startedAt = 0;
      }
      return;
    }
    if (e.type === "run-end") {
      const node = e.scheduler === root ? tree : nodes.get(keyOf(e.path, e.label));
      if (node?.type === "scheduler") node.reason = e.reason;
      if (e.scheduler === root) {
        end = { time: e.time, ok: e.ok, reason: e.reason };
        // the root is not run as a job: its own state says whether its run ended
        tree.state = "done";
        tree.startedAt = 0;
        tree.endedAt = e.time - t0;
        tree.duration = tree.endedAt;
      }
      return;
    }
    if (e.type === "job-state") {
      const node = nodes.get(keyOf(e.path, e.label));
      if (!node) return;
      node.state = e.state;
      if (e.state === "running") node.startedAt = e.time - t0;
      if (e.state === "done" || e.state === "cancelled") {
        node.endedAt = e.time - t0;
        if (node.startedAt !== undefined) node.duration = node.endedAt - node.startedAt;
        if (e.error !== undefined) node.error = toTraceError(e.error, redactor);
        else if (node.type === "job") recordResult(node, e.result);
        if (e.restored && node.type === "job") node.restored = true;
      }
      return;
    }
    if (e.type === "job-attempt") {
      const node = nodes.get(keyOf(e.path, e.label));
      if (node?.type !== "job") return;
      node.attempts ??= [];
      node.attempts.push({
        attempt: e.attempt,
        at: e.time - t0,
        error: toTraceError(e.error, redactor),
        ...(e.delay === undefined ? {} : { delay: e.delay }),
        ...(e.gaveUp === undefined ? {} : { gaveUp: e.gaveUp }),
      });
      return;
    }
    if (e.type === "job-output") {
      const node = nodes.get(keyOf(e.path, e.label));
      if (node?.type !== "job") return;
      const line = redactor.size ? redactor.mask(e.line) : e.line;
      const bytes = Buffer.byteLength(line) + 1;
      const used = outBytes.get(node) ?? 0;
      if (used + bytes > limits.jobOutputBytes || totalBytes + bytes > limits.totalOutputBytes) {
        node.output.truncated = true;
        node.output.droppedLines++;
        node.output.droppedBytes += bytes;
        return;
      }
      outBytes.set(node, used + bytes);
      totalBytes += bytes;
      node.output.lines.push({
        at: e.time - t0,
        stream: e.stream,
        line,
        ...(e.host === undefined ? {} : { host: e.host }),
      });
    }
  };

  function recordResult(node: TraceJob, value: unknown): void {
    if (value === undefined) return;
    const j = toJsonValue(value, { maxBytes: limits.resultBytes, redactor });
    if (j.value !== undefined) node.result = j.value;
    if (j.note) node.resultNote = j.note;
  }

  const off = root.on(onEvent);

  return {
    finish(f: FinishOptions = {}): Trace {
      const now = Date.now();
      const endedAt = end?.time ?? now;
      let reason: TraceRun["reason"] = end?.reason ?? "unfinished";
      let error: TraceError | undefined;
      if (f.signal) reason = "interrupted";
      else if (f.error !== undefined) {
        reason = "error";
        error = toTraceError(f.error, redactor);
      }
      const run: TraceRun = {
        startedAt: t0,
        endedAt,
        elapsed: t0 ? endedAt - t0 : 0,
        ok: f.ok ?? end?.ok ?? false,
        reason,
        ...(f.signal ? { signal: f.signal } : {}),
        ...(f.timeout === undefined ? {} : { timeout: f.timeout }),
        ...(f.window === undefined ? {} : { window: f.window }),
        ...(error ? { error } : {}),
      };
      // a deep copy, so a later event cannot change a trace already handed out
      const scenario = structuredClone(tree);
      return {
        format: "aiorch-trace",
        version: TRACE_VERSION,
        createdAt: new Date(now).toISOString(),
        ...(opts.file ? { file: opts.file } : {}),
        run,
        scenario,
        limits,
      };
    },
    stop: off,
  };
}

/** The key of a node: the labels of its enclosing groups (the root's excluded) and its own. */
function keyOf(path: readonly string[], label: string): string {
  return path.length === 0 ? label : `${path.join("\0")}\0${label}`;
}
