import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { AiorchError } from "../errors.ts";
import type { RunEvent } from "../events.ts";
import type { AbstractJob } from "../job.ts";
import type { PlanNode } from "../model.ts";
import { Scheduler } from "../scheduler.ts";
import { jsonBytesOver, Redactor, sanitizeDescription, toTraceError } from "../trace/capture.ts";
import { identifyJob } from "./identity.ts";
import {
  JOURNAL_VERSION,
  type JournalEntry,
  type JournalHeader,
  type JournalJobEntry,
} from "./types.ts";

/** Options of {@link createJournal}. */
export interface JournalOptions {
  /** the root scheduler whose runs are journaled */
  scheduler: Scheduler;
  /**
   * the journal file (created, or truncated at each run start), or where else the lines go
   * (`aiorch run --redis` keeps them in Redis: see {@link JournalSink})
   */
  journal: string | JournalSink;
  /** the scenario file, recorded in the header */
  file?: string;
  /** most bytes of one job's result (as JSON); larger ones are not restorable @default 1048576 */
  resultBytes?: number;
  /** called once when writing fails (the run goes on, unjournaled) @default rethrown as a warning */
  onError?: (error: AiorchError) => void;
}

/**
 * Where a journal's lines go: `start` at each run start (the previous run's lines are
 * dropped), `append` for each line in order (it must be durable, or at least ordered, when
 * it returns), `close` at the run's end. A throw stops the journal (reported once).
 */
export interface JournalSink {
  /** what the journal is called in messages (a file name, a run in Redis) */
  readonly name: string;
  start(): void;
  append(line: string): void;
  close(): void;
}

/** A journal attached to a scheduler's events. */
export interface JournalWriter {
  /** the file written (or the sink's name) */
  readonly file: string;
  /** Stop listening and close the file. */
  stop(): void;
}

/**
 * Keep the journal of every run of `scheduler`: a header line at run start, then one JSON
 * line per job end (state, identity, result), each flushed to disk with fsync before the
 * next event is handled, and a last line when the run ends. Secrets are never written: a
 * result holding one is not kept (that job runs again on resume).
 *
 * @example
 * ```ts
 * const journal = createJournal({ scheduler, journal: "run.trace.journal.jsonl" });
 * try { await scheduler.run(); } finally { journal.stop(); }
 * ```
 */
export function createJournal(opts: JournalOptions): JournalWriter {
  const { scheduler: root } = opts;
  const sink = typeof opts.journal === "string" ? fileSink(opts.journal) : opts.journal;
  const file = sink.name;
  const maxBytes = opts.resultBytes ?? 1_048_576;
  let open_ = false;
  let failed = false;
  let redactor = new Redactor();

  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    const error = new AiorchError(
      "JOURNAL",
      `cannot write the journal ${file}: ${(err as Error).message}`,
      { file, cause: err },
    );
    if (opts.onError) opts.onError(error);
    else process.emitWarning(error.message);
  };

  const append = (line: JournalHeader | JournalEntry): void => {
    if (!open_ || failed) return;
    try {
      sink.append(JSON.stringify(line));
    } catch (err) {
      fail(err);
    }
  };

  const open = (startedAt: number, plan: PlanNode): void => {
    close();
    failed = false;
    // secrets of the descriptions (passwords, env values…) are known before any job ends:
    // the run's plan holds every job's description already
    redactor = new Redactor();
    const collect = (n: PlanNode): void => {
      sanitizeDescription(n.description, redactor);
      for (const k of n.children ?? []) collect(k);
    };
    collect(plan);
    try {
      sink.start();
      open_ = true;
    } catch (err) {
      fail(err);
      return;
    }
    append({
      format: "aiorch-journal",
      version: JOURNAL_VERSION,
      scenario: root.label,
      ...(opts.file ? { file: opts.file } : {}),
      startedAt,
    });
  };

  const close = (): void => {
    if (!open_) return;
    open_ = false;
    try {
      sink.close();
    } catch {
      // already closed or broken: nothing more to save
    }
  };

  const entryOf = (job: AbstractJob, e: RunEvent & { type: "job-state" }): JournalJobEntry => {
    const ok = e.state === "done" && e.error === undefined;
    const id = identifyJob(job);
    const base: JournalJobEntry = {
      type: "job",
      label: job.label,
      path: [...e.path],
      state: e.state === "done" ? "done" : "cancelled",
      ok,
      ...("identity" in id ? { identity: id.identity } : {}),
      at: e.time,
      ...(e.restored ? { restored: true as const } : {}),
      ...(job.attempts > 1 ? { attempts: job.attempts } : {}),
    };
    if (!ok)
      return e.error === undefined ? base : { ...base, error: toTraceError(e.error, redactor) };
    let kept: ReturnType<AbstractJob["journalResult"]>;
    try {
      kept = job.journalResult(job.result(), { maxBytes });
    } catch (err) {
      kept = { unrestorable: `its journalResult() threw: ${String(err)}` };
    }
    if ("unrestorable" in kept) return { ...base, unrestorable: kept.unrestorable };
    if (kept.result === undefined) return base;
    // counted before the text is built: a 47 MB result never becomes a 63 MB string here
    if (jsonBytesOver(kept.result, maxBytes))
      return { ...base, unrestorable: `its result is larger than ${maxBytes} bytes` };
    const text = JSON.stringify(kept.result);
    if (Buffer.byteLength(text) > maxBytes)
      return { ...base, unrestorable: `its result is larger than ${maxBytes} bytes` };
    if (redactor.size > 0 && redactor.mask(text) !== text)
      return { ...base, unrestorable: "its result holds a secret" };
    return { ...base, result: kept.result };
  };

  const off = root.on((e) => {
    if (e.type === "run-start") {
      if (e.scheduler === root) open(e.time, e.plan ?? root.plan());
      return;
    }
    if (e.type === "job-state") {
      if ((e.state !== "done" && e.state !== "cancelled") || e.job instanceof Scheduler) return;
      append(entryOf(e.job, e));
      return;
    }
    if (e.type === "run-end" && e.scheduler === root) {
      append({ type: "run-end", ok: e.ok, reason: e.reason, at: e.time });
      close();
    }
  });

  return {
    file,
    stop(): void {
      off();
      close();
    },
  };
}

/** A journal file: truncated at each run start, each line fsync'd before the next event. */
function fileSink(file: string): JournalSink {
  let fd: number | undefined;
  return {
    name: file,
    start() {
      if (fd !== undefined) closeSync(fd);
      fd = openSync(file, "w", 0o600);
    },
    append(line) {
      if (fd === undefined) return;
      writeSync(fd, `${line}\n`);
      fsyncSync(fd);
    },
    close() {
      if (fd === undefined) return;
      const f = fd;
      fd = undefined;
      closeSync(f);
    },
  };
}

/** The journal beside a trace: `run.trace.json` -> `run.trace.journal.jsonl`. */
export function journalPathFor(trace: string): string {
  return `${trace.replace(/\.json$/i, "")}.journal.jsonl`;
}
