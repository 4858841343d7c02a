/**
 * Readiness of services: a service is ready once its remote process is spawned, and then,
 * when it has a check, once that check passes: a command retried until it exits 0 (or an
 * allowed exit), a pattern on its output lines, or a function. Detached services, whose
 * output goes to a remote log file, match the pattern against that file.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { AiorchError } from "../errors.ts";
import type { JobContext, JobOptions, ReadyCheck } from "../job.ts";
import {
  type Arg,
  commandLine,
  describeArg,
  describeEnv,
  type RunCommand,
  shellWord,
} from "./commands.ts";
import { describeExit, isAllowedExit } from "./exec.ts";
import { ByteCollector, TailBuffer } from "./lines.ts";
import { isEnvName, quoteArg } from "./quote.ts";
import type { CommandNode } from "./types.ts";

/** What `ready` of a service accepts. */
export type ServiceReady = RegExp | RunCommand | ((ctx: JobContext) => Promise<unknown>);

/** Options of {@link service}. */
export interface ServiceOptions extends Omit<JobOptions, "ready"> {
  /** environment variables of the process */
  env?: Readonly<Record<string, Arg>>;
  /** working directory */
  cwd?: string;
  /** signal sent to the process group at stop @default "TERM" */
  stopSignal?: string;
  /**
   * ms between stopSignal and KILL @default none: KILL when the run closes the node's
   * connection, after the run's `cancelGrace` (keep a longer one within `shutdownTimeout`,
   * which bounds that close)
   */
  stopTimeout?: number;
  /**
   * When the service is ready, so the jobs requiring it start: always once its remote process
   * is spawned, then once this check passes: `run("nc -z localhost 8080")` (retried every
   * `readyInterval` until it exits 0 or an allowed exit), a pattern on its output lines
   * (`/listening on/`), or an async function. Bounded by `readyTimeout` (a `NOT_READY`
   * failure naming the service).
   * @default ready once spawned
   */
  ready?: ServiceReady;
  /** ms between two tries of a `ready` command @default 250 */
  readyInterval?: number;
  /**
   * Leave it running after the run (setsid + nohup, output to `log`): the job ends once the
   * process is spawned (and ready), with its pid; it is never stopped by the run, and the
   * debrief lists it as "left running on HOST (pid N)".
   * @default false
   */
  detach?: boolean;
  /**
   * Detached services: the remote file receiving its output
   * @default ~/.aiorch-remote/detached/<label>-<random>.log
   */
  log?: string;
}

/** @internal validate the command and env names of a service */
export function checkService(command: unknown, opts: ServiceOptions): void {
  if (typeof command !== "string" || command === "")
    throw new AiorchError("INVALID_ARGUMENT", "service: command must be a non-empty string");
  for (const k of Object.keys(opts.env ?? {}))
    if (!isEnvName(k))
      throw new AiorchError("INVALID_ARGUMENT", `service: bad env name ${JSON.stringify(k)}`);
  checkServiceReady(opts.ready);
}

/** @internal `cd DIR || exit 1; export K=V; ` of a service */
export function servicePrefix(opts: ServiceOptions, ctx: JobContext): string {
  let env = "";
  const entries = Object.entries(opts.env ?? {});
  if (entries.length)
    env = `export ${entries.map(([k, v]) => `${k}=${shellWord(v, ctx.vars)}`).join(" ")}; `;
  const cd = opts.cwd ? `cd ${quoteArg(opts.cwd)} || exit 1; ` : "";
  return cd + env;
}

/** ms between two tries of a readiness command (or two reads of a detached log) */
export const READY_INTERVAL_MS = 250;

/** @internal resolves once the run's remote process is spawned (set by the service's run) */
export const spawnedOf = new WeakMap<JobContext, Promise<void>>();

