import type { RetryOptions } from "../src/retry.ts";
import { ValidationError } from "../src/errors.ts";
import type { ParamInfo } from "../src/params.ts";
import type { Scheduler } from "../src/scheduler.ts";
import {
  type BuildCallOptions,
  checkLabel,
  type ScenarioPart,
  stringifyParams,
} from "./builder.ts";
import {
  appendEntry,
  type BuilderRunOptions,
  buildScheduler,
  type Definition,
  describeDefinitionParams,
} from "./core.ts";
import type { ReadyCheck } from "../src/job.ts";
import { type AnyBody, atMostOnceOf, includeEntry, plainEntry, readinessOf } from "./entries.ts";
import type { BodyContext, NestedOptions, ParamSpec, ParamsOf } from "./types.ts";

/** Options of {@link DynamicScenario.addJob}. */
export interface DynamicJobOptions {
  /**
   * Labels this job waits for; checked when the scenario is built (a label declared
   * later is fine, an undeclared one is `UNKNOWN_REQUIREMENT`, a loop is `CYCLE`).
   * @default []
   */
  after?: readonly string[];
  /** @default the scenario's `critical` (itself default `true`) */
  critical?: boolean;
  /** @default false */
  forever?: boolean;
  /** a forever job's readiness check (see `JobOptions.ready`) @default ready once started */
  ready?: ReadyCheck;
  /** ms bound on a forever job becoming ready @default undefined */
  readyTimeout?: number;
  /** run again when it throws (see `JobOptions.retry`) @default undefined */
  retry?: RetryOptions;
  /**
   * a `moduleJob` body through workers (`aiorch run --redis`): fail instead of running
   * again after its worker died (see `AtMostOnceOption`) @default false
   */
  atMostOnce?: boolean;
}

/**
 * The untyped path, for graphs known only at run time (read from a file, computed from
 * an inventory…): labels are plain strings, `results` is `Record<string, unknown>` (a
 * non-critical requirement reads as an `Outcome`, a forever one as a `ForeverOutcome`), and the checks the typed
 * builder does at compile time happen at `build()`, with the same `AiorchError` codes.
 * Unlike the typed builder it is mutable: `addJob` adds in place and returns `this`, so
 * a loop can fill it.
 *
 * @example
 * ```ts
 * const d = dynamicScenario("from-inventory");
 * for (const { name, deps } of inventory) d.addJob(name, async () => name, { after: deps });
 * export default d;
 * ```
 */
export class DynamicScenario<P = {}> implements ScenarioPart<Readonly<Record<string, unknown>>> {
  #def: Definition;
  readonly #labels = new Set<string>();
  /** @internal phantom */
  declare readonly "~results"?: Readonly<Record<string, unknown>>;

  /** @internal use {@link dynamicScenario} */
  constructor(def: Definition) {
    this.#def = def;
  }

  /** @internal */
  get "~definition"(): Definition {
    return this.#def;
  }

  /** The scenario's name. */
  get name(): string {
    return this.#def.name;
  }

  /** Labels declared so far, in order. */
  labels(): string[] {
    return [...this.#labels];
  }

  /** Add a job; a label already declared throws `DUPLICATE_LABEL` naming it. */
  addJob(
    label: string,
    body: (ctx: BodyContext<Readonly<Record<string, unknown>>, P>) => unknown,
    opts: DynamicJobOptions = {},
  ): this {
    this.#declare(label);
    this.#def = appendEntry({
      def: this.#def,
      entry: plainEntry({
        label,
        body: body as AnyBody,
        after: [...(opts.after ?? [])],
        critical: opts.critical,
        forever: opts.forever ?? false,
        readiness: readinessOf(opts),
        retry: opts.retry,
        atMostOnce: atMostOnceOf(label, opts),
      }),
    });
    return this;
  }

  /** Nest a scenario (typed or dynamic) as one job, like `ScenarioBuilder.include`. */
  addInclude(
    label: string,
    sub: ScenarioPart<unknown>,
    opts: DynamicJobOptions & NestedOptions & { prefix?: boolean } = {},
  ): this {
    this.#declare(label);
    this.#def = appendEntry({
      def: this.#def,
      entry: includeEntry({
        label,
        sub: sub["~definition"],
        after: [...(opts.after ?? [])],
        critical: opts.critical,
        window: opts.window,
        timeout: opts.timeout,
        prefix: opts.prefix,
      }),
    });
    return this;
  }

  /** A fresh Scheduler; throws `UNKNOWN_REQUIREMENT`, `CYCLE` or `USAGE` naming the culprit. */
  /**
   * The declared parameters (name, kind, default, description, choices) and the names
   * included scenarios declare: what `aiorch run FILE --help` lists.
   * @example scenario("s", { params: { n: 3 } }).describeParams().params[0]?.kind // "number"
   */
  describeParams(): { params: ParamInfo[]; others: string[] } {
    return describeDefinitionParams({ def: this.#def });
  }

  build(opts: BuildCallOptions<P> = {}): Scheduler {
    return buildScheduler({
      def: this.#def,
      params: stringifyParams(opts.params),
      ...(opts.strictParams === undefined ? {} : { strictParams: opts.strictParams }),
    }).scheduler;
  }

  /** Build and run. */
  run(opts: BuilderRunOptions = {}): Promise<boolean> {
    const { params, ...rest } = opts;
    return this.build({ params: params ?? {} }).run(rest);
  }

  #declare(label: string): void {
    checkLabel(label);
    if (this.#labels.has(label))
      throw new ValidationError(
        "DUPLICATE_LABEL",
        `duplicate label: "${label}" names two jobs in scenario "${this.#def.name}"`,
        { label },
      );
    this.#labels.add(label);
  }
}

/**
 * Start an untyped scenario (see {@link DynamicScenario}).
 * @example
 * ```ts
 * const d = dynamicScenario("x", { timeout: 10_000 }).addJob("a", async () => 1);
 * d.addJob("b", async ({ results }) => Number(results.a) + 1, { after: ["a"] });
 * ```
 */
export function dynamicScenario<const S extends ParamSpec = {}>(
  name: string,
  opts: {
    timeout?: number;
    window?: number;
    critical?: boolean;
    shutdownTimeout?: number;
    params?: S;
  } = {},
): DynamicScenario<ParamsOf<S>> {
  return new DynamicScenario({ name, options: { ...opts }, entries: undefined });
}
