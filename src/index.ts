/**
 * aiorch: orchestrate dependent async jobs.
 * @packageDocumentation
 */
export {
  AbstractJob,
  Job,
  emitOutput,
  type JobContext,
  type JobDescription,
  type JobFn,
  type JobOptions,
  type JobState,
  type PlainJobOptions,
  type Requirement,
  type Resource,
} from "./job.ts";
export { Sequence, type SequenceItem } from "./sequence.ts";
export {
  Scheduler,
  type EndReason,
  type RunOptions,
  type SchedulerItem,
  type SchedulerOptions,
  type ShutdownProblem,
} from "./scheduler.ts";
export {
  AiorchError,
  CancelledError,
  CycleError,
  SchedulerFailedError,
  ValidationError,
  describeError,
  type AiorchErrorCode,
  type AiorchErrorFacts,
} from "./errors.ts";
export type {
  JobOutputEvent,
  JobStateEvent,
  RunEndEvent,
  RunEvent,
  RunListener,
  RunStartEvent,
  ShutdownEvent,
} from "./events.ts";
