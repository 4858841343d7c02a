import type { RunOptions, Scheduler } from "../scheduler.ts";
import { writeTrace, writeTraceSync } from "./file.ts";
import { createRecorder, type FinishOptions, type RecorderOptions } from "./recorder.ts";
import type { Trace } from "./types.ts";

/** Options of {@link recordRun}. */
export interface RecordRunOptions extends Omit<RecorderOptions, "scheduler"> {
  /** the scheduler to run */
  scheduler: Scheduler;
  /** where to write the trace; omit to only get it back @default undefined */
  trace?: string;
  /** options of the run (timeout, window, signal, vars) @default {} */
  run?: RunOptions;
  /**
   * cancel the run on SIGINT/SIGTERM and record it as `interrupted` (the trace is still
   * written); handlers are removed when the run ends
   * @default false
   */
  signals?: boolean;
}

/** What {@link recordRun} gives back. */
export interface RecordedRun {
  /** what `run()` resolved */
  ok: boolean;
  /** the trace (also written to `trace` when given) */
  trace: Trace;
}

/**
 * Run a scheduler while recording it, and write the trace atomically at the end, whatever
 * the end: success, failure, timeout, cancellation, interruption, or an invalid scenario
 * (then the trace is written and the validation error rethrown).
 *
 * @example
 * ```ts
 * const { ok, trace } = await recordRun({ scheduler, trace: "run.trace.json", signals: true });
 * ```
 */
export async function recordRun(opts: RecordRunOptions): Promise<RecordedRun> {
  const { scheduler, trace: file, run = {}, signals = false, ...recOpts } = opts;
  const recorder = createRecorder({ scheduler, ...recOpts });
  const ac = new AbortController();
  let signal: string | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    signal = sig;
    ac.abort();
  };
  if (signals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  const parent = run.signal;
  const onParent = (): void => ac.abort(parent?.reason);
  if (parent?.aborted) ac.abort(parent.reason);
  else parent?.addEventListener("abort", onParent, { once: true });
  const overrides = {
    ...(run.timeout === undefined ? {} : { timeout: run.timeout }),
    ...(run.window === undefined ? {} : { window: run.window }),
  };
  try {
    const ok = await scheduler.run({ ...run, signal: ac.signal });
    const trace = recorder.finish({ ok, ...overrides, ...(signal ? { signal } : {}) });
    if (file) await writeTrace({ file, trace });
    return { ok, trace };
  } catch (error) {
    const trace = recorder.finish({ ok: false, error, ...overrides });
    if (file) await writeTrace({ file, trace });
    throw error;
  } finally {
    recorder.stop();
    parent?.removeEventListener("abort", onParent);
    if (signals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}

/** A recorder bound to a trace file, for callers that run the scheduler themselves (the CLI). */
export interface TraceFileRecorder {
  /** Finish the trace and write it atomically. */
  write(f: FinishOptions): Promise<void>;
  /** Same, synchronously: for a process about to exit (second Ctrl-C). */
  writeSync(f: FinishOptions): void;
  /** Stop listening. */
  stop(): void;
}

/**
 * Attach a recorder whose trace goes to `trace`: call `write()` once the run ended (or
 * `writeSync()` when exiting at once).
 *
 * @example
 * ```ts
 * const rec = recordToFile({ scheduler, trace: "run.trace.json" });
 * const ok = await scheduler.run();
 * await rec.write({ ok });
 * ```
 */
export function recordToFile(opts: RecorderOptions & { trace: string }): TraceFileRecorder {
  const { trace: file, ...recOpts } = opts;
  const recorder = createRecorder(recOpts);
  return {
    write: (f) => writeTrace({ file, trace: recorder.finish(f) }),
    writeSync: (f) => writeTraceSync({ file, trace: recorder.finish(f) }),
    stop: () => recorder.stop(),
  };
}
