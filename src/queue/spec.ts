/**
 * Jobs as data: what the controller puts in the queue for a job, and how a worker turns
 * that data back into a job. Two kinds travel: command jobs (an `SshJob` on an
 * `SshNode`/`LocalNode`) and module jobs (a `moduleJob` body, or a data scenario's `call:`:
 * the worker imports the module by absolute path, or under its `--root` by the path
 * relative to the project root, and calls the export with the JSON arguments). Only what a worker can run the same way travels: no function arguments
 * (they read the controller's variables), no `env` (its values are secrets by policy), no
 * local files (scripts, includes, push/pull live on the controller's disk), no passphrase;
 * credentials are the worker's own (keys, agent, ssh_config). A job that does not fit runs
 * in the controller, as without `--redis`.
 * Queue data is untrusted on the worker side: {@link parseJobSpec} checks every field.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, realpathSync } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { dirname, isAbsolute, normalize, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AiorchError } from "../errors.ts";
import { type AbstractJob, Job } from "../job.ts";
import { hasSecrets, isSecretName, maskSecrets } from "../redact.ts";
import type { ModuleCall } from "../trace/describe.ts";
import type { JsonValue } from "../trace/types.ts";
import {
  type Arg,
  type Command,
  commandLabel,
  push,
  run,
  runScript,
  runString,
} from "../ssh/commands.ts";
import { SshJob } from "../ssh/job.ts";
import { isRawWord, raw } from "../ssh/words.ts";
import { moduleRefOf, projectRootOf } from "./root.ts";
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
  /** script includes: absolute paths of the controller's files (their contents in `files`) */
  includes?: string[];
}

/**
 * A command as data. `runScript` and `push` name the controller's files by absolute path;
 * their contents travel in the job's `files`, read when the job starts.
 */
export type CommandSpec =
  | { type: "run"; argv: ArgSpec[]; options?: CommandSpecOptions }
  | { type: "runString"; body: string; args: ArgSpec[]; options?: CommandSpecOptions }
  | { type: "runScript"; path: string; args: ArgSpec[]; options?: CommandSpecOptions }
  | { type: "push"; locals: string[]; remote: string; options?: CommandSpecOptions };

/** A local file as data: its bytes (base64) and permission bits. */
export interface FileSpec {
  data: string;
  mode: number;
}

/** An argument as data: a `raw(...)` word is `{ raw: text }`. */
export type ArgSpec = string | number | { raw: string };

/** Version of the queue data: a worker rejects data of another version. */
export const SPEC_VERSION = 3;

/** What every job spec has. */
interface SpecBase {
  v: typeof SPEC_VERSION;
  label: string;
  critical: boolean;
  /** fail instead of running again after a takeover from a dead worker */
  atMostOnce: boolean;
}

/** A command job a worker runs. */
export interface CommandJobSpec extends SpecBase {
  kind: "commands";
  node: NodeSpec;
  commands: CommandSpec[];
  /**
   * contents of the controller's files the commands read (scripts, includes, pushed
   * files), by absolute path, read when the job starts (not part of its id)
   */
  files?: Record<string, FileSpec>;
}

/** A module job a worker runs: `(await import(module))[name](ctx, ...args)`. */
export interface ModuleJobSpec extends SpecBase {
  kind: "module";
  /** absolute path of the module file on the controller, symlinks resolved */
  module: string;
  /**
   * absolute path of the project root on the controller (`aiorch run --root`, else the
   * nearest `package.json` folder above the scenario file): a worker started with
   * `--root DIR` imports a module under it from DIR plus the module's relative path
   */
  root: string;
  /** export name */
  name: string;
  args: JsonValue[];
  /**
   * the run's variables when the job started (not part of its id); names that look secret
   * and values holding a declared secret are left out
   */
  vars?: Record<string, string>;
}

/** What a worker runs. */
export type JobSpec = CommandJobSpec | ModuleJobSpec;

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
    spec: {
      v: SPEC_VERSION,
      kind: "commands",
      label: job.label,
      critical: job.critical,
      atMostOnce,
      node,
      commands,
    },
    site: job.node instanceof SshNode ? job.node.site : undefined,
  };
}

