import { setTimeout as sleep } from "node:timers/promises";
import { emitOutput } from "../context.ts";
import { DESCRIBED, describedBy, type JobContext, type JobFn } from "../job.ts";
import type { JsonValue, ReplaySpec, TraceError, TraceLine } from "./types.ts";

/** Options of {@link replay}: what the recorded job did. */
export interface ReplayOptions {
  /** how long the job runs, in ms @example 1200 */
  duration: number;
  /**
   * `ok` resolves with `result`, `error` throws `error`, `cancelled` runs until the run
   * aborts it (as the recorded job did)
   * @default "ok"
   */
  outcome?: "ok" | "error" | "cancelled";
  /** value returned when the outcome is `ok` @default undefined */
  result?: JsonValue;
  /** the error thrown when the outcome is `error` @default { name: "Error", message: "replayed failure" } */
  error?: TraceError;
  /** output lines to emit, `at` ms after the job starts @default [] */
  output?: TraceLine[];
}

/** A job function made by {@link replay}. */
export type ReplayFn = JobFn<JsonValue | undefined> & {
  /** what the function says it is (`Job.describe()` returns it): `{ kind: "replay", replay }` */
  readonly [DESCRIBED]: { kind: "replay"; replay: ReplaySpec };
};

/**
 * A job function that reproduces a recorded job's duration and outcome without doing its
 * work: codegen emits it for opaque functions of a trace (dry runs, what-if timing).
 * It honours `ctx.signal`.
 *
 * @example
 * ```ts
 * scenario("replay").job("fetch", replay({ duration: 1200, result: 42 }));
 * new Job(replay({ duration: 50, outcome: "error", error: { name: "Error", message: "boom" } }));
 * ```
 */
export function replay(opts: ReplayOptions): ReplayFn {
  const spec: ReplaySpec = {
    duration: Math.max(0, opts.duration),
    outcome: opts.outcome ?? "ok",
    ...(opts.result === undefined ? {} : { result: opts.result }),
    ...(opts.error === undefined ? {} : { error: opts.error }),
    ...(opts.output?.length ? { output: opts.output } : {}),
  };
  const fn = async (ctx: JobContext): Promise<JsonValue | undefined> => {
    const start = Date.now();
    for (const l of spec.output ?? []) {
      const wait = l.at - (Date.now() - start);
      if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
      emitOutput(ctx, l.stream, l.line, l.host);
    }
    const rest = spec.duration - (Date.now() - start);
    if (spec.outcome === "cancelled") {
      // the recorded job was aborted: run until this run aborts it too
      await new Promise<never>((_, reject) => {
        const fail = () => reject(ctx.signal.reason);
        if (ctx.signal.aborted) fail();
        else ctx.signal.addEventListener("abort", fail, { once: true });
      });
    }
    if (rest > 0) await sleep(rest, undefined, { signal: ctx.signal });
    if (spec.outcome === "error") throw makeError(spec.error);
    return spec.result;
  };
  return Object.assign(fn, { [DESCRIBED]: { kind: "replay" as const, replay: spec } });
}

/** An Error carrying the recorded name, message and code. */
function makeError(e: TraceError | undefined): Error {
  const err = new Error(e?.message ?? "replayed failure");
  err.name = e?.name ?? "Error";
  if (e?.code !== undefined)
    Object.defineProperty(err, "code", { value: e.code, enumerable: true });
  return err;
}

/** The replay spec of a function made by {@link replay}, if it is one. */
export function replaySpecOf(fn: unknown): ReplaySpec | undefined {
  const d = describedBy(fn);
  return d?.kind === "replay" ? (d as unknown as { replay: ReplaySpec }).replay : undefined;
}
