import { AiorchError } from "../src/errors.ts";
import {
  type AbstractJob,
  DESCRIBED,
  describedBy,
  Job,
  type JobContext,
  type ReadyCheck,
} from "../src/job.ts";
import { checkRetry, type RetryOptions } from "../src/retry.ts";
import { Scheduler } from "../src/scheduler.ts";
import { linkModuleCall } from "../src/trace/describe.ts";
import {
  buildScheduler,
  collectParamNames,
  type Definition,
  type Entry,
  extendContext,
  type Made,
  type MakeContext,
  outcomeOf,
} from "./core.ts";
import type { ParamValue } from "./types.ts";

/** A body as the runtime sees it (the typed builder narrows `results` and `params`). */
export type AnyBody = (
  ctx: JobContext & {
    results: Record<string, unknown>;
    params: Readonly<Record<string, ParamValue>>;
  },
) => unknown;

/** Items of a fan-out: a list, or a function of the parameters giving one. */
export type EachItems<I> =
  | readonly I[]
  | ((params: Readonly<Record<string, ParamValue>>) => readonly I[]);

/** A plain job running `body`. */
export function plainEntry({
  label,
  body,
  after,
  critical,
  forever = false,
  readiness = {},
  retry,
  atMostOnce = false,
}: {
  label: string;
  body: AnyBody;
  after: readonly string[];
  critical: boolean | undefined;
  forever?: boolean;
  readiness?: Readiness;
  retry?: RetryOptions | undefined;
  /** a moduleJob body through workers: fail instead of running twice */
  atMostOnce?: boolean;
}): Entry {
  checkRetry({ retry, label });
  return {
    label,
    after,
    critical,
    make: (ctx) => {
      const fn = async (jc: JobContext) =>
        body(extendContext(jc, { results: ctx.results(), params: ctx.params }));
      // keep what the body says it is (moduleJob), so traces and resume can identify it
      const described = describedBy(body);
      // a moduleJob body stays one (`aiorch run --redis` hands it to a worker)
      linkModuleCall(fn, body, atMostOnce);
      const job = new Job(described ? Object.assign(fn, { [DESCRIBED]: described }) : fn, {
        label: ctx.label,
        critical: ctx.critical,
        forever,
        ...readiness,
        ...(retry ? { retry } : {}),
      });
      return viewOf({ job, critical: ctx.critical });
    },
  };
}

/** `atMostOnce` as declared, checked at build like the other flags. */
export function atMostOnceOf(label: string, opts: { atMostOnce?: unknown }): boolean {
  const v = opts.atMostOnce;
  if (v === undefined || typeof v === "boolean") return v === true;
  throw new AiorchError(
    "INVALID_ARGUMENT",
    `job "${label}": atMostOnce must be true or false, got ${typeof v}`,
    { label, option: "atMostOnce" },
  );
}

/** A forever job's readiness options, as declared. */
export interface Readiness {
  ready?: ReadyCheck;
  readyTimeout?: number;
}

/** The readiness options given to a declaring method, checked at build like the engine does. */
export function readinessOf(opts: { ready?: unknown; readyTimeout?: unknown }): Readiness {
  return {
    ...(opts.ready === undefined ? {} : { ready: opts.ready as ReadyCheck }),
    ...(opts.readyTimeout === undefined ? {} : { readyTimeout: opts.readyTimeout as number }),
  };
}

/** An entry wrapping an engine job made by `create` (SSH jobs and the like). */
export function jobEntry({
  label,
  after,
  critical,
  forever = false,
  readiness = {},
  retry,
  create,
}: {
  label: string;
  after: readonly string[];
  critical: boolean | undefined;
  forever?: boolean;
  readiness?: Readiness;
  retry?: RetryOptions | undefined;
  create: (ctx: MakeContext) => AbstractJob;
}): Entry {
  checkRetry({ retry, label });
  return {
    label,
    after,
    critical,
    make: (ctx) => {
      const job = create(ctx);
      job.critical = ctx.critical;
      job.forever = forever;
      if (readiness.ready !== undefined) job.ready = readiness.ready;
      if (readiness.readyTimeout !== undefined) job.readyTimeout = readiness.readyTimeout;
      if (retry) job.retry = retry;
      return viewOf({ job, critical: ctx.critical });
    },
  };
}

