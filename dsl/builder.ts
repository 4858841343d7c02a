import type { RetryOptions } from "../src/retry.ts";
import { AiorchError } from "../src/errors.ts";
import type { ParamInfo } from "../src/params.ts";
import type { Scheduler } from "../src/scheduler.ts";
import type { CommandNode, CommandsInput, ServiceOptions, SshJobResult } from "../src/ssh/index.ts";
import {
  appendEntry,
  type BuilderRunOptions,
  buildScheduler,
  type Definition,
  describeDefinitionParams,
  type Entry,
  listEntries,
} from "./core.ts";
import {
  type AnyBody,
  type EachItems,
  eachEntry,
  includeEntry,
  atMostOnceOf,
  itemJob,
  plainEntry,
  readinessOf,
} from "./entries.ts";
import { type FromParams, serviceEntry, sshEachEntry, sshEntry } from "./ssh.ts";
import type {
  BodyContext,
  EachOptions,
  IncludeOptions,
  JobDeclareOptions,
  NewLabel,
  Requirable,
  ScenarioResults,
  SshEachOptions,
  ServiceDeclareOptions,
  ServiceView,
  View,
  ResultsOf,
} from "./types.ts";

/** Options of the declaring methods as the runtime reads them (the types above check them). */
interface DeclareRuntime {
  after?: readonly string[];
  critical?: unknown;
  forever?: unknown;
  ready?: unknown;
  readyTimeout?: unknown;
  retry?: RetryOptions;
  atMostOnce?: unknown;
}

/** Anything `.include()` accepts: a typed builder or a dynamic scenario. */
export interface ScenarioPart<U> {
  /** @internal the runtime definition */
  readonly "~definition": Definition;
  /** @internal phantom: the entries union, for `.include` result types */
  readonly "~results"?: U;
}

/** Parameter values given to `build()`/`run()`: the declared names, as strings or typed. */
export type ParamInput<P> = { readonly [X in keyof P]?: P[X] | string };

/** Options of {@link ScenarioBuilder.build}. */
export interface BuildCallOptions<P> {
  /** parameter values (`--param key=value` on the CLI) @default the declared defaults */
  params?: ParamInput<P>;
  /** reject undeclared parameter names with a `USAGE` error @default true */
  strictParams?: boolean;
}

/**
 * The typed, immutable scenario builder returned by {@link scenario}: every method returns
 * a new builder whose type records the labels declared so far and what each one's
 * dependents read as `results[label]`.
 *
 * - `U`: the declared labels, a union of one-label records `{ readonly fetch: number } | …`,
 *   each giving what a dependent reads (`T`, or `Outcome<T>` when non-critical)
 * - `Keys`: the declared labels as a union of names (kept beside `U`: cheaper to check)
 * - `P`: parameters as job bodies see them
 * - `D`: the scenario's default criticality
 * - `Q`: labels given to `.after(...)`, applied to the next declared job
 */

export class ScenarioBuilder<
  U extends object = never,
  Keys extends string = never,
  P = {},
  D extends boolean = true,
  Q extends string = never,
