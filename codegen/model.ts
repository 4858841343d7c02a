/**
 * The codegen model: one plain description of a scenario that traces (`traceToModel`) and
 * data files (`parseDataScenario`) produce, and that `generateScenario` (TypeScript code)
 * and `buildFromModel` (a runnable Scheduler) consume.
 */
import type { JsonValue, ReplaySpec } from "../src/trace/types.ts";

/** A whole scenario. */
export interface ScenarioModel {
  /** scenario name: the label of the root scheduler */
  name: string;
  /** bound on the whole run, ms @default none */
  timeout?: number;
  /** most jobs running at once @default no limit */
  window?: number;
  /** default criticality of its jobs @default true */
  critical?: boolean;
  /** nodes referenced by command jobs, by id, in declaration order */
  nodes: NodeModel[];
  /** jobs and nested scenarios, in insertion order */
  jobs: JobModel[];
  /** folder that relative paths (function modules) are relative to @default the cwd */
  baseDir?: string;
}

/** A node declaration: `new SshNode({...})` or `new LocalNode()`. */
export type NodeModel = SshNodeModel | LocalNodeModel;

/** An SSH node. */
export interface SshNodeModel {
  id: string;
  type: "ssh";
  host: string;
  /** display name, when it is not the host */
  name?: string;
  port?: number;
  user?: string;
  keys?: string[];
  /** id of the node this one is reached through */
  gateway?: string;
  knownHosts?: string;
  hostKeys?: "verify" | "accept-new" | "off";
  connectTimeout?: number;
  maxSessions?: number;
  /** `false` disables the agent */
  agent?: false;
  /** the passphrase comes from this environment variable (secrets are never in a model) */
  passphraseEnv?: string;
}

/** The local machine. */
export interface LocalNodeModel {
  id: string;
  type: "local";
  /** @default "/bin/sh" */
  shell?: string;
}

/** What every job has. */
export interface JobModelBase {
  label: string;
  /** labels of earlier jobs of the same scenario it waits for */
  after: string[];
  /** explicit criticality; absent inherits the scenario's */
  critical?: boolean;
  forever?: boolean;
  /** when a forever job (or a service) is ready, so its dependents start @default once started */
  ready?: ReadyModel;
  /** ms bound on becoming ready @default none */
  readyTimeout?: number;
  /** run again when it throws: attempts in all, and the backoff (initial delay in ms, or the full form) */
  retry?: RetryModel;
}

/** A job's `retry` option, as data. */
export interface RetryModel {
  attempts: number;
  backoff?: number | { initial?: number; max?: number; factor?: number };
}

/**
 * A readiness check: a command retried until it exits 0 or an allowed exit (services
 * only), or a pattern (RegExp source and flags) one output line must match.
 */
export type ReadyModel =
  | { run: ArgModel[]; allowedExits?: (number | string)[] }
  | { output: string; flags?: string };

/** A job of a scenario. */
export type JobModel =
  | CommandsJobModel
  | ServiceJobModel
  | FunctionJobModel
  | ReplayJobModel
  | ScenarioJobModel;

/** A remote command kept running: `.service(label, node, command, {...})`. */
export interface ServiceJobModel extends JobModelBase {
  kind: "service";
  /** a node id */
  node: string;
  /** one shell command line */
  command: string;
  /** ms between two tries of a `ready` command @default 250 */
  readyInterval?: number;
  /** leave it running after the run (not a forever job then) */
  detach?: boolean;
  env?: Record<string, ArgModel>;
  cwd?: string;
  /** signal name without SIG @default "TERM" */
  stopSignal?: string;
  stopTimeout?: number;
  /** detached: the remote log file */
  log?: string;
}

/** Commands run in order on a node: `.ssh(label, node, [run(...), ...])`. */
export interface CommandsJobModel extends JobModelBase {
  kind: "commands";
  /** a node id */
  node: string;
  commands: CommandModel[];
}

/** A function exported by a module, called as `name(ctx, ...args)`. */
export interface FunctionJobModel extends JobModelBase {
  kind: "function";
  /** module specifier: relative to `baseDir`, absolute, or a package name */
  module: string;
  /** export name */
  name: string;
  args?: JsonValue[];
}

/** A job reproducing a recorded duration and outcome (opaque functions of a trace). */
export interface ReplayJobModel extends JobModelBase {
  kind: "replay";
  replay: ReplaySpec;
  /** why it is a replay, shown in a comment of the generated code */
  note?: string;
}

/** A nested scenario: `.include(label, sub)`. */
export interface ScenarioJobModel extends JobModelBase {
  kind: "scenario";
  timeout?: number;
  window?: number;
  jobs: JobModel[];
}

/** An argument of a command: shell-quoted unless it is the first word of `run`. */
export type ArgModel =
  | string
  | number
  /** the value of a captured variable, read when the command starts */
  | { var: string }
  /** a function of the variables, as JavaScript source (from a trace) */
  | { deferred: string }
  /** an environment variable of the aiorch process (secrets are never recorded) */
  | { fromEnv: string }
  /** a shell word given unquoted (`raw(">")`) */
  | { raw: string };

/** Options of a command. */
export interface CommandOptionsModel {
  label?: string;
  timeout?: number;
  allowedExits?: (number | string)[];
  env?: Record<string, ArgModel>;
  cwd?: string;
  capture?: string;
  /** how a capture keeps stdout @default "utf8" */
  encoding?: "utf8" | "buffer";
  ignoreOutputs?: boolean;
  includes?: string[];
  remoteName?: string;
}

/** A command of a commands job. */
export type CommandModel =
  | { type: "run"; argv: ArgModel[]; options?: CommandOptionsModel }
  | { type: "runScript"; path: string; args: ArgModel[]; options?: CommandOptionsModel }
  | { type: "runString"; body: string; args: ArgModel[]; options?: CommandOptionsModel }
  | { type: "push"; locals: string[]; remote: string; options?: CommandOptionsModel }
  | { type: "pull"; remotes: string[]; local: string; options?: CommandOptionsModel };

/** Every job of a model, depth first, with the scenario it is in. */
export function* walkJobs(jobs: readonly JobModel[]): Generator<JobModel> {
  for (const j of jobs) {
    yield j;
    if (j.kind === "scenario") yield* walkJobs(j.jobs);
  }
}