const RUNNING = Object.freeze({ ok: false, running: true } as const);

/** What dependents read: the value, an Outcome (non-critical), a ForeverOutcome (forever). */
function viewOf({ job, critical }: { job: AbstractJob; critical: boolean }): Made {
  const outcome = () => outcomeOf(job, () => job.result());
  return {
    job,
    // read when a dependent starts: a forever job is then usually still running
    view: job.forever
      ? () => (job.state === "running" ? RUNNING : { ...outcome(), running: false })
      : critical
        ? () => job.result()
        : outcome,
  };
}

/** A fan-out: a nested scheduler `label` with one job `label:<key>` per item. */
export function eachEntry<I>({
  label,
  items,
  create,
  after,
  critical,
  window,
  timeout,
  key = defaultKey,
}: {
  label: string;
  items: EachItems<I>;
  /** the job of one item, labelled `jobLabel` */
  create: (item: I, jobLabel: string, ctx: MakeContext, index: number) => AbstractJob;
  after: readonly string[];
  critical: boolean | undefined;
  window?: number | undefined;
  timeout?: number | undefined;
  key?: ((item: I, index: number) => string) | undefined;
}): Entry {
  return {
    label,
    after,
    critical,
    make: (ctx) => {
      const list = typeof items === "function" ? items(ctx.params) : items;
      if (!Array.isArray(list))
        throw new AiorchError("INVALID_ARGUMENT", `each("${label}"): items must be an array`, {
          label,
        });
      const jobs = list.map((item, i) => {
        const job = create(item, `${ctx.label}:${key(item, i)}`, ctx, i);
        job.critical = ctx.critical;
        return job;
      });
      const group = new Scheduler(jobs, {
        label: ctx.label,
        critical: ctx.critical,
        ...(window === undefined ? {} : { window }),
        ...(timeout === undefined ? {} : { timeout }),
      });
      const itemView = ctx.critical
        ? (j: AbstractJob) => j.result()
        : (j: AbstractJob) => outcomeOf(j, () => j.result());
      return { job: group, view: () => jobs.map(itemView) };
    },
  };
}

/** The job of one fan-out item running `body(item, ctx)`. */
export function itemJob<I>(
  body: (item: I, ctx: Parameters<AnyBody>[0]) => unknown,
): (item: I, jobLabel: string, ctx: MakeContext) => AbstractJob {
  return (item, jobLabel, ctx) =>
    new Job(
      async (jc) => body(item, extendContext(jc, { results: ctx.results(), params: ctx.params })),
      { label: jobLabel },
    );
}

/** Default item key: strings and numbers as is, objects by label/name/host, else the index. */
export function defaultKey(item: unknown, index: number): string {
  if (typeof item === "string" || typeof item === "number") return String(item);
  if (typeof item === "object" && item !== null)
    for (const k of ["label", "name", "host"]) {
      const v = (item as Record<string, unknown>)[k];
      if (typeof v === "string" && v !== "") return v;
    }
  return String(index);
}

/** A nested scenario: its own scheduler (window, timeout) under `label`. */
export function includeEntry({
  label,
  sub,
  after,
  critical,
  window,
  timeout,
  prefix = false,
}: {
  label: string;
  sub: Definition;
  after: readonly string[];
  critical: boolean | undefined;
  window?: number | undefined;
  timeout?: number | undefined;
  prefix?: boolean | undefined;
}): Entry {
  return {
    label,
    after,
    critical,
    paramNames: () => collectParamNames({ def: sub }),
    make: (ctx) => {
      const { scheduler, views } = buildScheduler({
        def: sub,
        params: ctx.rawParams,
        label: ctx.label,
        prefix: prefix ? `${ctx.label}.` : ctx.prefix,
        overrides: {
          critical: ctx.critical,
          ...(window === undefined ? {} : { window }),
          ...(timeout === undefined ? {} : { timeout }),
        },
        root: false,
      });
      const record = (): Record<string, unknown> => {
        const r: Record<string, unknown> = {};
        for (const [l, v] of views) r[l] = v();
        return r;
      };
      return {
        job: scheduler,
        view: ctx.critical ? record : () => outcomeOf(scheduler, record),
      };
    },
  };
}
