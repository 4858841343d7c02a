import type { JobContext, ReadyCheck } from "../src/job.ts";
import type { RetryOptions } from "../src/retry.ts";
import type { ExecStatus, LeftRunning, ServiceOptions } from "../src/ssh/index.ts";

/**
 * The type machinery of the DSL, kept cheap for long chains:
 * - the declared labels are a *union* of one-label records, `U = { readonly a: number } |
 *   { readonly b: Outcome<string> } | …`, grown by one member per job. (An intersection
 *   `{ a } & { b } & …` reads nicer but TypeScript reduces every new intersection by
 *   visiting each property of each member: quadratic per call, cubic over a chain.)
 * - checks are single non-recursive conditional types on the new label only;
 * - `results` is a mapped type over the required labels only, looked up in `MapOf<U>`.
 */

declare const typeErrorBrand: unique symbol;

/**
 * A compile-time error: a parameter of this type accepts nothing a user would write, and
 * the editor shows the sentence at the call site, e.g.
 * `Argument of type '"a1"' is not assignable to parameter of type 'TypeError<"duplicate label: a1">'`.
 */
export type TypeError<Message extends string> = Message & { readonly [typeErrorBrand]: Message };

/**
 * How a dependent sees the result of a job that may have failed without stopping the run
 * (a non-critical job; a forever one reads as a {@link ForeverOutcome}).
 *
 * @example
 * ```ts
 * scenario("s")
 *   .job("probe", async () => 1, { critical: false })
 *   .job("use", async ({ results }) => (results.probe.ok ? results.probe.value : 0), { after: ["probe"] });
 * ```
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * How a dependent sees a forever requirement. It starts once that job is *ready*, while the
 * job still runs, so there is no value yet (`running: true`); when the job ended before
 * (by itself, or failed), its {@link Outcome} with `running: false`.
 *
 * @example
 * ```ts
 * scenario("s")
 *   .job("server", async ({ signal, log }) => { log("listening"); await setTimeout(60_000, undefined, { signal }); },
 *        { forever: true, ready: /listening/ })
 *   .job("client", async ({ results }) => (results.server.running ? "server up" : "server gone"), { after: ["server"] });
 * ```
 */
export type ForeverOutcome<T> =
  | { readonly ok: false; readonly running: true }
  | (Outcome<T> & { readonly running: false });

export type { ParamDescriptor, ParamSpec, ParamValue } from "../src/params.ts";

/** A default's type, widened (`"x"` → `string`, `[1, 2]` → `readonly number[]`). */
type Widen<V> = V extends string
  ? string
  : V extends number
    ? number
    : V extends boolean
      ? boolean
      : V extends readonly string[]
        ? readonly string[]
        : V extends readonly number[]
          ? readonly number[]
          : never;

/**
 * One parameter's type as bodies see it: its choices as a literal union (a list of them
 * for a list default), else its default's type widened.
 */
export type ParamType<D> = D extends {
  readonly default: infer V;
  readonly choices: readonly (infer C)[];
}
  ? V extends readonly unknown[]
    ? readonly C[]
    : C
  : D extends { readonly default: infer V }
    ? Widen<V>
    : Widen<D>;

/**
 * Parameter values as job bodies see them, from the declaration: `{ n: 3 }` gives
 * `{ n: number }`, `{ nodes: [1, 2] }` `{ nodes: readonly number[] }`,
 * `{ mode: { default: "safe", choices: ["fast", "safe"] } }` `{ mode: "fast" | "safe" }`.
 */
export type ParamsOf<S> = { readonly [K in keyof S]: ParamType<S[K]> };

/** The labels declared in an entries union `U`. */
export type LabelsOf<U> = U extends unknown ? keyof U & string : never;

/** The entries union as one record: label → what a dependent reads as `results[label]`. */
export type MapOf<U> = { readonly [E in U as keyof E]: E[keyof E] };

