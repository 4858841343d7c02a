import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { DESCRIBED, type JobContext, type JobFn } from "../job.ts";
import type { JsonValue, TraceWork } from "./types.ts";

/** Where a module-bound job's function comes from. */
export interface ModuleSource<A extends readonly unknown[]> {
  /** module specifier, as imported by the scenario file @example "./steps.ts" */
  module: string;
  /** export name @example "install" */
  name: string;
  /** extra arguments, after the context (JSON values, recorded in traces) @default [] */
  args?: A;
}

/**
 * A job body calling `fn(ctx, ...args)` that records where `fn` comes from, so a trace of
 * the run says "function `install` of `./steps.ts`" and `aiorch codegen` emits an import
 * and a call instead of a replay. Codegen emits it for function jobs.
 *
 * @example
 * ```ts
 * import { install } from "./steps.ts";
 * scenario("s").job("install", moduleJob(install, { module: "./steps.ts", name: "install", args: ["iperf3"] }));
 * ```
 */
export function moduleJob<A extends readonly JsonValue[], R>(
  fn: (ctx: JobContext, ...args: A) => R,
  source: ModuleSource<A>,
): JobFn<Awaited<R>> {
  const args = (source.args ?? []) as unknown as A;
  const work: TraceWork = {
    kind: "function",
    module: source.module,
    name: source.name,
    ...(source.args ? { args: [...source.args] } : {}),
  };
  const body = Object.assign(
    async (ctx: JobContext): Promise<Awaited<R>> => await fn(ctx, ...args),
    { [DESCRIBED]: work },
  );
  const from = callerDir(moduleJob);
  registerModuleCall(body, {
    fn,
    module: source.module,
    name: source.name,
    args: source.args ?? [],
    dirs: from === undefined ? [] : [from],
  });
  return body;
}

/**
 * @internal What a module-bound job body calls, so `aiorch run --redis` can have a worker
 * import the module and call the export instead: the function itself (to check the module
 * found is the one the scenario imported), the specifier as written and the directories it
 * may be relative to (the file that called {@link moduleJob}, a data scenario's directory).
 */
export interface ModuleCall {
  readonly fn: (...args: never[]) => unknown;
  readonly module: string;
  readonly name: string;
  readonly args: readonly JsonValue[];
  readonly dirs: readonly string[];
  /** the job fails instead of running again after a takeover from a dead worker */
  readonly atMostOnce?: boolean;
}

const calls = new WeakMap<object, ModuleCall>();

/** @internal record that `body` calls `call` */
export function registerModuleCall(body: object, call: ModuleCall): void {
  calls.set(body, call);
}

/** @internal the module call of a job body (a {@link moduleJob} body or a wrapper of one) */
export function moduleCallOf(body: unknown): ModuleCall | undefined {
  return typeof body === "function" ? calls.get(body) : undefined;
}

/**
 * @internal `wrapper` (one job's function) calls `body` with the same context: the same
 * module call, if any, with that job's `atMostOnce`
 */
export function linkModuleCall(wrapper: object, body: unknown, atMostOnce = false): void {
  const call = moduleCallOf(body);
  if (call) calls.set(wrapper, atMostOnce ? { ...call, atMostOnce } : call);
}

/** Directory of the file whose code called `fn`, from the V8 call sites (undefined if unknown). */
function callerDir(fn: (...args: never[]) => unknown): string | undefined {
  const saved = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, fn);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    const file = Array.isArray(sites) ? sites[0]?.getFileName() : undefined;
    if (!file) return undefined;
    if (file.startsWith("file:")) return dirname(fileURLToPath(file));
    return file.startsWith("/") ? dirname(file) : undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = saved;
  }
}
