/**
 * Recording runs: the trace format, the recorder, atomic trace files, replay jobs.
 * Format reference: docs/trace.md.
 */
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