/** What `results[X]` holds, found in the entries union. */
export type ViewIn<U, X extends string> = U extends { readonly [Y in X]: infer V } ? V : never;

/**
 * The `results` of a body requiring the labels `K`: exactly those. (An alias is much
 * cheaper than the same mapped type written inline in each method signature; `BodyContext`
 * maps it once more so messages show the resolved record, not this alias.)
 */
export type ResultsOf<U, K extends string> = { readonly [X in K]: ViewIn<U, X> };

/** A label that may be declared: a string literal not declared yet. */
export type NewLabel<L extends string, Keys> = string extends L
  ? TypeError<"label must be a string literal (use dynamicScenario() for labels known at run time)">
  : // not `L extends Labels ? …${L}…`: that narrows `L` to `L & Labels` in the message,
    // one new type per declared label on every call. A membership test is cheap.
    IsKey<L, Keys> extends true
    ? TypeError<`duplicate label: ${L}`>
    : L;

/**
 * The labels a new job may require: those declared before it. With none declared yet, a
 * sentence: the message then reads `Type '"later"' is not assignable to type
 * 'TypeError<"no label is declared before this job: a job requires only labels declared
 * before it">'`, naming the label (not `Type 'string' is not assignable to type 'never'`).
 */
export type Requirable<Keys> = [Keys] extends [never]
  ? TypeError<"no label is declared before this job: a job requires only labels declared before it">
  : Keys;

/** `true` when `L` is one of `Keys` (wrapped so it does not distribute). */
export type IsKey<L, Keys> = [L] extends [Keys] ? true : false;

/** A criticality/forever flag: must be a literal, since dependents' result types depend on it. */
export type LiteralFlag<B extends boolean, Name extends string> = boolean extends B
  ? TypeError<`${Name} must be the literal true or false (results of dependents are typed by it)`>
  : B;

/**
 * What `results[label]` holds for a job with value `V`: `V` for a critical finite job,
 * `Outcome<V>` for a non-critical one, `ForeverOutcome<V>` for a forever one.
 */
export type View<V, C extends boolean, F extends boolean> = [F] extends [true]
  ? ForeverOutcome<V>
  : [C] extends [true]
    ? V
    : Outcome<V>;

/** Every result of a scenario, as an `.include` dependent sees it. */
export type ScenarioResults<U> = MapOf<U>;

/**
 * What a job body receives: the engine's {@link JobContext} (`signal`, `label`, `log`,
 * `vars`, `use`) plus the typed `results` of its requirements and the scenario's `params`.
 */
export interface BodyContext<R, P> extends JobContext {
  /** results of the jobs this one requires (and only those) */
  readonly results: { readonly [X in keyof R]: R[X] }; // spelled out: messages show the record
  /** the scenario's parameters (`--param key=value` on the CLI, else their defaults) */
  readonly params: P;
}

/** Options shared by every declaring method of the typed builder. */
export interface DeclareOptions<K extends string, C extends boolean> {
  /**
   * Labels this job waits for; only labels declared earlier are accepted, which is why
   * no cycle can be written with the typed builder.
   * @default [] (plus the labels of a preceding `.after(...)`)
   * @example { after: ["fetch", "build"] }
   */
  after?: readonly K[];
  /**
   * A failing critical job ends the run (false); a non-critical one is recorded and its
   * dependents still run, reading an {@link Outcome}.
   * @default the scenario's `critical` (itself default `true`)
   */
  critical?: LiteralFlag<C, "critical">;
}

/** The option of jobs that may run on a worker (`aiorch run --redis`, docs/scale.md). */
export interface AtMostOnceOption {
  /**
   * With `aiorch run --redis`: when the worker running this job dies and another worker
   * takes it over, the job fails (code `NOT_RERUN`) instead of running again (jobs through
   * workers are at-least-once otherwise). For `.job` it matters when the body is a
   * `moduleJob` (other bodies run in the controller, once).
   * @default false
   */
  atMostOnce?: boolean;
}