/**
 * The spec of a module job, or why it stays in the controller. The module is looked up
 * by path in the directories of `call` (the file that called `moduleJob`), else in
 * `baseDir` (the scenario file's directory); it counts as found only when its export is
 * the very function the job calls (already imported by the scenario, so no new code runs
 * but in a wrong candidate file). `root` is the project root sent with it (absolute,
 * symlinks resolved), by default the module's own ({@link projectRootOf}).
 */
export async function moduleSpecOf(
  job: AbstractJob,
  call: ModuleCall,
  baseDir?: string,
  root?: string,
): Promise<SpecAnswer> {
  if (!(job instanceof Job) || Object.getPrototypeOf(job) !== Job.prototype)
    return { reason: "Job subclass" };
  if (job.forever) return { reason: "forever job" };
  const notJson = notJsonAt(call.args, "$");
  if (notJson !== undefined) return { reason: `argument not JSON at ${notJson}` };
  if (!call.module.startsWith(".") && !isAbsolute(call.module))
    return { reason: `module "${call.module}" is not a path` };
  const dirs = call.dirs.length > 0 ? call.dirs : baseDir === undefined ? [] : [baseDir];
  for (const dir of dirs) {
    const path = resolve(dir, call.module);
    if (!existsSync(path)) continue;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (exportOf(mod, call.name) !== call.fn) continue;
    // the real path, as the module's own import.meta.url: what lies under the real root
    const module = realpathSync(path);
    return {
      spec: {
        v: SPEC_VERSION,
        kind: "module",
        label: job.label,
        critical: job.critical,
        atMostOnce: call.atMostOnce === true,
        module,
        root: root ?? projectRootOf(dirname(module)),
        name: call.name,
        args: [...call.args],
      },
      site: undefined,
    };
  }
  return { reason: `export "${call.name}" of ${call.module} not found` };
}

/** An export of a module, also through a CommonJS module's `default`. */
export function exportOf(mod: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(mod, name)) return mod[name];
  const d = mod.default;
  return typeof d === "object" && d !== null && Object.hasOwn(d, name)
    ? (d as Record<string, unknown>)[name]
    : undefined;
}

/**
 * The JSON path of the first part of `x` that JSON does not carry as is (undefined when
 * all of it does): functions, undefined, symbols, bigints, NaN/Infinity, class instances
 * (Map, Date, Buffer…), cycles.
 */
