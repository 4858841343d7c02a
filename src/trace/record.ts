import type { RunOptions, Scheduler } from "../scheduler.ts";
import type { AiorchError } from "../errors.ts";
import { createJournal, journalPathFor } from "../journal/writer.ts";
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
  /**
   * keep a journal beside the trace (`run.trace.json` -> `run.trace.journal.jsonl`), flushed
   * at every job end, for `aiorch run --resume`; a path chooses another file, `false` none
   * @default true when `trace` is given
   */
  journal?: boolean | string;
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
  const { scheduler, trace: file, run = {}, signals = false, journal, ...recOpts } = opts;
  const recorder = createRecorder({ scheduler, ...recOpts });
  const journalFile = journalFileOf(file, journal);
  const writer = journalFile
    ? createJournal({
        scheduler,
        journal: journalFile,
        ...(recOpts.file ? { file: recOpts.file } : {}),
      })
    : undefined;
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
    writer?.stop();
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
export function recordToFile(
  opts: RecorderOptions & {
    trace: string;
    /** as {@link RecordRunOptions.journal} @default true */
    journal?: boolean | string;
    /** told when the journal cannot be written (the run goes on) */
    onJournalError?: (error: AiorchError) => void;
  },
): TraceFileRecorder {
  const { trace: file, journal, onJournalError, ...recOpts } = opts;
  const recorder = createRecorder(recOpts);
  const journalFile = journalFileOf(file, journal);
  const writer = journalFile
    ? createJournal({
        scheduler: recOpts.scheduler,
        journal: journalFile,
        ...(recOpts.file ? { file: recOpts.file } : {}),
        ...(onJournalError ? { onError: onJournalError } : {}),
      })
    : undefined;
  return {
    write: (f) => writeTrace({ file, trace: recorder.finish(f) }),
    writeSync: (f) => writeTraceSync({ file, trace: recorder.finish(f) }),
    stop: () => {
      recorder.stop();
      writer?.stop();
    },
  };
}

function journalFileOf(
  trace: string | undefined,
  journal: boolean | string | undefined,
): string | undefined {
  if (typeof journal === "string") return journal;
  return trace !== undefined && journal !== false ? journalPathFor(trace) : undefined;
}
