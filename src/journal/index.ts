/**
 * Durable runs: the journal a recorded run keeps, and resuming from it.
 * Format and rules: docs/trace.md.
 */
export { type JobIdentity, identifyJob } from "./identity.ts";
export { type RerunNote, type ResumePlan, planResume } from "./plan.ts";
export { journalOfTrace, parseJournal, readJournal, readResumeSource } from "./reader.ts";
export {
  JOURNAL_VERSION,
  type Journal,
  type JournalEndEntry,
  type JournalEntry,
  type JournalHeader,
  type JournalJobEntry,
} from "./types.ts";
export {
  createJournal,
  type JournalOptions,
  type JournalSink,
  type JournalWriter,
  journalPathFor,
} from "./writer.ts";
