/**
 * Jobs as data: what the controller puts in the queue for an SshJob, and how a worker turns
 * that data back into an SshJob. Only what a worker can run the same way travels: no
 * function arguments (they read the controller's variables), no `env` (its values are
 * secrets by policy), no local files (scripts, includes, push/pull live on the
 * controller's disk), no passphrase; credentials are the worker's own (keys, agent,
 * ssh_config). A job that does not fit runs in the controller, as without `--redis`.
 * Queue data is untrusted on the worker side: {@link parseJobSpec} checks every field.
 */
import { createHash } from "node:crypto";
import { AiorchError } from "../errors.ts";
import type { AbstractJob } from "../job.ts";
import { type Arg, type Command, run, runString } from "../ssh/commands.ts";
import { SshJob } from "../ssh/job.ts";
import { isRawWord, raw } from "../ssh/words.ts";
import { LocalNode } from "../ssh/local.ts";
import { SshNode, type SshNodeOptions } from "../ssh/node.ts";
import type { CommandNode } from "../ssh/types.ts";

/** A node as data: the options a worker builds its own `SshNode`/`LocalNode` from. */
export type NodeSpec =
  | { type: "ssh"; options: SshSpecOptions; gateway?: NodeSpec | null }
  | { type: "local"; shell?: string };

/** SshNode options that travel (no passphrase, no agent socket path of the controller). */
export type SshSpecOptions = Omit<SshNodeOptions, "passphrase" | "gateway" | "agent"> & {
  agent?: false;
};

/** Command options that travel. */
export interface CommandSpecOptions {
  label?: string;
  timeout?: number;
  allowedExits?: Array<number | string>;
  cwd?: string;
  capture?: string;
  encoding?: "utf8" | "buffer";
  remoteName?: string;
  ignoreOutputs?: boolean;
}

/** A command as data. */
export type CommandSpec =
  | { type: "run"; argv: ArgSpec[]; options?: CommandSpecOptions }
  | { type: "runString"; body: string; args: ArgSpec[]; options?: CommandSpecOptions };

/** An argument as data: a `raw(...)` word is `{ raw: text }`. */
export type ArgSpec = string | number | { raw: string };

/** What a worker runs. */
export interface JobSpec {
  v: 1;
  label: string;
  critical: boolean;
  /** fail instead of running again after a takeover from a dead worker */
  atMostOnce: boolean;
  node: NodeSpec;
  commands: CommandSpec[];
}

/** Why a job runs in the controller, or its spec. */
export type SpecAnswer = { spec: JobSpec; site: string | undefined } | { reason: string };

const SSH_KEYS = [
  "host",
  "name",
  "sshConfig",
  "keepaliveInterval",
  "keepaliveCountMax",
  "port",
  "user",
  "keys",
  "knownHosts",
  "hostKeys",
  "connectTimeout",
  "maxSessions",
  "site",
] as const;
const OPTION_KEYS = [
  "label",
  "timeout",
  "allowedExits",
  "cwd",
  "capture",
  "encoding",
  "remoteName",
  "ignoreOutputs",
] as const;

/** The spec of a job, or why it stays in the controller. */
export function specOf(job: AbstractJob): SpecAnswer {
  if (!(job instanceof SshJob)) return { reason: "not a command job" };
  // a subclass may override run(): only the worker's own SshJob is the same work
  if (Object.getPrototypeOf(job) !== SshJob.prototype) return { reason: "SshJob subclass" };
  if (job.forever) return { reason: "forever job" };
  const node = nodeSpec(job.node);
  if (typeof node === "string") return { reason: node };
  const commands: CommandSpec[] = [];
  for (const c of job.commands) {
    const s = commandSpec(c);
    if (typeof s === "string") return { reason: s };
    commands.push(s);
  }
  const atMostOnce = job.atMostOnce;
  return {
    spec: { v: 1, label: job.label, critical: job.critical, atMostOnce, node, commands },
    site: job.node instanceof SshNode ? job.node.site : undefined,
  };
}

function nodeSpec(node: CommandNode): NodeSpec | string {
  if (node instanceof LocalNode)
    return node.shell === "/bin/sh" ? { type: "local" } : { type: "local", shell: node.shell };
  if (!(node instanceof SshNode)) return "unknown node type";
  if (node.describe().hasPassphrase) return "node with a passphrase";
  const given = node._given;
  const options: Record<string, unknown> = {};
  for (const k of SSH_KEYS) if (given[k] !== undefined) options[k] = given[k];
  if (given.agent === false) options.agent = false;
  // as given: null is "directly", undefined lets the worker's ssh_config decide (ProxyJump)
  const givenGateway = node._givenGateway;
  if (givenGateway === undefined) return { type: "ssh", options: options as SshSpecOptions };
  if (givenGateway === null)
    return { type: "ssh", options: options as SshSpecOptions, gateway: null };
  const gateway = nodeSpec(givenGateway);
  if (typeof gateway === "string") return gateway;
  return { type: "ssh", options: options as SshSpecOptions, gateway };
}

function plainArgs(args: readonly Arg[]): ArgSpec[] | string {
  if (args.some((a) => typeof a === "function")) return "command with a function argument";
  return args.map((a) => (isRawWord(a) ? { raw: a.text } : (a as string | number)));
}

function commandSpec(c: Command): CommandSpec | string {
  if (c.type !== "run" && c.type !== "runString") return `${c.type} (local files)`;
  const o = c.options as CommandSpecOptions & { env?: unknown; includes?: unknown };
  if (o.env !== undefined) return "command with env";
  if (o.includes !== undefined) return "script includes (local files)";
  const options: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (o[k] !== undefined) options[k] = o[k];
  const opt = Object.keys(options).length ? { options: options as CommandSpecOptions } : {};
  if (c.type === "run") {
    const argv = plainArgs(c.argv);
    return typeof argv === "string" ? argv : { type: "run", argv, ...opt };
  }
  const args = plainArgs(c.args);
  return typeof args === "string" ? args : { type: "runString", body: c.body, args, ...opt };
}

