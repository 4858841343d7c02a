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
  const body = async (ctx: JobContext): Promise<Awaited<R>> => await fn(ctx, ...args);
  return Object.assign(body, { [DESCRIBED]: work });
}