/** @internal a promise with its resolvers */
export function deferred(): {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
} {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** @internal check a `ready` option at construction */
export function checkServiceReady(ready: unknown): ServiceReady | undefined {
  if (
    ready === undefined ||
    ready instanceof RegExp ||
    typeof ready === "function" ||
    (typeof ready === "object" && ready !== null && (ready as RunCommand).type === "run")
  )
    return ready as ServiceReady | undefined;
  throw new AiorchError(
    "INVALID_ARGUMENT",
    `service: ready must be run(...), a RegExp or an async function, got ${typeof ready}`,
    { option: "ready" },
  );
}

/**
 * The engine's readiness check of a (forever) service: spawned first, then the check. A
 * pattern goes to the engine as is (it watches the job's output lines, which only come once
 * the process runs).
 */
export function engineReady(
  node: CommandNode,
  ready: ServiceReady | undefined,
  interval: number,
): ReadyCheck {
  if (ready instanceof RegExp) return ready;
  return async (ctx) => {
    const spawned = spawnedOf.get(ctx);
    if (spawned) await spawned;
    await passCheck({ node, ready, ctx, interval });
  };
}

/** Wait for `ready` (not a pattern) to pass; rejects with why when the signal aborts. */
export async function passCheck(opts: {
  node: CommandNode;
  ready: ServiceReady | undefined;
  ctx: JobContext;
  interval: number;
  /** for a pattern: the remote file holding the output (detached services) */
  log?: string;
}): Promise<void> {
  const { ready, ctx } = opts;
  if (ready === undefined) return;
  if (typeof ready === "function") {
    await ready(ctx);
    return;
  }
  let last = "not tried yet";
  const what =
    ready instanceof RegExp ? `${String(ready)} in ${opts.log}` : commandLine(ready.argv);
  try {
    for (;;) {
      if (ctx.signal.aborted) break;
      const out = new ByteCollector();
      const tail = new TailBuffer(512);
      const status = await opts.node.exec({
        command:
          ready instanceof RegExp
            ? `tail -c 65536 ${quoteArg(opts.log ?? "")}`
            : commandLine(ready.argv, ctx.vars),
        ctx,
        signal: ctx.signal,
        onStdout: (c) => {
          if (ready instanceof RegExp) out.push(c);
        },
        onStderr: (c) => tail.push(c),
      });
      if (ready instanceof RegExp) {
        const lines = out.bytes().toString("utf8").split("\n");
        if (lines.some((l) => l.search(ready) !== -1)) return;
        last = "no matching line yet";
      } else {
        if (isAllowedExit(status, ready.options.allowedExits)) return;
        const line = tail.lastLine();
        last = `${describeExit(status)}${line ? ` (stderr: ${line.slice(0, 200)})` : ""}`;
      }
      await sleep(opts.interval, undefined, { signal: ctx.signal });
    }
  } catch (err) {
    if (!ctx.signal.aborted) throw err;
  }
  throw new AiorchError("NOT_READY", `readiness check "${what}" did not pass: last try ${last}`, {
    host: opts.node.host,
    command: what,
  });
}

/**
 * @internal a service as recorded (traces, codegen): its command, its readiness (a command's
 * words, a pattern's source and flags, or `{ function: true }`, which cannot be replayed),
 * its options; env values never (names only).
 */
export function describeService(command: string, opts: ServiceOptions): Record<string, unknown> {
  const { ready } = opts;
  const out: Record<string, unknown> = { command };
  if (ready instanceof RegExp)
    out.ready = { output: ready.source, ...(ready.flags ? { flags: ready.flags } : {}) };
  else if (typeof ready === "function") out.ready = { function: true };
  else if (ready !== undefined)
    out.ready = {
      run: ready.argv.map(describeArg),
      ...(ready.options.allowedExits ? { allowedExits: [...ready.options.allowedExits] } : {}),
    };
  if (opts.env) out.env = describeEnv(opts.env);
  for (const k of [
    "readyTimeout",
    "readyInterval",
    "cwd",
    "stopSignal",
    "stopTimeout",
    "log",
  ] as const)
    if (opts[k] !== undefined) out[k] = opts[k];
  if (opts.detach) out.detach = true;
  return out;
}
