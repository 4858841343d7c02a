/**
 * The journal of a run: an append-only JSON-lines file next to the trace, one line per job
 * end, flushed to disk (fsync) at each, so a controller killed with `kill -9` loses at most
 * the jobs that were running. `aiorch run --resume` reads it. Reference: docs/trace.md.
 */
import type { JsonValue } from "../json.ts";
import type { TraceError } from "../trace/types.ts";

/** Current version of the journal format; readers reject other major versions. */
export const JOURNAL_VERSION = 1;

/** The first line: which scenario, which run. */
export interface JournalHeader {
  /** always `"aiorch-journal"` */
  format: "aiorch-journal";
  version: number;
  /** the root scheduler's label: a journal of another scenario cannot be resumed */
  scenario: string;
  /** the scenario file (absolute path), when known */
  file?: string;
  /** epoch ms when the run started */
  startedAt: number;
}

/** A job ended: done (ok or failed) or cancelled. */
export interface JournalJobEntry {
  type: "job";
  /** the job's label (unique in the scenario tree) */
  label: string;
  /** labels of the enclosing nested schedulers, outermost first */
  path: string[];
  state: "done" | "cancelled";
  /** done without exception */
  ok: boolean;
  /** `sha256:…` of the job's kind and description; absent when it cannot be described */
  identity?: string;
  /** the result as JSON (absent for undefined, and when it cannot be restored) */
  result?: JsonValue;
  /** why the result cannot be restored (then the job runs again on resume) */
  unrestorable?: string;
  /** it was not run: restored from the journal of an earlier run */
  restored?: true;
  /** attempts made, when more than one */
  attempts?: number;
  /** the exception it ended with */
  error?: TraceError;
  /** epoch ms */
  at: number;
}

/** The root run ended (absent when the controller died). */
export interface JournalEndEntry {
  type: "run-end";
  ok: boolean;
  reason: string;
  at: number;
}

/** A line after the header. */
export type JournalEntry = JournalJobEntry | JournalEndEntry;

/** A journal as read back. */
export interface Journal {
  /** the file it was read from */
  file: string;
  header: JournalHeader;
  /** the last entry of each job, by label */
  jobs: Map<string, JournalJobEntry>;
  /** how the run ended; undefined when it did not end (killed) */
  end?: JournalEndEntry;
  /** what the reader noticed and skipped: a torn last line */
  warnings: string[];
}