export function notJsonAt(x: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (x === null || typeof x === "string" || typeof x === "boolean") return undefined;
  if (typeof x === "number") return Number.isFinite(x) ? undefined : path;
  if (typeof x !== "object") return path;
  if (seen.has(x)) return path;
  seen.add(x);
  try {
    if (Array.isArray(x)) {
      for (const [i, y] of x.entries()) {
        const at = notJsonAt(y, `${path}[${i}]`, seen);
        if (at !== undefined) return at;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return path;
    for (const [k, y] of Object.entries(x)) {
      const at = notJsonAt(
        y,
        /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`,
        seen,
      );
      if (at !== undefined) return at;
    }
    return undefined;
  } finally {
    seen.delete(x);
  }
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
  if (c.type === "pull") return "pull (writes to the controller's disk)";
  const o = c.options as CommandSpecOptions & { env?: unknown; includes?: readonly string[] };
  if (o.env !== undefined) return "command with env";
  const options: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (o[k] !== undefined) options[k] = o[k];
  if (c.type === "runScript" || c.type === "push") options.label ??= commandLabel(c);
  if (o.includes !== undefined) {
    const includes = localFiles(o.includes, "script include");
    if (typeof includes === "string") return includes;
    options.includes = includes;
  }
  const opt = Object.keys(options).length ? { options: options as CommandSpecOptions } : {};
  if (c.type === "run") {
    const argv = plainArgs(c.argv);
    return typeof argv === "string" ? argv : { type: "run", argv, ...opt };
  }
  if (c.type === "push") {
    const locals = localFiles(c.locals, "push of");
    if (typeof locals === "string") return locals;
    return { type: "push", locals, remote: c.remote, ...opt };
  }
  const args = plainArgs(c.args);
  if (typeof args === "string") return args;
  if (c.type === "runString") return { type: "runString", body: c.body, args, ...opt };
  const path = localFiles([c.path], "runScript of");
  return typeof path === "string"
    ? path
    : { type: "runScript", path: path[0] as string, args, ...opt };
}

/**
 * Absolute paths of local files whose contents can travel, or why not: each must be a
 * regular file when the run starts (a directory, a link or a file made by an earlier job
 * keeps the job in the controller).
 */
function localFiles(paths: readonly string[], what: string): string[] | string {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let file = false;
    try {
      file = !p.endsWith("/") && lstatSync(abs).isFile();
    } catch {}
    if (!file) return `${what} ${p}: not a regular file at start`;
    out.push(abs);
  }
  return out;
}

/**
 * The run's variables a module job on a worker gets: not those under secret-looking names,
 * nor values holding a declared secret (the queue carries no secret).
 */
export function travellingVars(vars: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  const masking = hasSecrets();
  for (const [k, v] of Object.entries(vars))
    if (!isSecretName(k) && !(masking && maskSecrets(v) !== v)) out[k] = v;
  return out;
}

/** Every local file the commands of a spec read. */
export function localFilesOf(spec: CommandJobSpec): string[] {
  const out = new Set<string>();
  for (const c of spec.commands) {
    if (c.type === "runScript") out.add(c.path);
    if (c.type === "push") for (const p of c.locals) out.add(p);
    for (const p of c.options?.includes ?? []) out.add(p);
  }
  return [...out];
}

/** Most bytes of local files one job carries: a larger job runs in the controller. */
export const FILES_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The contents of `paths` as data, read now; undefined when one cannot be read as a regular
 * file or they exceed {@link FILES_MAX_BYTES} (the job then runs in the controller, where
 * it fails or succeeds as in a local run).
 */
export async function readFiles(
  paths: readonly string[],
): Promise<Record<string, FileSpec> | undefined> {
  const out: Record<string, FileSpec> = {};
  let total = 0;
  for (const p of paths) {
    try {
      const st = await lstat(p);
      total += st.size;
      if (!st.isFile() || total > FILES_MAX_BYTES) return undefined;
      out[p] = { data: (await readFile(p)).toString("base64"), mode: st.mode & 0o7777 };
    } catch {
      return undefined;
    }
  }
  return out;
}
/**
 * Stable id of a job of a run: a changed definition gets a new id (it runs again). A
 * module job's module counts by its path relative to the project root when under it, so
 * `--resume` from a checkout at another path finds the same jobs.
 */
export function jobIdOf(opts: { runId: string; path: readonly string[]; spec: JobSpec }): string {
  const h = createHash("sha256");
  // a module job's variables and a command job's file contents are its input at start,
  // not its definition
  const { vars: _v, files: _f, ...definition } = opts.spec as unknown as Record<string, unknown>;
  if (opts.spec.kind === "module") {
    definition.module = moduleRefOf(opts.spec);
    delete definition.root;
  }
  h.update(JSON.stringify([opts.runId, opts.path, definition]));
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
    if (!(OPTION_KEYS as readonly string[]).includes(k) && k !== "includes")
      bad(`${path}.${k}`, "is not allowed");
  if (x.includes !== undefined) {
    if (!Array.isArray(x.includes)) bad(`${path}.includes`, "must be an array");
    for (const [i, p] of x.includes.entries()) checkPath(p, `${path}.includes[${i}]`);
  }
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

const EXPORT_NAME = /^[A-Za-z_$][\w$]{0,127}$/;

/** Check queue data and give the spec; errors name the JSON path. */
export function parseJobSpec(x: unknown): JobSpec {
  if (!isRecord(x)) bad("$", "must be an object");
  if (x.v !== SPEC_VERSION)
    bad("$.v", `must be ${SPEC_VERSION} (a controller of another aiorch version?)`);
  if (typeof x.label !== "string") bad("$.label", "must be a string");
  if (typeof x.critical !== "boolean") bad("$.critical", "must be a boolean");
  if (typeof x.atMostOnce !== "boolean") bad("$.atMostOnce", "must be a boolean");
  if (x.kind === "module") return parseModuleSpec(x);
  if (x.kind !== "commands") bad("$.kind", 'must be "commands" or "module"');
  if (!Array.isArray(x.commands) || x.commands.length === 0)
    bad("$.commands", "must be a non-empty array");
  for (const [i, c] of (x.commands as unknown[]).entries()) {
    const p = `$.commands[${i}]`;
    if (!isRecord(c)) bad(p, "must be an object");
    if (c.type === "run") checkArgs(c.argv, `${p}.argv`);
    else if (c.type === "runString") {
      if (typeof c.body !== "string") bad(`${p}.body`, "must be a string");
      checkArgs(c.args, `${p}.args`);
    } else if (c.type === "runScript") {
      checkPath(c.path, `${p}.path`);
      checkArgs(c.args, `${p}.args`);
    } else if (c.type === "push") {
      if (!Array.isArray(c.locals) || c.locals.length === 0)
        bad(`${p}.locals`, "must be a non-empty array");
      for (const [j, l] of c.locals.entries()) checkPath(l, `${p}.locals[${j}]`);
      if (typeof c.remote !== "string" || c.remote === "")
        bad(`${p}.remote`, "must be a non-empty string");
    } else bad(`${p}.type`, 'must be "run", "runString", "runScript" or "push"');
    checkOptions(c.options, `${p}.options`);
  }
  parseNode(x.node, "$.node");
  const spec = x as unknown as CommandJobSpec;
  if (x.files !== undefined && !isRecord(x.files)) bad("$.files", "must be an object");
  for (const f of localFilesOf(spec)) {
    const at = `$.files[${JSON.stringify(f)}]`;
    const file = spec.files?.[f] as unknown;
    if (!isRecord(file)) bad(at, "is missing");
    if (typeof file.data !== "string" || !BASE64.test(file.data))
      bad(`${at}.data`, "must be base64");
    if (!Number.isInteger(file.mode) || (file.mode as number) < 0 || (file.mode as number) > 0o7777)
      bad(`${at}.mode`, "must be permission bits");
  }
  return spec;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkPath(x: unknown, path: string): void {
  if (typeof x !== "string" || !isAbsolute(x) || x.includes("\0"))
    bad(path, "must be an absolute path");
}

/** The controller sends resolved paths: a `.`/`..` segment or a doubled `/` is refused. */
function checkNormalPath(x: unknown, path: string): void {
  checkPath(x, path);
  if (normalize(x as string) !== x) bad(path, "must be a normalised absolute path");
}

function parseModuleSpec(x: Record<string, unknown>): ModuleJobSpec {
  for (const k of Object.keys(x))
    if (
      ![
        "v",
        "kind",
        "label",
        "critical",
        "atMostOnce",
        "module",
        "root",
        "name",
        "args",
        "vars",
      ].includes(k)
    )
      bad(`$.${k}`, "is not allowed");
  checkNormalPath(x.module, "$.module");
  checkNormalPath(x.root, "$.root");
  if (typeof x.name !== "string" || !EXPORT_NAME.test(x.name))
    bad("$.name", "must be an export name");
  if (!Array.isArray(x.args)) bad("$.args", "must be an array");
  const notJson = notJsonAt(x.args, "$.args");
  if (notJson !== undefined) bad(notJson, "must be JSON");
  if (x.vars !== undefined) {
    if (!isRecord(x.vars)) bad("$.vars", "must be an object");
    for (const [k, v] of Object.entries(x.vars))
      if (typeof v !== "string") bad(`$.vars[${JSON.stringify(k)}]`, "must be a string");
  }
  return x as unknown as ModuleJobSpec;
}

/**
 * Build the worker's node for a spec (callers cache it per spec: one connection per node);
 * gateways found in `gateways` are shared (one connection to a gateway for all its nodes).
 */
export function nodeFromSpec(spec: NodeSpec, gateways?: Map<string, SshNode>): CommandNode {
  return parseNode(spec, "$.node", 0, gateways);
}

/**
 * Build the SshJob a worker runs; `staged` maps the controller's file paths to the worker's
 * copies of them (see {@link CommandJobSpec.files}).
 */
export function jobFromSpec(
  spec: CommandJobSpec,
  node: CommandNode,
  staged: ReadonlyMap<string, string> = new Map(),
): SshJob {
  const local = (p: string) => staged.get(p) ?? p;
  const commands = spec.commands.map((c): Command => {
    const { includes, ...rest } = c.options ?? {};
    const o = includes ? { ...rest, includes: includes.map(local) } : rest;
    switch (c.type) {
      case "run":
        return run(argOf(c.argv[0] as ArgSpec), ...c.argv.slice(1).map(argOf), o);
      case "runString":
        return runString(c.body, c.args.map(argOf), o);
      case "runScript":
        return runScript(local(c.path), c.args.map(argOf), o);
      case "push":
        return push(c.locals.map(local), c.remote, o);
    }
  });
  return new SshJob(node, commands, { label: spec.label, critical: spec.critical });
}
