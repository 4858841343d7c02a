/**
 * Recording runs: the trace format, the recorder, atomic trace files, replay jobs, and the
 * journal that `--resume` reads. Format reference: docs/trace.md.
 */
export {
  createJournal,
  identifyJob,
  JOURNAL_VERSION,
  journalPathFor,
  planResume,
  readJournal,
  readResumeSource,
  type Journal,
  type JournalEntry,
  type JournalHeader,
  type JournalJobEntry,
  type JournalOptions,
  type JournalWriter,
  type ResumePlan,
} from "../journal/index.ts";
export {
  type FinishOptions,
  type Recorder,
  type RecorderOptions,
  createRecorder,
} from "./recorder.ts";
export {
  type RecordedRun,
  type RecordRunOptions,
  recordRun,
  recordToFile,
  type TraceFileRecorder,
} from "./record.ts";
export { type ModuleSource, moduleJob } from "./describe.ts";
export { checkTrace, readTrace, writeTrace, writeTraceSync } from "./file.ts";
export { type ReplayFn, type ReplayOptions, replay, replaySpecOf } from "./replay.ts";
export {
  TRACE_VERSION,
  type JsonValue,
  type ReplaySpec,
  type Trace,
  type TraceAttempt,
  type TraceError,
  type TraceJob,
  type TraceLimits,
  type TraceLine,
  type TraceNode,
  type TraceNodeBase,
  type TraceOutput,
  type TraceRun,
  type TraceScheduler,
  type TraceWork,
} from "./types.ts";
