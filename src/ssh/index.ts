/** Public SSH API of aiorch (re-exported by name from src/index.ts). */
export {
  type Arg,
  type BaseCommandOptions,
  type Command,
  type CommandOptions,
  type Deferred,
  type ExitSpec,
  type PullCommand,
  type PushCommand,
  type RunCommand,
  type ScriptCommand,
  type ScriptOptions,
  type StringCommand,
  type StringScriptOptions,
  type Vars,
  commandLabel,
  describeCommand,
  pull,
  push,
  run,
  runScript,
  runString,
} from "./commands.ts";
export {
  expandIdentityFile,
  type ResolvedSshConfig,
  resolveSshConfig,
  type SshConfigSource,
  type StrictHostKeyChecking,
} from "./config/resolve.ts";
export { type ExecStatus, type HostKeyPolicy, SshConnection } from "./connection.ts";
export {
  CommandFailedError,
  CommandTimeoutError,
  type ConnectFailure,
  isUnreachableError,
  SshAuthError,
  SshChannelError,
  SshConnectError,
  SshDnsError,
  SshFileError,
  SshHostKeyError,
} from "./errors.ts";
export type {
  BytesCapture,
  CommandOutcome,
  CommandResult,
  CommandResultBase,
  TextCapture,
} from "./exec.ts";
export {
  expandTemplate,
  FORMATS,
  type FileFormatterOptions,
  type FormatName,
  fileFormatter,
  type LineFormatterOptions,
  type LineSink,
  lineFormatter,
  type OutputFormatter,
} from "./formatters.ts";
export {
  type CommandsInput,
  SshJob,
  SshJobFailedError,
  type SshJobOptions,
  SshJobResult,
} from "./job.ts";
export type { Passphrase } from "./keys.ts";
export { configureSsh, type SshSettings } from "./limits.ts";
export { LocalNode, type LocalNodeOptions } from "./local.ts";
export { SshNode, type SshNodeOptions } from "./node.ts";
export { isRawWord, type RawWord, raw } from "./words.ts";
export { DetachedServiceJob, LeftRunning } from "./detach.ts";
export { ServiceJob, type ServiceOptions, type ServiceReady, service } from "./service.ts";
export type { CommandNode } from "./types.ts";
