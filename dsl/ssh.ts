import type { RetryOptions } from "../src/retry.ts";
import { AiorchError } from "../src/errors.ts";
import {
  type CommandNode,
  type CommandsInput,
  LocalNode,
  type ServiceOptions,
  SshJob,
  service,
} from "../src/ssh/index.ts";
import type { Entry, MakeContext } from "./core.ts";
import { type EachItems, eachEntry, jobEntry, type Readiness } from "./entries.ts";
import type { ParamValue } from "./types.ts";

/** A value, or a function of the scenario's parameters giving it (evaluated at build). */
export type FromParams<T, P> = T | ((params: P) => T);

type RuntimeParams = Readonly<Record<string, ParamValue>>;

/** An `SshJob` entry: `commands` in order on `node` (an SshNode or a LocalNode). */
export function sshEntry({
  label,
  node,
  commands,
  after,
  critical,
  forever,
  readiness,
  retry,
  atMostOnce = false,
}: {
  label: string;
  node: FromParams<CommandNode, RuntimeParams> | undefined;
  commands: FromParams<CommandsInput, RuntimeParams>;
  after: readonly string[];
  critical: boolean | undefined;
  forever: boolean;
  readiness?: Readiness;
  retry?: RetryOptions | undefined;
  /** through workers: fail instead of running twice (see `SshJobOptions.atMostOnce`) */
  atMostOnce?: boolean;
}): Entry {
  return jobEntry({
    label,
    after,
    critical,
    forever,
    ...(readiness ? { readiness } : {}),
    retry,
    create: (ctx: MakeContext) =>
      new SshJob(resolveNode(label, node, ctx), resolve(commands, ctx.params), {
        label: ctx.label,
        atMostOnce,
      }),
  });
}

/**
 * A `service()` entry: forever unless detached (its readiness is the service's own: spawned,
 * then its `ready` check).
 */
export function serviceEntry({
  label,
  node,
  command,
  after,
  critical,
  options,
}: {
  label: string;
  node: FromParams<CommandNode, RuntimeParams>;
  command: string;
  after: readonly string[];
  critical: boolean | undefined;
  options: ServiceOptions;
}): Entry {
  const { after: _a, critical: _c, ...opts } = options as ServiceOptions & { after?: unknown };
  return jobEntry({
    label,
    after,
    critical,
    forever: opts.detach !== true,
    create: (ctx: MakeContext) =>
      service(resolveNode(label, node, ctx), command, { ...opts, label: ctx.label }),
  });
}

/** A fan-out of `SshJob`s: one per node, `label:<node.shortName>` unless `key` says otherwise. */
export function sshEachEntry({
  label,
  nodes,
  commands,
  after,
  critical,
  window,
  timeout,
  key,
  atMostOnce = false,
}: {
  label: string;
  nodes: EachItems<CommandNode>;
  commands:
    | CommandsInput
    | ((node: CommandNode, params: RuntimeParams, index: number) => CommandsInput);
  after: readonly string[];
  critical: boolean | undefined;
  window?: number | undefined;
  timeout?: number | undefined;
  key?: ((node: CommandNode, index: number) => string) | undefined;
  /** through workers: each job fails instead of running twice */
  atMostOnce?: boolean;
}): Entry {
  return eachEntry({
    label,
    items: nodes,
    after,
    critical,
    window,
    timeout,
    key: key ?? ((node) => node.shortName),
    create: (node, jobLabel, ctx, index) =>
      new SshJob(
        node,
        typeof commands === "function" ? commands(node, ctx.params, index) : commands,
        { label: jobLabel, atMostOnce },
      ),
  });
}

function resolve<T>(value: FromParams<T, RuntimeParams>, params: RuntimeParams): T {
  return typeof value === "function" ? (value as (p: RuntimeParams) => T)(params) : value;
}

function resolveNode(
  label: string,
  node: FromParams<CommandNode, RuntimeParams> | undefined,
  ctx: MakeContext,
): CommandNode {
  if (node === undefined) return new LocalNode();
  const n = resolve(node, ctx.params);
  if (!n || typeof n.exec !== "function")
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `ssh("${label}"): node must be an SshNode or a LocalNode`,
      {
        label,
      },
    );
  return n;
}
