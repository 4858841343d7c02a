/**
 * Readiness of forever jobs: a forever job's dependents start once it is ready, i.e. as soon
 * as it has started, or once its `ready` check passes (a pattern on its output lines, or a
 * function), bounded by `readyTimeout`. The run (scheduler.ts) owns the successor release;
 * this module only watches one job and says "ready" or "failed" once.
 */
import { AiorchError, describeError } from "./errors.ts";
import { JobCtx } from "./context.ts";
import type { AbstractJob } from "./job.ts";
import type { RunFrame } from "./scope.ts";

/** @internal the context of a forever job whose readiness is watched: own signal, line watch */
export class ReadyCtx extends JobCtx {
  private readonly own = new AbortController();
  private readonly combined: AbortSignal;
  private readonly nested: RunFrame;
  /** pattern still waited for, undefined once matched or stopped */
  pattern: RegExp | undefined;
  onMatch: (() => void) | undefined;

  constructor(job: AbstractJob, frame: RunFrame) {
    super(job, frame);
    this.combined = AbortSignal.any([frame.signal, this.own.signal]);
    this.nested = { ...frame, signal: this.combined };
  }
  override get signal(): AbortSignal {
    return this.combined;
  }
  override runFrame(): RunFrame {
    return this.nested;
  }
  override watchLine(line: string): void {
    const re = this.pattern;
    // search() ignores lastIndex, so a /g pattern matches the same on every line
    if (re !== undefined && line.search(re) !== -1) {
      this.pattern = undefined;
      this.onMatch?.();
    }
  }
  /** abort this job only (a readiness failure), not the run */
  abort(reason: unknown): void {
    this.own.abort(reason);
  }
}

/** @internal one watched readiness; `stop` ends the watch (job ended, run ended) */
export interface ReadyWatch {
  stop(reason: unknown): void;
}

/**
 * Watch the readiness of `job` running with `ctx`: calls `onReady` or `onFail` at most once,
 * never after `stop`. A failure (check rejected, `readyTimeout` expired) aborts the job's
 * own signal before `onFail`.
 */
export function watchReadiness(opts: {
  job: AbstractJob;
  ctx: ReadyCtx;
  onReady: () => void;
  onFail: (error: AiorchError) => void;
}): ReadyWatch {
  const { job, ctx } = opts;
  let live = true;
  let timer: NodeJS.Timeout | undefined;
  const close = (): void => {
    live = false;
    if (timer) clearTimeout(timer);
    ctx.pattern = undefined;
  };
  const ready = (): void => {
    if (!live) return;
    close();
    opts.onReady();
  };
  const fail = (error: AiorchError): void => {
    if (!live) return;
    close();
    ctx.abort(error);
    opts.onFail(error);
  };
  const ms = job.readyTimeout;
  if (ms !== undefined)
    timer = setTimeout(
      () =>
        fail(
          new AiorchError("NOT_READY", `forever job "${job.label}" not ready within ${ms} ms`, {
            label: job.label,
            timeoutMs: ms,
          }),
        ),
      ms,
    );
  const check = job.ready;
  if (check instanceof RegExp) {
    ctx.pattern = check;
    // released after the line's emitter returns, not inside the job's log() call
    ctx.onMatch = () => queueMicrotask(ready);
  } else if (typeof check === "function")
    Promise.resolve()
      .then(() => check(ctx))
      .then(ready, (err: unknown) =>
        fail(
          new AiorchError(
            "NOT_READY",
            `forever job "${job.label}" never became ready: ${describeError(err)}`,
            { label: job.label, cause: err },
          ),
        ),
      );
  return {
    stop(reason) {
      if (!live) return;
      close();
      ctx.abort(reason);
    },
  };
}
