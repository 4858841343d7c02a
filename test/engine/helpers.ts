/**
 * Test helpers for the engine suite: timed jobs that record when they start and end, and
 * queries over those records ("a ran before b", "at most n at once"). Real timers: assert
 * orders and generous windows, never tight durations (the CI box has 2 shared cores).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type AbstractJob, Job, type JobContext, type Requirement } from "../../src/index.ts";

/** How a recorded job ended. */
export type Outcome = "end" | "throw" | "abort";

/** One timed job's start and end, in ms since the recorder was created. */
export interface Span {
  label: string;
  start: number;
  end?: number;
  outcome?: Outcome;
}

/** Options of {@link Recorder.job}. */
export interface TimedJobOptions<T> {
  /** returned when the job ends @default the label */
  value?: T;
  /** throw this message at the end instead of returning */
  fail?: string;
  /** keep sleeping when the signal aborts (a job that ignores cancellation) */
  ignoreSignal?: boolean;
  critical?: boolean;
  forever?: boolean;
  required?: Requirement;
  shutdown?: () => Promise<unknown> | unknown;
}

/** Records the spans of the jobs it makes. */
export class Recorder {
  readonly spans: Span[] = [];
  /** start/end marks in the order they happened: `+a`, `-a`, `!a` (aborted), `*a` (threw) */
  readonly marks: string[] = [];
  private readonly t0 = performance.now();

  /** ms since the recorder was created */
  now(): number {
    return performance.now() - this.t0;
  }

  /** A job that sleeps `ms` (aborted by its signal unless `ignoreSignal`) then returns or throws. */
  job<T = string>(label: string, ms: number, opts: TimedJobOptions<T> = {}): Job<T> {
    return new Job<T>(
      async (ctx: JobContext) => {
        const span: Span = { label, start: this.now() };
        this.spans.push(span);
        this.marks.push(`+${label}`);
        try {
          await sleep(ms, undefined, opts.ignoreSignal ? {} : { signal: ctx.signal });
        } catch (err) {
          span.end = this.now();
          span.outcome = "abort";
          this.marks.push(`!${label}`);
          throw err;
        }
        span.end = this.now();
        if (opts.fail !== undefined) {
          span.outcome = "throw";
          this.marks.push(`*${label}`);
          throw new Error(opts.fail);
        }
        span.outcome = "end";
        this.marks.push(`-${label}`);
        return (opts.value ?? label) as T;
      },
      {
        label,
        ...(opts.critical === undefined ? {} : { critical: opts.critical }),
        ...(opts.forever === undefined ? {} : { forever: opts.forever }),
        ...(opts.required === undefined ? {} : { required: opts.required }),
        ...(opts.shutdown === undefined ? {} : { shutdown: opts.shutdown }),
      },
    );
  }

  /** The span of a label (the last one when it ran several times). */
  span(label: string): Span {
    const s = this.spans.filter((x) => x.label === label).at(-1);
    if (!s) throw new Error(`job ${label} never started`);
    return s;
  }

  /** Labels in the order they started. */
  started(): string[] {
    return this.spans.map((s) => s.label);
  }

  /** Whether a job with this label started at all. */
  didStart(label: string): boolean {
    return this.spans.some((s) => s.label === label);
  }

  /** True when `a` ended (by any outcome) before `b` started. */
  ranBefore(a: string, b: string): boolean {
    const ia = this.marks.findIndex((m) => m.slice(1) === a && m[0] !== "+");
    const ib = this.marks.indexOf(`+${b}`);
    return ia >= 0 && ib >= 0 && ia < ib;
  }

  /** Most jobs running at the same time (over the given labels, or all). */
  maxConcurrency(labels?: readonly string[]): number {
    let cur = 0;
    let max = 0;
    for (const m of this.marks) {
      if (labels && !labels.includes(m.slice(1))) continue;
      cur += m[0] === "+" ? 1 : -1;
      max = Math.max(max, cur);
    }
    return max;
  }
}

/** Measure how long `fn` takes, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
}

/** Labels of jobs, for compact assertions. */
export function labels(jobs: Iterable<AbstractJob>): string[] {
  return [...jobs].map((j) => j.label);
}

/** A job that does nothing and returns its label (for graph tests). */
export function noop(label: string, required?: Requirement): Job<string> {
  return new Job(async () => label, required === undefined ? { label } : { label, required });
}

/** The double diamond j1 -> {j2, j3} -> j4 -> {j5, j6} -> j7 (plus the extra jobs asked). */
export function doubleDiamond(): Job<string>[] {
  const j1 = noop("j1");
  const j2 = noop("j2", j1);
  const j3 = noop("j3", j1);
  const j4 = noop("j4", [j2, j3]);
  const j5 = noop("j5", j4);
  const j6 = noop("j6", j4);
  const j7 = noop("j7", [j5, j6]);
  return [j1, j2, j3, j4, j5, j6, j7];
}

export { sleep };