> implements ScenarioPart<U>
{
  readonly #def: Definition;
  readonly #pending: readonly string[];
  /** @internal phantom for `.include` result types; never set */
  declare readonly "~results"?: U;

  /** @internal use {@link scenario} */
  constructor(def: Definition, pending: readonly string[] = []) {
    this.#def = def;
    this.#pending = pending;
  }

  /** @internal */
  get "~definition"(): Definition {
    return this.#def;
  }

  /** The scenario's name (the label of the scheduler it builds). */
  get name(): string {
    return this.#def.name;
  }

  /** Labels declared so far, in order. */
  labels(): string[] {
    return listEntries({ def: this.#def }).map((e) => e.label);
  }

  /**
   * Declare a job running `body`. `body` receives `{ results, params, signal, log, vars,
   * label }`; `results` holds exactly the jobs it requires.
   *
   * @example
   * ```ts
   * scenario("s")
   *   .job("fetch", async () => 42)
   *   .job("use", async ({ results }) => results.fetch + 1, { after: ["fetch"] });
   * ```
   */
  job<
    const L extends string,
    R,
    K extends Requirable<Keys> = never,
    C extends boolean = D,
    F extends boolean = false,
  >(
    label: NewLabel<L, Keys>,
    body: (ctx: BodyContext<ResultsOf<U, K | Q>, P>) => R,
    opts?: JobDeclareOptions<K, C, F>,
  ): ScenarioBuilder<U | { readonly [X in L]: View<Awaited<R>, C, F> }, Keys | L, P, D>;
  job(label: string, body: (ctx: never) => unknown, opts: DeclareRuntime = {}): unknown {
    return this.#add(
      plainEntry({
        label: checkLabel(label),
        body: checkBody(label, body) as AnyBody,
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        forever: opts.forever === true,
        readiness: readinessOf(opts),
        retry: opts.retry,
        atMostOnce: atMostOnceOf(label, opts),
      }),
    );
  }

  /**
   * Requirements of the next declared job (added to its own `after`).
   *
   * @example
   * ```ts
   * scenario("s")
   *   .job("fetch", async () => 42)
   *   .job("use", async () => 1)
   *   .after("fetch", "use")
   *   .job("report", async ({ results }) => `${results.fetch} -> ${results.use}`);
   * ```
   */
  after<const K extends Requirable<Keys>>(...labels: K[]): ScenarioBuilder<U, Keys, P, D, Q | K>;
  after(...labels: string[]): unknown {
    return new ScenarioBuilder(this.#def, [...this.#pending, ...labels]);
  }

  /**
   * Fan out over data: a nested scheduler `label` holding one job `label:<key>` per item
   * (its own `window`/`timeout`). Later jobs require the whole group with
   * `after: [label]` and read `results[label]`, one entry per item in order.
   *
   * @example
   * ```ts
   * scenario("s")
   *   .job("fetch", async () => "v1")
   *   .each("install", ["n1", "n2"], async (host, { log }) => { log(host); return host.length; },
   *         { after: ["fetch"], window: 10 })
   *   .job("sum", async ({ results }) => results.install.reduce((a, b) => a + b, 0), { after: ["install"] });
   * ```
   */
  each<const L extends string, I, R, K extends Requirable<Keys> = never, C extends boolean = D>(
    label: NewLabel<L, Keys>,
    items: readonly I[] | ((params: P) => readonly I[]),
    body: (item: I, ctx: BodyContext<ResultsOf<U, K | Q>, P>) => R,
    opts?: EachOptions<K, C, I>,
  ): ScenarioBuilder<
    U | { readonly [X in L]: readonly View<Awaited<R>, C, false>[] },
    Keys | L,
    P,
    D
  >;
  each(
    label: string,
    items: readonly unknown[] | ((params: never) => readonly unknown[]),
    body: (item: never, ctx: never) => unknown,
    opts: Omit<EachOptions<string, boolean, never>, "critical"> & { critical?: unknown } = {},
  ): unknown {
    return this.#add(
      eachEntry({
        label: checkLabel(label),
        items: items as EachItems<unknown>,
        create: itemJob(
          checkBody(label, body) as (item: unknown, ctx: Parameters<AnyBody>[0]) => unknown,
        ),
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        window: opts.window,
        timeout: opts.timeout,
        key: opts.key as ((item: unknown, index: number) => string) | undefined,
      }),
    );
  }

  /**
   * Nest another scenario as one job `label`: its jobs run in their own scheduler (its
   * `window`/`timeout`, overridable here); dependents read `results[label]` as the
   * record of its results. Its labels stay typed inside it.
   *
   * @example
   * ```ts
   * const setup = scenario("setup").job("a", async () => 1);
   * scenario("all").include("setup", setup).job("b", async ({ results }) => results.setup.a, { after: ["setup"] });
   * ```
   */
  include<const L extends string, SU, K extends Requirable<Keys> = never, C extends boolean = D>(
    label: NewLabel<L, Keys>,
    sub: ScenarioPart<SU>,
    opts?: IncludeOptions<K, C>,
  ): ScenarioBuilder<
    U | { readonly [X in L]: View<ScenarioResults<SU>, C, false> },
    Keys | L,
    P,
    D
  >;
  include(
    label: string,
    sub: ScenarioPart<unknown>,
    opts: Omit<IncludeOptions<string, boolean>, "critical"> & { critical?: unknown } = {},
  ): unknown {
    if (!sub || typeof sub !== "object" || !("~definition" in sub))
      throw new AiorchError("INVALID_ARGUMENT", `include("${label}"): expects a scenario builder`, {
        label,
      });
    return this.#add(
      includeEntry({
        label: checkLabel(label),
        sub: sub["~definition"],
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        window: opts.window,
        timeout: opts.timeout,
        prefix: opts.prefix,
      }),
    );
  }

  /**
   * Commands run in order on a node (an `SshNode` or a `LocalNode`), as one `SshJob`;
   * dependents read its `SshJobResult` (`ok`, `commands[i].stdout`…). A critical job stops
   * at the first failing command; a non-critical one runs them all and records failures.
   *
   * @example
   * ```ts
   * const node = new SshNode({ host: "10.0.0.7", user: "root" });
   * scenario("s").ssh("probe", node, [run("uname -a")], { critical: false });
   * ```
   */
  ssh<
    const L extends string,
    K extends Requirable<Keys> = never,
    C extends boolean = D,
    F extends boolean = false,
  >(
    label: NewLabel<L, Keys>,
    node: FromParams<CommandNode, P>,
    commands: FromParams<CommandsInput, P>,
    opts?: JobDeclareOptions<K, C, F>,
  ): ScenarioBuilder<U | { readonly [X in L]: View<SshJobResult, C, F> }, Keys | L, P, D>;
  ssh(label: string, node: unknown, commands: unknown, opts: DeclareRuntime = {}): unknown {
    return this.#add(
      sshEntry({
        label: checkLabel(label),
        node: node as CommandNode,
        commands: commands as CommandsInput,
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        forever: opts.forever === true,
        readiness: readinessOf(opts),
        retry: opts.retry,
        atMostOnce: atMostOnceOf(label, opts),
      }),
    );
  }

  /**
   * A service: `command` runs on `node` (an `SshNode` or a `LocalNode`) while the run goes
   * on, stopped (its whole process group) when the run ends; see `service()` in docs/ssh.md.
   * Dependents start once it is ready: spawned, then its `ready` check passed (a command
   * retried until it exits 0, a pattern on its output, a function), within `readyTimeout`.
   * They read a `ForeverOutcome`; with `detach: true` the process outlives the run
   * and dependents read its `LeftRunning` (host, pid, log).
   *
   * @example
   * ```ts
   * const node = new SshNode({ host: "10.0.0.7", user: "root" });
   * scenario("s")
   *   .service("server", node, "iperf3 -s", { ready: run("nc -z localhost 5201"), readyTimeout: 10_000 })
   *   .ssh("client", node, [run("iperf3 -c localhost")], { after: ["server"] });
   * ```
   */
  service<
    const L extends string,
    K extends Requirable<Keys> = never,
    C extends boolean = D,
    X extends boolean = false,
  >(
    label: NewLabel<L, Keys>,
    node: FromParams<CommandNode, P>,
    command: string,
    opts?: ServiceDeclareOptions<K, C, X>,
  ): ScenarioBuilder<U | { readonly [Y in L]: ServiceView<C, X> }, Keys | L, P, D>;
  service(label: string, node: unknown, command: string, opts: DeclareRuntime = {}): unknown {
    return this.#add(
      serviceEntry({
        label: checkLabel(label),
        node: node as CommandNode,
        command,
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        options: opts as ServiceOptions,
      }),
    );
  }

  /**
   * Commands run in order on this machine (a `LocalNode`): `.ssh` without a node.
   *
   * @example
   * ```ts
   * scenario("s").local("build", [run("make", "-j4")]).local("test", "make test", { after: ["build"] });
   * ```
   */
  local<
    const L extends string,
    K extends Requirable<Keys> = never,
    C extends boolean = D,
    F extends boolean = false,
  >(
    label: NewLabel<L, Keys>,
    commands: FromParams<CommandsInput, P>,
    opts?: JobDeclareOptions<K, C, F>,
  ): ScenarioBuilder<U | { readonly [X in L]: View<SshJobResult, C, F> }, Keys | L, P, D>;
  local(label: string, commands: unknown, opts: DeclareRuntime = {}): unknown {
    return this.#add(
      sshEntry({
        label: checkLabel(label),
        node: undefined,
        commands: commands as CommandsInput,
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        forever: opts.forever === true,
        readiness: readinessOf(opts),
        retry: opts.retry,
        atMostOnce: atMostOnceOf(label, opts),
      }),
    );
  }

  /**
   * Fan out commands over nodes: a nested scheduler `label` with one `SshJob`
   * `label:<host>` per node (`key` to name them otherwise); `after: [label]` joins.
   * `commands` may be a function of the node, the parameters and the node's index.
   *
   * @example
   * ```ts
   * scenario("s")
   *   .sshEach("install", nodes, [run("apt-get", "install", "-y", "iperf3")], { window: 20 })
   *   .job("report", async ({ results }) => results.install.filter((r) => r.ok).length, { after: ["install"] });
   * ```
   */
  sshEach<
    const L extends string,
    N extends CommandNode,
    K extends Requirable<Keys> = never,
    C extends boolean = D,
  >(
    label: NewLabel<L, Keys>,
    nodes: FromParams<readonly N[], P>,
    commands: CommandsInput | ((node: N, params: P, index: number) => CommandsInput),
    opts?: SshEachOptions<K, C, N>,
  ): ScenarioBuilder<
    U | { readonly [X in L]: readonly View<SshJobResult, C, false>[] },
    Keys | L,
    P,
    D
  >;
  sshEach(
    label: string,
    nodes: unknown,
    commands: unknown,
    opts: Omit<SshEachOptions<string, boolean, never>, "critical" | "atMostOnce"> & {
      critical?: unknown;
      atMostOnce?: unknown;
    } = {},
  ): unknown {
    return this.#add(
      sshEachEntry({
        label: checkLabel(label),
        nodes: nodes as EachItems<CommandNode>,
        commands: commands as CommandsInput,
        after: this.#after(opts.after),
        critical: opts.critical as boolean | undefined,
        window: opts.window,
        timeout: opts.timeout,
        key: opts.key as ((item: CommandNode, index: number) => string) | undefined,
        atMostOnce: atMostOnceOf(label, opts),
      }),
    );
  }

  /**
   * A fresh {@link Scheduler} for this scenario (new jobs on every call, so a builder can
   * be built and run many times). Throws `DUPLICATE_LABEL`, `UNKNOWN_REQUIREMENT`,
   * `CYCLE` naming the label, or `USAGE` for a bad parameter.
   */
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

  /**
   * Build and run: resolves `true` when every job is done and no critical one failed.
   * @example
   * ```ts
   * const ok = await scenario("s").job("a", async () => 1).run({ timeout: 5_000 });
   * ```
   */
  run(opts: Omit<BuilderRunOptions, "params"> & { params?: ParamInput<P> } = {}): Promise<boolean> {
    const { params, ...rest } = opts;
    return this.build({ params: params ?? {} }).run(rest);
  }

  /** @internal a new builder with one more entry (and no pending `.after`) */
  #add(entry: Entry): ScenarioBuilder<U, Keys, P, D> {
    return new ScenarioBuilder(appendEntry({ def: this.#def, entry }));
  }

  /** @internal pending `.after(...)` labels plus the job's own, without repeats */
  #after(own: readonly string[] | undefined): readonly string[] {
    if (own !== undefined && !Array.isArray(own))
      throw new AiorchError("INVALID_ARGUMENT", "after must be an array of labels", {
        option: "after",
      });
    return [...new Set([...this.#pending, ...(own ?? [])])];
  }
}

/** @internal a label must be a non-empty string */
export function checkLabel(label: unknown): string {
  if (typeof label !== "string" || label === "")
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `a label must be a non-empty string, got ${String(label)}`,
      {
        option: "label",
      },
    );
  return label;
}

function checkBody<F>(label: string, body: F): F {
  if (typeof body !== "function")
    throw new AiorchError("INVALID_ARGUMENT", `job "${label}": the body must be a function`, {
      label,
    });
  return body;
}

/** @internal parameter values to strings, for the runtime's coercion */
export function stringifyParams(
  params: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {}))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(",") : String(v);
  return out;
}
