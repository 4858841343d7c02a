/**
 * aiorch: orchestrate dependent async jobs. The root entry holds the engine (jobs,
 * sequences, schedulers), its errors and events, and the SSH building blocks a scenario
 * author writes with; the rest lives in subpaths: `aiorch/ssh` (the whole SSH layer),
 * `aiorch/dsl` (the typed builder), `aiorch/trace` (recording, replay), `aiorch/view`
 * (live view, plain log, report), `aiorch/codegen` (scenarios as data, ts-morph).
 * @packageDocumentation
 */
export {
  AbstractJob,
  Job,
  type JobContext,
  type JobDescription,
  type JobFn,
  type JobOptions,
  type JobState,
  type PlainJobOptions,
  type ReadyCheck,
  type Requirement,
  type Resource,
} from "./job.ts";
export { emitOutput } from "./context.ts";
export { Sequence, type SequenceItem } from "./sequence.ts";
export {
  Scheduler,
  type EndReason,
  type RunOptions,
  type SchedulerItem,
  type SchedulerOptions,
} from "./scheduler.ts";
export type { ShutdownProblem } from "./shutdown.ts";
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
export { addSecrets, isSecretName, MASK, maskSecrets } from "./redact.ts";
export type { BackoffOptions, RetryOptions } from "./retry.ts";
export type {
  JobAttemptEvent,
  JobOutputEvent,
  JobReadyEvent,
  JobStateEvent,
  RunEndEvent,
  RunEvent,
  RunListener,
  RunStartEvent,
  ShutdownEvent,
} from "./events.ts";
export {
  CommandFailedError,
  LocalNode,
  pull,
  push,
  raw,
  run,
  runScript,
  runString,
  service,
  SshJob,
  SshNode,
  type CommandOptions,
  type LocalNodeOptions,
  type ServiceOptions,
  type SshJobOptions,
  type SshNodeOptions,
} from "./ssh/index.ts";