/** Options of `.job(...)`, `.ssh(...)` and `.local(...)`. */
export interface JobDeclareOptions<K extends string, C extends boolean, F extends boolean>
  extends DeclareOptions<K, C>,
    AtMostOnceOption {
  /**
   * The run does not wait for it; it is aborted once every other job is done. Its
   * dependents start once it is ready and read it as a {@link ForeverOutcome}.
   * @default false
   */
  forever?: LiteralFlag<F, "forever">;
  /**
   * When a forever job is ready, so its dependents start: a pattern one of its output lines
   * must match, or a function resolving once it is ready (a rejection fails the job).
   * @default ready as soon as it has started
   * @example { forever: true, ready: /listening on \d+/, readyTimeout: 10_000 }
   */
  ready?: [F] extends [true] ? ReadyCheck : TypeError<"ready needs forever: true">;
  /**
   * Bound in ms on becoming ready; on expiry the job fails (`NOT_READY`).
   * @default undefined (no bound but the scenario's timeout)
   */
  readyTimeout?: [F] extends [true] ? number : TypeError<"readyTimeout needs forever: true">;
  /**
   * Run the job again when it throws, up to `attempts` times in all, waiting an
   * exponential backoff with jitter between attempts (never past the run's timeout).
   * @default undefined (one attempt)
   * @example { retry: { attempts: 3, backoff: 500 } }
   */
  retry?: RetryOptions;
}

/**
 * Options of `.service(...)`: those of {@link service} (`ready`, `readyTimeout`, `env`…)
 * plus `after` and `critical`. `detach` must be a literal: dependents' result types depend
 * on it.
 */
export interface ServiceDeclareOptions<K extends string, C extends boolean, X extends boolean>
  extends DeclareOptions<K, C>,
    Pick<
      ServiceOptions,
      | "env"
      | "cwd"
      | "stopSignal"
      | "stopTimeout"
      | "ready"
      | "readyInterval"
      | "readyTimeout"
      | "log"
    > {
  /**
   * Leave the process running after the run (setsid + nohup): the job ends once it is
   * spawned and ready, with a `LeftRunning` result, and is not a forever job.
   * @default false
   */
  detach?: LiteralFlag<X, "detach">;
}

/**
 * What dependents of a `.service(...)` read: a {@link ForeverOutcome} of how the process
 * ended (it usually still runs), or, detached, the `LeftRunning` record (host, pid, log).
 */
export type ServiceView<C extends boolean, X extends boolean> = [X] extends [true]
  ? View<LeftRunning, C, false>
  : View<ExecStatus, C, true>;

/** Options of a nested scheduler (`.each`, `.include`). */
export interface NestedOptions {
  /** most of its jobs running at once @default undefined (no limit) */
  window?: number;
  /** bound on its run, in ms; on expiry it fails as a job @default undefined (no limit) */
  timeout?: number;
}

/** Options of `.each(...)`. */
export interface EachOptions<K extends string, C extends boolean, I>
  extends DeclareOptions<K, C>,
    NestedOptions {
  /**
   * The item's part of its job label `<label>:<key>`.
   * @default strings and numbers as they are; objects by their `label`, `name` or `host`; else the index
   */
  key?: (item: I, index: number) => string;
}

/** Options of `.sshEach(...)`: those of `.each`, and `atMostOnce` for every job. */
export interface SshEachOptions<K extends string, C extends boolean, I>
  extends EachOptions<K, C, I>,
    AtMostOnceOption {}

/** Options of `.include(...)`. */
export interface IncludeOptions<K extends string, C extends boolean>
  extends DeclareOptions<K, C>,
    NestedOptions {
  /**
   * Prefix the included labels with `<label>.` so one part can be included twice
   * (labels are unique within a scheduler tree).
   * @default false
   */
  prefix?: boolean;
}