/** Stable id of a job of a run: a changed definition gets a new id (it runs again). */
export function jobIdOf(opts: { runId: string; path: readonly string[]; spec: JobSpec }): string {
  const h = createHash("sha256");
  h.update(JSON.stringify([opts.runId, opts.path, opts.spec]));
  return `${opts.runId}.${h.digest("hex").slice(0, 24)}`;
}

// ---- worker side: untrusted data back to objects ----

function bad(path: string, what: string): never {
  throw new AiorchError("INVALID_ARGUMENT", `queue job data: ${path} ${what}`, { option: path });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function checkArgs(x: unknown, path: string): ArgSpec[] {
  if (!Array.isArray(x)) bad(path, "must be an array");
  for (const [i, a] of x.entries()) {
    if (typeof a === "string" || (typeof a === "number" && Number.isFinite(a))) continue;
    if (isRecord(a) && typeof a.raw === "string" && Object.keys(a).length === 1) continue;
    bad(`${path}[${i}]`, "must be a string, a number or { raw: string }");
  }
  return x as ArgSpec[];
}

function argOf(a: ArgSpec): Arg {
  return typeof a === "object" ? raw(a.raw) : a;
}

function checkOptions(x: unknown, path: string): CommandSpecOptions {
  if (x === undefined) return {};
  if (!isRecord(x)) bad(path, "must be an object");
  for (const k of Object.keys(x))
    if (!(OPTION_KEYS as readonly string[]).includes(k)) bad(`${path}.${k}`, "is not allowed");
  // value checks are the command constructors' (run/runString validate their options)
  return x as CommandSpecOptions;
}

function parseNode(
  x: unknown,
  path: string,
  depth = 0,
  gateways?: Map<string, SshNode>,
): CommandNode {
  if (!isRecord(x)) bad(path, "must be an object");
  if (x.type === "local") {
    if (x.shell !== undefined && typeof x.shell !== "string")
      bad(`${path}.shell`, "must be a string");
    return new LocalNode(x.shell === undefined ? {} : { shell: x.shell as string });
  }
  if (x.type !== "ssh") bad(`${path}.type`, 'must be "ssh" or "local"');
  if (!isRecord(x.options)) bad(`${path}.options`, "must be an object");
  for (const k of Object.keys(x.options))
    if (!(SSH_KEYS as readonly string[]).includes(k) && k !== "agent")
      bad(`${path}.options.${k}`, "is not allowed");
  if (x.options.agent !== undefined && x.options.agent !== false)
    bad(`${path}.options.agent`, "may only be false");
  if (depth > 8) bad(path, "has too many gateways");
  const gateway =
    x.gateway === undefined || x.gateway === null
      ? x.gateway
      : (gateways?.get(JSON.stringify(x.gateway)) ??
        parseNode(x.gateway, `${path}.gateway`, depth + 1, gateways));
  if (gateway instanceof SshNode && gateways) gateways.set(JSON.stringify(x.gateway), gateway);
  if (gateway && !(gateway instanceof SshNode)) bad(`${path}.gateway`, "must be ssh");
  // SshNode validates host, port, hostKeys, site…
  return new SshNode({
    ...(x.options as SshSpecOptions),
    ...(gateway !== undefined ? { gateway: gateway as SshNode | null } : {}),
  });
}

/** Check queue data and give the spec; errors name the JSON path. */
export function parseJobSpec(x: unknown): JobSpec {
  if (!isRecord(x)) bad("$", "must be an object");
  if (x.v !== 1) bad("$.v", "must be 1 (a controller of another aiorch version?)");
  if (typeof x.label !== "string") bad("$.label", "must be a string");
  if (typeof x.critical !== "boolean") bad("$.critical", "must be a boolean");
  if (typeof x.atMostOnce !== "boolean") bad("$.atMostOnce", "must be a boolean");
  if (!Array.isArray(x.commands) || x.commands.length === 0)
    bad("$.commands", "must be a non-empty array");
  for (const [i, c] of (x.commands as unknown[]).entries()) {
    const p = `$.commands[${i}]`;
    if (!isRecord(c)) bad(p, "must be an object");
    if (c.type === "run") checkArgs(c.argv, `${p}.argv`);
    else if (c.type === "runString") {
      if (typeof c.body !== "string") bad(`${p}.body`, "must be a string");
      checkArgs(c.args, `${p}.args`);
    } else bad(`${p}.type`, 'must be "run" or "runString"');
    checkOptions(c.options, `${p}.options`);
  }
  parseNode(x.node, "$.node");
  return x as unknown as JobSpec;
}

/**
 * Build the worker's node for a spec (callers cache it per spec: one connection per node);
 * gateways found in `gateways` are shared (one connection to a gateway for all its nodes).
 */
export function nodeFromSpec(spec: NodeSpec, gateways?: Map<string, SshNode>): CommandNode {
  return parseNode(spec, "$.node", 0, gateways);
}

/** Build the SshJob a worker runs. */
export function jobFromSpec(spec: JobSpec, node: CommandNode): SshJob {
  const commands = spec.commands.map((c) =>
    c.type === "run"
      ? run(argOf(c.argv[0] as ArgSpec), ...c.argv.slice(1).map(argOf), c.options ?? {})
      : runString(c.body, c.args.map(argOf), c.options ?? {}),
  );
  return new SshJob(node, commands, { label: spec.label, critical: spec.critical });
}
