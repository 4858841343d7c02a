import type { RunEvent } from "../events.ts";
import { type AbstractJob, Job } from "../job.ts";
import { Scheduler } from "../scheduler.ts";
import { Redactor, sanitizeDescription, toJsonValue, toTraceError } from "./capture.ts";
import { notedWork } from "./describe.ts";
import { replaySpecOf } from "./replay.ts";
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
  let nodes = new Map<AbstractJob, TraceNode>();
  const outBytes = new Map<TraceJob, number>();
  let totalBytes = 0;
  let t0 = 0;
  let end: { time: number; ok: boolean; reason: TraceRun["reason"] } | undefined;
  let tree = snapshot();

  function snapshot(): TraceScheduler {
    nodes = new Map();
    outBytes.clear();
    totalBytes = 0;
    return describeNode(root) as TraceScheduler;
  }

  function describeNode(job: AbstractJob): TraceNode {
    const base = {
      label: job.label,
      ...(job._generatedLabel ? { generatedLabel: true } : {}),
      critical: job.critical,
      ...(job._critical === undefined ? {} : { criticalSet: job._critical }),
      forever: job.forever,
      requires: [...job.required].map((r) => r.label),
      state: "idle" as const,
    };
    let node: TraceNode;
    if (job instanceof Scheduler) {
      node = {
        type: "scheduler",
        ...base,
        ...(job.timeout === undefined ? {} : { timeout: job.timeout }),
        ...(job.window ? { window: job.window } : {}),
        jobs: job.jobs.map(describeNode),
      };
    } else {
      node = {
        type: "job",
        ...base,
        kind: job.kind,
        work: describeWork(job),
        output: { lines: [], truncated: false, droppedLines: 0, droppedBytes: 0 },
      };
    }
    nodes.set(job, node);
    return node;
  }

  function describeWork(job: AbstractJob): TraceWork {
    const spec = job instanceof Job ? replaySpecOf(job.fn) : undefined;
    if (spec) return { kind: "replay", replay: spec };
    return sanitizeDescription(job.describe(), redactor) as TraceWork;
  }

  const onEvent = (e: RunEvent): void => {
    if (e.type === "run-start") {
      if (e.scheduler === root) {
        tree = snapshot();
        t0 = e.time;
        end = undefined;
        tree.state = "running";
        tree.startedAt = 0;
      }
      return;
    }
    if (e.type === "run-end") {
      const node = nodes.get(e.scheduler);
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
      const node = nodes.get(e.job);
      if (!node) return;
      node.state = e.state;
      if (e.state === "running") node.startedAt = e.time - t0;
      if (node.type === "job" && e.state !== "running") {
        const work = notedWork(e.job);
        if (work) node.work = work;
      }
      if (e.state === "done" || e.state === "cancelled") {
        node.endedAt = e.time - t0;
        if (node.startedAt !== undefined) node.duration = node.endedAt - node.startedAt;
        if (e.error !== undefined) node.error = toTraceError(e.error, redactor);
        else if (node.type === "job") recordResult(node, e.job.result());
        if (e.restored && node.type === "job") node.restored = true;
      }
      return;
    }
    if (e.type === "job-attempt") {
      const node = nodes.get(e.job);
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
      const node = nodes.get(e.job);
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
      for (const [job, node] of nodes) {
        const work = node.type === "job" ? notedWork(job) : undefined;
        if (work && node.type === "job") node.work = work;
      }
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
