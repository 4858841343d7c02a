import type { AbstractJob } from "./job.ts";
import type { EndReason, JobState, PlanNode } from "./model.ts";

/**
 * The one typed event stream of a run. The live view, the plain log, the recorder and
 * user listeners all subscribe to it (`scheduler.on(listener)` or `for await (const e of
 * scheduler.events())`). Times are epoch milliseconds (`Date.now()`).
 *
 * Events of nested schedulers reach the listeners of every enclosing scheduler; `path` is
 * the labels of the enclosing schedulers, outermost first (the root's label excluded).
 */
export type RunEvent =
  | RunStartEvent
  | JobStateEvent
  | JobReadyEvent
  | JobAttemptEvent
  | JobOutputEvent
  | RunEndEvent
  | ShutdownEvent;

/** A scheduler starts a run (also emitted by nested schedulers). */
export interface RunStartEvent {
  type: "run-start";
  time: number;
  scheduler: AbstractJob<boolean>;
  label: string;
  path: readonly string[];
  /** direct jobs of that scheduler */
  jobs: number;
  /** the plan of the whole tree (details included), on the outermost scheduler's run-start */
  plan?: PlanNode;
  timeout?: number;
  window?: number;
}

/** A job changed state. `error` is set on a failing `done` and on `cancelled`. */
export interface JobStateEvent {
  type: "job-state";
  time: number;
  job: AbstractJob;
  label: string;
  path: readonly string[];
  state: JobState;
  previous: JobState;
  /** set when the job ended with an exception */
  error?: unknown;
  /** on `done` without an exception: what the job returned (absent for undefined) */
  result?: unknown;
  /** on `done`: the job was not run, its result was restored from a journal (`--resume`) */
  restored?: true;
}

/**
 * An attempt of a job with a `retry` option failed. `delay` is set when another attempt
 * follows after that many ms; otherwise this was the last one (`gaveUp` says why when
 * attempts were left), and the job's `done` event with the error comes next.
 */
export interface JobAttemptEvent {
  type: "job-attempt";
  time: number;
  job: AbstractJob;
  label: string;
  path: readonly string[];
  /** 1 for the first attempt */
  attempt: number;
  /** attempts allowed in all */
  attempts: number;
  error: unknown;
  delay?: number;
  gaveUp?: string;
}

/**
 * A running forever job is ready: its dependents start now. Emitted right after it starts
 * when it has no `ready` check, else once the check passes (never for finite jobs).
 */
export interface JobReadyEvent {
  type: "job-ready";
  time: number;
  job: AbstractJob;
  label: string;
  path: readonly string[];
}

/** A line of output of a job: its commands' stdout/stderr, or `ctx.log()` lines. */
export interface JobOutputEvent {
  type: "job-output";
  time: number;
  job: AbstractJob;
  label: string;
  path: readonly string[];
  stream: "stdout" | "stderr" | "log";
  /** the line without its newline */
  line: string;
  /** the host for SSH jobs, `localhost` for local ones */
  host?: string;
  /**
   * the exact bytes of the line as the command wrote them, line end included (`\n`,
   * `\r\n`, or none for a last partial line or a piece of a line longer than 1 MiB): what
   * `-r` and `-o` write. Absent for `log` lines and while declared secrets are masked.
   */
  bytes?: Buffer;
}

/** A scheduler's run ended. `reason` tells why it is false. */
export interface RunEndEvent {
  type: "run-end";
  time: number;
  scheduler: AbstractJob<boolean>;
  label: string;
  path: readonly string[];
  ok: boolean;
  reason: EndReason;
  elapsed: number;
}

/** Shutdown of a scheduler's jobs ended; `problems` lists hooks that threw or were too slow. */
export interface ShutdownEvent {
  type: "shutdown";
  time: number;
  scheduler: AbstractJob<boolean>;
  label: string;
  path: readonly string[];
  ok: boolean;
  problems: readonly { label: string; error: unknown }[];
}

/** A subscriber to the run's events. */
export type RunListener = (event: RunEvent) => void;

/** Listener list with a fast "anyone there?" check, so silent runs allocate no events. */
export class EventHub {
  private listeners: RunListener[] = [];
  /** parent hub while running nested */
  parent: EventHub | undefined;

  on(listener: RunListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** true when an emitted event would reach someone */
  get active(): boolean {
    for (let h: EventHub | undefined = this; h; h = h.parent)
      if (h.listeners.length > 0) return true;
    return false;
  }

  emit(event: RunEvent): void {
    for (let h: EventHub | undefined = this; h; h = h.parent) {
      for (const l of h.listeners) {
        try {
          l(event);
        } catch (err) {
          // a broken view must not break the run
          process.emitWarning(`aiorch: event listener threw: ${String(err)}`);
        }
      }
    }
  }

  /**
   * Async iteration over the events of the next runs; ends when `signal` aborts (after the
   * events already queued) or when the loop breaks. Subscribes at once, so events emitted
   * between this call and the first `next()` are not lost.
   */
  iterate(signal?: AbortSignal): AsyncGenerator<RunEvent> {
    const queue: RunEvent[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    const off = this.on((e) => {
      queue.push(e);
      wake?.();
    });
    const stop = (): void => {
      stopped = true;
      off();
      signal?.removeEventListener("abort", stop);
      wake?.();
    };
    if (signal?.aborted) stop();
    else signal?.addEventListener("abort", stop, { once: true });
    return (async function* (): AsyncGenerator<RunEvent> {
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift() as RunEvent;
          if (stopped) return;
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      } finally {
        stop();
      }
    })();
  }
}
