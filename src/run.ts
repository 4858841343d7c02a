/**
 * One run of one scheduler's jobs, as an object with its state in fields: `start()` launches
 * the jobs whose requirements are met, `complete()` takes a job's end and releases its
 * successors, `finish(reason)` cancels what still runs, lets the owner shut down and
 * resolves the run. The scheduler (scheduler.ts) keeps the container, validation and the
 * public wrappers; this file knows jobs and events, not the Scheduler class.
 */
import { setMaxListeners } from "node:events";
import { JobCtx } from "./context.ts";
import { CancelledError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import { MinHeap, type SuccessorIndex, successorIndex } from "./graph.ts";
import { type AbstractJob, type JobContext, jobTime } from "./job.ts";
import type { EndFacts, EndReason, JobState, PlanNode } from "./model.ts";
import { ReadyCtx, type ReadyWatch, watchReadiness } from "./ready.ts";
import { formatWhy } from "./render/list.ts";
import { runAttempts } from "./retry.ts";
import type { RunFrame, RunScope } from "./scope.ts";

/** What a run is given by its scheduler. */
export interface RunParams {
  /** the scheduler running, as events name it */
  owner: AbstractJob<boolean>;
  jobs: readonly AbstractJob[];
  hub: EventHub;
  scope: RunScope;
  /** the enclosing run's signal (nested), or the caller's `signal` (root) */
  parentSignal: AbortSignal | undefined;
  /** epoch ms when the nearest enclosing run's timeout fires (nested), for retries */
  parentDeadline: number | undefined;
  /** labels of the enclosing schedulers, for the jobs' events (the owner's own included when nested) */
  path: readonly string[];
  /** the owner's own path, for its run-start / run-end events */
  ownPath: readonly string[];
  /** ms, undefined = no limit */
  timeout: number | undefined;
  /** 0 or undefined = no limit */
  window: number | undefined;
  /** ms an aborted job may take to settle before it is abandoned */
  cancelGrace: number;
  /** the plan carried by the run-start event (the outermost run only) */
  plan: (() => PlanNode) | undefined;
  /** a forever nested scheduler tells its parent when every job is ready or done */
  onReady: (() => void) | undefined;
  /** the successor index of `jobs` when validation built it just before (root runs) */
  index?: SuccessorIndex | undefined;
  /** the owner's end of run: shutdown hooks, shared resources */
  wrapUp: () => Promise<void>;
}

/** The state of one run. Outcome fields are read by the scheduler once it resolved. */
export class Run {
  readonly params: RunParams;
  /** why it ended, once it did */
  reason: EndReason | undefined;
  /** the critical job whose failure ended it */
  criticalJob: AbstractJob | undefined;
  /** ms from start to the end of cancellation (before shutdown) */
  elapsed = 0;

  private readonly jobs: readonly AbstractJob[];
  private readonly n: number;
  private readonly startTime = Date.now();
  private readonly ac = new AbortController();
  private readonly frame: RunFrame;
  /** successors of job i: succ[off[i] .. off[i+1]), insertion order */
  private readonly off: Int32Array;
  private readonly succ: Int32Array;
  /** requirements of each job not yet done (or ready, for forever ones) */
  private readonly pending: Int32Array;
  private readonly window: number;
  private readonly heap = new MinHeap();
  private readonly inflight: (Promise<unknown> | undefined)[];
  private readonly nonForeverTotal: number;
  private nonForeverLeft: number;
  /** forever jobs release their successors when ready, before they end: 1 once released */
  private readonly released: Uint8Array | undefined;
  private readonly watches: (ReadyWatch | undefined)[] = [];
  /** jobs not yet ready or done, for a forever nested scheduler's own readiness */
  private readyLeft: number;
  private running = 0;
  private ended = 0;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private resolve: (ok: boolean) => void = () => {};
  private readonly onParentAbort = (): void => void this.finish("cancelled");

  constructor(params: RunParams) {
    this.params = params;
    const jobs = params.jobs;
    this.jobs = jobs;
    this.n = jobs.length;
    // every job of the run listens to this one signal: no "possible leak" warning past 10
    setMaxListeners(0, this.ac.signal);
    const own = params.timeout === undefined ? undefined : this.startTime + params.timeout;
    const outer = params.parentDeadline;
    // retries never wait past the nearest timeout
    const deadline =
      own === undefined || outer === undefined ? (own ?? outer) : Math.min(own, outer);
    this.frame = {
      scope: params.scope,
      signal: this.ac.signal,
      path: params.path,
      hub: params.hub,
      ...(deadline === undefined ? {} : { deadline }),
    };
    const index = params.index ?? successorIndex({ jobs });
    this.off = index.off;
    this.succ = index.succ;
    this.pending = index.pending;
    let finite = 0;
    for (const j of jobs) if (!j.forever) finite++;
    this.nonForeverTotal = finite;
    this.nonForeverLeft = finite;
    this.released = finite < this.n ? new Uint8Array(this.n) : undefined;
    this.readyLeft = this.n;
    this.window = params.window && params.window > 0 ? params.window : Number.POSITIVE_INFINITY;
    this.inflight = new Array(this.n);
  }

  /** Launch the jobs with no requirement; resolves with the run's outcome, after wrap-up. */
  start(): Promise<boolean> {
    const p = this.params;
    const hub = p.hub;
    if (hub.active)
      hub.emit({
        type: "run-start",
        time: this.startTime,
        scheduler: p.owner,
        label: p.owner.label,
        path: p.ownPath,
        jobs: this.n,
        ...(p.plan ? { plan: p.plan() } : {}),
        ...(p.timeout === undefined ? {} : { timeout: p.timeout }),
        ...(p.window ? { window: p.window } : {}),
      });
    return new Promise<boolean>((resolve) => {
      this.resolve = resolve;
      if (p.parentSignal?.aborted) {
        void this.finish("cancelled");
        return;
      }
      p.parentSignal?.addEventListener("abort", this.onParentAbort, { once: true });
      if (p.timeout !== undefined)
        this.timer = setTimeout(() => void this.finish("timeout"), p.timeout);
      if (this.n === 0) {
        void this.finish("ok");
        return;
      }
      for (let i = 0; i < this.n && !this.finished; i++) {
        if (this.pending[i] !== 0) continue;
        if (this.running < this.window) this.launch(i);
        else this.schedule(i);
      }
    });
  }

  /** The facts of this run's end, for why texts. */
  endFacts(): EndFacts {
    const j = this.criticalJob;
    return {
      reason: this.reason,
      timeout: this.params.timeout,
      critical: j && { label: j.label, error: j.raisedException() },
    };
  }

  private setState(job: AbstractJob, state: JobState, error?: unknown, from?: JobState): void {
    const previous = from ?? job._state;
    job._state = state;
    const hub = this.params.hub;
    if (hub.active)
      hub.emit({
        type: "job-state",
        time: Date.now(),
        job,
        label: job.label,
        path: this.params.path,
        state,
        previous,
        ...(error === undefined ? {} : { error }),
        ...(state === "done" && error === undefined && job._result !== undefined
          ? { result: job._result }
          : {}),
        ...(state === "done" && job._restored ? { restored: true as const } : {}),
      });
  }

  private schedule(i: number): void {
    this.heap.push(i);
    this.setState(this.jobs[i]!, "scheduled");
  }

  private launch(i: number): void {
    const job = this.jobs[i]!;
    this.running++;
    job._startedAt = jobTime(Date.now());
    const restore = this.params.scope.restore;
    if (restore?.has(job)) {
      this.restore(i, job, restore.get(job));
      return;
    }
    this.setState(job, "running");
    const ctx = job.forever ? this.contextOfForever(i, job) : new JobCtx(job, this.frame);
    let pr: Promise<unknown>;
    try {
      if (job._retry) pr = this.runWithRetry(job, ctx);
      else pr = Promise.resolve(job.run(ctx));
    } catch (err) {
      pr = Promise.reject(err);
    }
    this.inflight[i] = pr;
    pr.then(
      (v) => this.complete(i, true, v),
      (e) => this.complete(i, false, e),
    );
  }

  /**
   * A job a resumed run restores from its journal: done without running, as if it returned
   * at once (its `restoreResult()` may still refuse: then it fails).
   */
  private restore(i: number, job: AbstractJob, json: unknown): void {
    const was = job._state;
    job._state = "running";
    job._restored = true;
    this.inflight[i] = Promise.resolve().then(() => {
      let value: unknown;
      try {
        value = job.restoreResult(json, { vars: this.params.scope.vars });
      } catch (err) {
        job._restored = false;
        this.complete(i, false, err, was);
        return;
      }
      this.complete(i, true, value, was);
    });
  }

  /** A job with a `retry` policy: each failed attempt is a `job-attempt` event. */
  private runWithRetry(job: AbstractJob, ctx: JobContext): Promise<unknown> {
    const policy = job._retry!;
    const frame = this.frame;
    job._attempts = 0;
    return runAttempts({
      policy,
      signal: frame.signal,
      deadline: frame.deadline,
      attempt: async () => {
        job._attempts = (job._attempts ?? 0) + 1;
        return job.run(ctx);
      },
      onFailure: (f) => {
        if (frame.hub.active)
          frame.hub.emit({
            type: "job-attempt",
            time: Date.now(),
            job,
            label: job.label,
            path: frame.path,
            attempt: f.attempt,
            attempts: policy.attempts,
            error: f.error,
            ...(f.delay === undefined ? {} : { delay: f.delay }),
            ...(f.gaveUp === undefined ? {} : { gaveUp: f.gaveUp }),
          });
      },
    });
  }

  /**
   * A forever job is ready once started (released after the current launch loop, so jobs
   * ready before it keep their insertion order), a group once each of its jobs is ready or
   * done, a job with a `ready` check once it passes.
   */
  private contextOfForever(i: number, job: AbstractJob): JobCtx {
    if (job.ready === undefined) {
      if (job._members() !== undefined)
        return new JobCtx(job, { ...this.frame, onReady: () => this.markReady(i) });
      queueMicrotask(() => this.markReady(i));
      return new JobCtx(job, this.frame);
    }
    const ctx = new ReadyCtx(job, this.frame);
    this.watches[i] = watchReadiness({
      job,
      ctx,
      onReady: () => this.markReady(i),
      onFail: (err) => this.complete(i, false, err),
    });
    return ctx;
  }

  private markReady(i: number): void {
    const job = this.jobs[i]!;
    if (this.finished || job._state !== "running" || this.released![i]) return;
    this.released![i] = 1;
    const hub = this.params.hub;
    if (hub.active)
      hub.emit({
        type: "job-ready",
        time: Date.now(),
        job,
        label: job.label,
        path: this.params.path,
      });
    this.settle();
    this.release(i);
    this.drain();
  }

  private settle(): void {
    if (--this.readyLeft === 0) this.params.onReady?.();
  }

  /** Successors of job i whose last requirement it was start (or queue for the window). */
  private release(i: number): void {
    const { off, succ, pending } = this;
    for (let k = off[i]!, e = off[i + 1]!; k < e; k++) {
      const s = succ[k]!;
      if (--pending[s]! === 0) {
        if (this.window === Number.POSITIVE_INFINITY) this.launch(s);
        else this.schedule(s);
      }
    }
  }

  private drain(): void {
    while (this.heap.size > 0 && this.running < this.window) this.launch(this.heap.pop());
  }

  /** Job i ended (`ok` with its value, or failed with its error); ignored once abandoned. */
  complete(i: number, ok: boolean, value: unknown, from?: JobState): void {
    const job = this.jobs[i]!;
    if (this.finished || job._state !== "running") return; // abandoned after cancel
    this.inflight[i] = undefined;
    this.running--;
    job._endedAt = jobTime(Date.now());
    const watch = this.watches[i];
    if (watch !== undefined) {
      watch.stop(new CancelledError("CANCELLED", "job ended", { label: job.label }));
      this.watches[i] = undefined;
    }
    if (ok) {
      job._result = value;
      this.setState(job, "done", undefined, from);
    } else {
      job._error = value;
      job._failed = true;
      this.setState(job, "done", value, from);
      if (job.critical) {
        this.criticalJob = job;
        void this.finish("critical");
        return;
      }
    }
    if (!job.forever) this.nonForeverLeft--;
    this.ended++;
    if (this.nonForeverTotal > 0 ? this.nonForeverLeft === 0 : this.ended === this.n) {
      void this.finish("ok");
      return;
    }
    const released = this.released;
    if (released === undefined || released[i] === 0) {
      if (released) released[i] = 1;
      this.settle();
      this.release(i);
    }
    this.drain();
  }

  /**
   * End the run once: cancel running jobs (abandoned after `cancelGrace`), drop queued
   * ones, abort the run's signal, wrap up (shutdown, resources), emit run-end, resolve.
   */
  async finish(reason: EndReason): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const p = this.params;
    if (this.timer) clearTimeout(this.timer);
    p.parentSignal?.removeEventListener("abort", this.onParentAbort);
    this.reason = reason;
    const why = reason === "ok" ? "end of run" : formatWhy(this.endFacts(), { cause: false });
    const code = reason === "timeout" ? "TIMEOUT" : "CANCELLED";
    const now = Date.now();
    const aborted: Promise<unknown>[] = [];
    // `running` counts the jobs in state running, the heap holds the scheduled ones: a run
    // ending with neither (every ok end without forever jobs) skips the pass over all jobs
    if (this.running > 0 || this.heap.size > 0)
      for (let i = 0; i < this.n; i++) {
        const job = this.jobs[i]!;
        if (job._state === "running") {
          const err = new CancelledError(code, `cancelled: ${why}`, { label: job.label });
          job._error = err;
          job._endedAt = jobTime(now);
          this.setState(job, "cancelled", err);
          const pr = this.inflight[i];
          if (pr) aborted.push(pr);
        } else if (job._state === "scheduled") this.setState(job, "idle");
      }
    this.heap.clear();
    this.ac.abort(new CancelledError(code, why, { label: p.owner.label }));
    // after the run's abort, so watched jobs see the run's reason
    for (const w of this.watches) w?.stop(undefined);
    if (aborted.length > 0) await settleWithin(aborted, p.cancelGrace);
    this.elapsed = Date.now() - this.startTime;
    await p.wrapUp();
    if (p.hub.active)
      p.hub.emit({
        type: "run-end",
        time: Date.now(),
        scheduler: p.owner,
        label: p.owner.label,
        path: p.ownPath,
        ok: reason === "ok",
        reason,
        elapsed: this.elapsed,
      });
    this.resolve(reason === "ok");
  }
}

/** Wait for promises to settle, at most `ms`. */
export function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.allSettled(promises).then(() => undefined),
    new Promise<void>((r) => {
      t = setTimeout(r, ms);
    }),
  ]).finally(() => clearTimeout(t));
}
