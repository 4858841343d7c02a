import { addSecrets } from "./redact.ts";
import {
  AiorchError,
  CancelledError,
  describeError,
  SchedulerFailedError,
  ValidationError,
} from "./errors.ts";
import { JobCtx } from "./context.ts";
import type { EndFacts, EndReason, PlanNode } from "./model.ts";
import { buildPlan, statusOf } from "./plan.ts";
import { EventHub, type RunEvent, type RunListener } from "./events.ts";
import * as graph from "./graph.ts";
import {
  AbstractJob,
  type JobContext,
  type JobDescription,
  type JobOptions,
  describeValue,
  isSequence,
  type Requirement,
  type SequenceLike,
} from "./job.ts";
import {
  type DebriefInput,
  type DebriefLine,
  debriefLines,
  formatDebrief,
  formatList,
  formatWhy,
} from "./render/list.ts";
import { formatDot } from "./render/dot.ts";
import { formatMermaid } from "./render/mermaid.ts";
import { Run, type RunParams } from "./run.ts";
import { closeResources, type ShutdownProblem, shutdownJobs } from "./shutdown.ts";
import { checkDuration, checkWindow, validateTree } from "./validate.ts";
import type { RunFrame, RunScope } from "./scope.ts";

/** What a scheduler accepts: jobs, sequences, iterables of them. */
export type SchedulerItem =
  | AbstractJob
  | SequenceLike
  | Iterable<SchedulerItem | null | undefined>
  | null
  | undefined;

/** Options of a {@link Scheduler}. */
export interface SchedulerOptions extends JobOptions {
  /**
   * Bound on the whole run, in ms: on expiry running jobs are aborted and `run()` is false.
   * @default undefined (no limit)
   * @example { timeout: 60_000 }
   */
  timeout?: number;
  /**
   * Most jobs of this scheduler running at once; 0 or undefined means no limit.
   * @default undefined
   */
  window?: number;
  /** Bound, in ms, on the shutdown of this scheduler's jobs at the end of a run. @default 1000 */
  shutdownTimeout?: number;
  /**
   * How long, in ms, an aborted job may take to settle before it is abandoned.
   * @default 500
   */
  cancelGrace?: number;
  /**
   * Secret values masked (`***`) in every output line, message, trace and report of the
   * process from now on (src/redact.ts); `undefined` entries are ignored, so
   * `process.env.X` can be listed as is.
   * @default []
   * @example { secrets: [process.env.API_TOKEN] }
   */
  secrets?: readonly (string | undefined)[];
}

/** Options of one {@link Scheduler.run} call; they override the scheduler's. */
export interface RunOptions {
  /** ms, overrides the scheduler's timeout for this run */
  timeout?: number;
  /** overrides the scheduler's window for this run */
  window?: number;
  /** aborting it cancels the run (resolves false, `why()` is `cancelled`) */
  signal?: AbortSignal;
  /** initial variables (`ctx.vars`) */
  vars?: Record<string, string>;
  /**
   * jobs not to run: each is marked done (`restored`) with its result rebuilt from the
   * given JSON by its `restoreResult()`; built by `planResume()` from a journal
   * @default undefined
   */
  restore?: ReadonlyMap<AbstractJob, unknown>;
}

export type { EndReason };

/** What `run()` gives `execute()`, root or nested; the rest of a Run's params is the scheduler's. */
type ExecParams = Pick<
  RunParams,
  | "scope"
  | "parentSignal"
  | "parentDeadline"
  | "path"
  | "ownPath"
  | "timeout"
  | "window"
  | "onReady"
  | "index"
> & {
  /** the enclosing run's hub (nested), which this scheduler's events reach too */
  parentHub: EventHub | undefined;
  /** the outermost run: it carries the plan and closes the run's resources */
  root: boolean;
};

/**
 * A set of jobs forming a DAG, and the engine that runs it. A scheduler is itself a job,
 * so schedulers nest: a nested scheduler runs its jobs with its own window and timeout,
 * and fails as a job when its run is false.
 *
 * @example
 * ```ts
 * const a = new Job(async () => "A", { label: "a" });
 * const b = new Job(async () => "B", { label: "b", required: a });
 * const s = new Scheduler([a, b], { timeout: 5_000 });
 * if (!(await s.run())) console.log(s.debrief());
 * ```
 */
export class Scheduler extends AbstractJob<boolean> {
  /** ms; undefined = no limit */
  timeout: number | undefined;
  /** 0 or undefined = no limit */
  window: number | undefined;
  shutdownTimeout: number;
  cancelGrace: number;
  private readonly items: AbstractJob[] = [];
  private readonly hub = new EventHub();
  /** the current or last run */
  private last: Run | undefined;
  private usedTimeout: number | undefined;
  private running = false;
  private shutdownPromise: Promise<boolean> | undefined;
  private problems: ShutdownProblem[] = [];
  private path: readonly string[] = [];
  /** how many jobs of this scheduler took each derived label base */
  private derived: Map<string, number> | undefined;

  constructor(jobs?: Iterable<SchedulerItem> | null, opts: SchedulerOptions = {}) {
    super(opts);
    checkDuration("timeout", opts.timeout);
    checkDuration("shutdownTimeout", opts.shutdownTimeout);
    checkDuration("cancelGrace", opts.cancelGrace);
    checkWindow(opts.window);
    if (opts.secrets) addSecrets(opts.secrets);
    this.timeout = opts.timeout;
    this.window = opts.window;
    this.shutdownTimeout = opts.shutdownTimeout ?? 1000;
    this.cancelGrace = opts.cancelGrace ?? 500;
    if (jobs) this.add(jobs);
  }

  /** Add jobs, sequences (all their jobs) or iterables of them. Anything else throws. */
  add(...items: SchedulerItem[]): this {
    const walk = (x: SchedulerItem): void => {
      if (x === null || x === undefined) return;
      if (x instanceof AbstractJob) this.addJob(x);
      else if (Array.isArray(x))
        // arrays of jobs, the common case (100k jobs), without a call per element
        for (let i = 0; i < x.length; i++) {
          const y: SchedulerItem = x[i];
          if (y instanceof AbstractJob) this.addJob(y);
          else walk(y);
        }
      else if (isSequence(x)) for (const j of x.jobs) this.addJob(j);
      else if (typeof x === "object" && Symbol.iterator in x) for (const y of x) walk(y);
      else
        throw new AiorchError(
          "INVALID_ARGUMENT",
          `a scheduler accepts jobs, sequences and iterables of them, got ${describeValue(x)}`,
        );
    };
    for (const x of items) walk(x);
    return this;
  }

  private addJob(job: AbstractJob): void {
    if (job === this)
      throw new ValidationError(
        "SELF_REQUIREMENT",
        `scheduler "${this.label}" cannot contain itself`,
        {
          label: this.label,
        },
      );
    if (graph.isMember(this, job)) return;
    this.items.push(job);
    if (job._owner === undefined) {
      job._owner = this;
      if (job._labelBase !== undefined) this.numberLabel(job, job._labelBase);
    } else job._moreOwners = [...(job._moreOwners ?? []), this];
  }

  /** Derived labels (`true@n1`) are numbered per scheduler: `true@n1`, `true@n1 #2`… */
  private numberLabel(job: AbstractJob, base: string): void {
    this.derived ??= new Map();
    const k = (this.derived.get(base) ?? 0) + 1;
    this.derived.set(base, k);
    job._label = k === 1 ? base : `${base} #${k}`;
  }

  /** Remove a direct job (its dependents keep their requirement on it: see `sanitize`). */
  remove(job: AbstractJob): this {
    this.mustHave(job);
    this.items.splice(this.items.indexOf(job), 1);
    const rest = job._owners.filter((o) => o !== this);
    job._owner = rest[0];
    job._moreOwners = rest.length > 1 ? rest.slice(1) : undefined;
    return this;
  }

  /** Direct jobs, in insertion order. */
  get jobs(): readonly AbstractJob[] {
    return this.items;
  }

  /** @internal */
  override _limits(): { timeout: number | undefined; window: number | undefined } {
    return { timeout: this.timeout, window: this.window };
  }

  /** @internal */
  override _members(): readonly AbstractJob[] {
    return this.items;
  }

  /** Number of direct jobs. */
  get size(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<AbstractJob> {
    return this.items[Symbol.iterator]();
  }

  /** True if `job` is a direct job. */
  has(job: AbstractJob): boolean {
    return job instanceof AbstractJob && graph.isMember(this, job);
  }

  private mustHave(job: AbstractJob): void {
    if (!graph.isMember(this, job))
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `job "${job.label}" is not in scheduler "${this.label}"`,
        { label: job.label },
      );
  }

  /** Leaf jobs of the whole tree, depth first; with `schedulers`, the schedulers too (this one first). */
  *allJobs(opts: { schedulers?: boolean } = {}): Generator<AbstractJob> {
    if (opts.schedulers) yield this;
    for (const j of this.items) {
      if (j instanceof Scheduler) yield* j.allJobs(opts);
      else yield j;
    }
  }

  // ---------------------------------------------------------------- events

  /**
   * Subscribe to this scheduler's run events (including those of nested schedulers).
   * Returns the unsubscribe function.
   * @example
   * ```ts
   * const off = s.on((e) => { if (e.type === "job-state") console.log(e.label, e.state); });
   * ```
   */
  on(listener: RunListener): () => void {
    return this.hub.on(listener);
  }

  /**
   * The run events as an async iterable. It subscribes at once (events emitted before the
   * loop starts are queued) and ends when `signal` aborts, after the queued events.
   * @example
   * ```ts
   * const ac = new AbortController();
   * const seen = (async () => { for await (const e of s.events({ signal: ac.signal })) log(e); })();
   * await s.run(); ac.abort(); await seen;
   * ```
   */
  events(opts: { signal?: AbortSignal } = {}): AsyncIterable<RunEvent> {
    return this.hub.iterate(opts.signal);
  }

  // ---------------------------------------------------------------- validation

  /**
   * Check the whole tree and throw the first problem found, naming the culprits: a job in
   * two schedulers, a duplicate label, a requirement outside the scheduler, a cycle
   * (`a -> b -> c -> a`). `run()` calls it before any job starts.
   */
  validate(): void {
    validateTree(this);
  }

  // ---------------------------------------------------------------- running

  /**
   * Run every job, each as soon as its requirements are done. Resolves `true` when every
   * non-forever job is done, no critical job failed and no timeout fired; `false`
   * otherwise (see `why()`). Rejects only for an invalid scenario (before any job starts).
   * Shutdown runs at the end, whatever happened.
   */
  override run(opts?: RunOptions | JobContext): Promise<boolean> {
    // the context of a job of an enclosing run (the run calls job.run(ctx)): nested
    if (opts instanceof JobCtx) return this.runNested(opts.runFrame());
    return this.runRoot((opts as RunOptions | undefined) ?? {});
  }

  private async runRoot(opts: RunOptions): Promise<boolean> {
    checkDuration("timeout", opts.timeout);
    checkWindow(opts.window);
    if (this.running)
      throw new AiorchError("INVALID_ARGUMENT", `scheduler "${this.label}" is already running`, {
        label: this.label,
      });
    const index = validateTree(this);
    resetTree(this);
    const scope: RunScope = {
      vars: { ...opts.vars },
      resources: new Set(),
      ...(opts.restore ? { restore: opts.restore } : {}),
    };
    return this.execute({
      scope,
      parentSignal: opts.signal,
      parentHub: undefined,
      parentDeadline: undefined,
      path: [],
      ownPath: [],
      timeout: opts.timeout ?? this.timeout,
      window: opts.window ?? this.window,
      root: true,
      onReady: undefined,
      index,
    });
  }

  private async runNested(frame: RunFrame): Promise<boolean> {
    const ok = await this.execute({
      scope: frame.scope,
      parentSignal: frame.signal,
      parentHub: frame.hub,
      parentDeadline: frame.deadline,
      path: [...frame.path, this.label],
      ownPath: frame.path,
      timeout: this.timeout,
      window: this.window,
      root: false,
      onReady: frame.onReady,
      index: undefined,
    });
    if (ok) return true;
    if (this.reason === "cancelled")
      throw new CancelledError("CANCELLED", `scheduler "${this.label}" was cancelled`, {
        label: this.label,
      });
    throw new SchedulerFailedError(
      "SCHEDULER_FAILED",
      `scheduler "${this.label}" failed: ${this.why()}`,
      {
        label: this.label,
        ...(this.reason === "timeout" ? { timeoutMs: this.usedTimeout } : {}),
        cause: this.criticalFailure?.raisedException(),
      },
    );
  }

  /** @internal */
  override _reset(): void {
    super._reset();
    this.resetRun();
  }

  private resetRun(): void {
    this.last = undefined;
    this.shutdownPromise = undefined;
    this.problems = [];
  }

  private async execute(p: ExecParams): Promise<boolean> {
    this.running = true;
    this.resetRun();
    this.path = p.ownPath;
    // the outermost run() reset every job of the tree already
    this.hub.parent = p.parentHub;
    this.usedTimeout = p.timeout;
    const run = new Run({
      owner: this,
      jobs: this.items,
      hub: this.hub,
      scope: p.scope,
      parentSignal: p.parentSignal,
      parentDeadline: p.parentDeadline,
      path: p.path,
      ownPath: this.path,
      timeout: p.timeout,
      window: p.window,
      cancelGrace: this.cancelGrace,
      plan: p.root ? () => this.plan({ details: true }) : undefined,
      onReady: p.onReady,
      index: p.index,
      wrapUp: async () => {
        await this.shutdown();
        if (p.root) await this.closeResources(p.scope);
        this.running = false;
      },
    });
    this.last = run;
    const ok = await run.start();
    this.hub.parent = undefined;
    return ok;
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Call `shutdown()` on every direct job (started or not), in parallel, bounded by
   * `shutdownTimeout`. Runs once per run (later calls return the same result); a throwing
   * or slow hook is reported (`shutdownProblems()`, a `shutdown` event), never thrown.
   * Resolves true when every hook returned in time without throwing.
   */
  override shutdown(): Promise<boolean> {
    this.shutdownPromise ??= this.shutdownJobs();
    return this.shutdownPromise;
  }

  private async shutdownJobs(): Promise<boolean> {
    const problems = await shutdownJobs(this.items, this.shutdownTimeout);
    this.problems.push(...problems);
    this.emitShutdown(problems);
    return problems.length === 0;
  }

  private async closeResources(scope: RunScope): Promise<void> {
    const problems = await closeResources(scope.resources, this.shutdownTimeout);
    this.problems.push(...problems);
    if (problems.length > 0) this.emitShutdown(problems);
  }

  private emitShutdown(problems: ShutdownProblem[]): void {
    if (this.hub.active)
      this.hub.emit({
        type: "shutdown",
        time: Date.now(),
        scheduler: this,
        label: this.label,
        path: this.path,
        ok: problems.length === 0,
        problems,
      });
  }

  private get reason(): EndReason | undefined {
    return this.last?.reason;
  }
  private get criticalFailure(): AbstractJob | undefined {
    return this.last?.criticalJob;
  }
  private get elapsed(): number {
    return this.last?.elapsed ?? 0;
  }

  /** Shutdown hooks that threw or were too slow in the last run. */
  shutdownProblems(): readonly ShutdownProblem[] {
    return this.problems;
  }

  // ---------------------------------------------------------------- outcome

  /**
   * The outcome of the last run, `true` or `false` — also for a nested scheduler whose run
   * was false (it then fails as a job, see `raisedException()`); undefined before any run.
   */
  override result(): boolean | undefined {
    return this.reason === undefined ? undefined : this.reason === "ok";
  }

  /** True when the last run ended because a critical job failed. */
  failedCritical(): boolean {
    return this.reason === "critical";
  }

  /** True when the last run hit its timeout. */
  failedTimeout(): boolean {
    return this.reason === "timeout";
  }

  /** Why the last run ended: `ok`, `timeout`, `critical`, `cancelled`; undefined before any run. */
  endReason(): EndReason | undefined {
    return this.reason;
  }

  /** The critical job whose failure ended the last run. */
  criticalJob(): AbstractJob | undefined {
    return this.criticalFailure;
  }

  /** Duration of the last run in ms. */
  elapsedMs(): number {
    return this.elapsed;
  }

  /** The timeout in force during the last run. */
  lastTimeout(): number | undefined {
    return this.usedTimeout;
  }

  /** `ok`, `timed out after N ms`, `critical job X failed: msg`, `cancelled` or `not run`. */
  why(): string {
    return formatWhy(this.endFacts());
  }

  /** @internal the facts of the last run's end, as the views read them */
  endFacts(): EndFacts {
    const j = this.criticalFailure;
    return {
      reason: this.reason,
      timeout: this.usedTimeout,
      critical: j && { label: j.label, error: j.raisedException() },
    };
  }

  /** The plan of this scheduler's tree: plain nodes, as the `run-start` event carries it. */
  plan(opts: { details?: boolean } = {}): PlanNode {
    return buildPlan({ root: this, details: opts.details ?? false }).root;
  }

  /** One line per job in topological order, with stable ids; nested schedulers indented. */
  list(opts: { details?: boolean; ascii?: boolean } = {}): string {
    const plan = buildPlan({ root: this, details: opts.details ?? false });
    return formatList({ ...opts, plan: plan.root, status: statusOf(plan) });
  }

  /** `why()`, the list, and every failure with its message (stack for critical ones). */
  debrief(opts: { details?: boolean; ascii?: boolean } = {}): string {
    return formatDebrief(this.debriefInput(opts));
  }

  /** The debrief as toned lines (verdict, list, failures), for colour renderers. */
  debriefLines(opts: { details?: boolean; ascii?: boolean } = {}): DebriefLine[] {
    return debriefLines(this.debriefInput(opts));
  }

  private debriefInput(opts: { details?: boolean; ascii?: boolean }): DebriefInput {
    const plan = buildPlan({ root: this, details: opts.details ?? false });
    return {
      ...opts,
      plan: plan.root,
      status: statusOf(plan),
      end: this.endFacts(),
      elapsed: this.elapsed,
      problems: this.problems,
    };
  }

  /** Graphviz DOT: nested schedulers as clusters, critical jobs in red, forever dashed. */
  exportDot(): string {
    return formatDot(this.plan());
  }

  /** Mermaid flowchart: nested schedulers as subgraphs, same styling as DOT. */
  exportMermaid(): string {
    return formatMermaid(this.plan());
  }

  /** `D done + R running + I idle = N` over direct jobs. */
  stats(): string {
    let d = 0;
    let r = 0;
    let i = 0;
    for (const j of this.items) {
      if (j._state === "done") d++;
      else if (j._state === "running") r++;
      else i++;
    }
    return `${d} done + ${r} running + ${i} idle = ${this.items.length}`;
  }

  protected override labelPrefix(): string {
    return "scheduler";
  }

  override describe(): JobDescription {
    return { kind: "scheduler" };
  }

  // ---------------------------------------------------------------- graph

  /** True when neither this scheduler nor a nested one has a cycle. */
  checkCycles(): boolean {
    if (graph.findCycle({ jobs: this.items })) return false;
    return this.items.every((j) => !(j instanceof Scheduler) || j.checkCycles());
  }

  /** A cycle of this scheduler (labels, first repeated last), or undefined. */
  findCycle(): string[] | undefined {
    return graph.findCycle({ jobs: this.items })?.map((j) => j.label);
  }

  /**
   * Remove, in the whole tree, requirements pointing outside each job's scheduler.
   * Returns true when it removed anything.
   */
  sanitize(): boolean {
    let changed = false;
    for (const [job, r] of graph.outsideRequirements({ jobs: this.items })) {
      job._reqDelete(r);
      changed = true;
    }
    for (const j of this.items) if (j instanceof Scheduler && j.sanitize()) changed = true;
    return changed;
  }

  /** Direct jobs in topological order (stable: insertion order among peers). */
  topologicalOrder(): AbstractJob[] {
    return graph.topologicalOrder({ jobs: this.items });
  }

  /** Jobs with no requirement. */
  entryJobs(): AbstractJob[] {
    return graph.entryJobs({ jobs: this.items });
  }

  /** Jobs nothing requires (forever jobs excluded unless `forever` is true). */
  exitJobs(opts: { forever?: boolean } = {}): AbstractJob[] {
    return graph.exitJobs({ jobs: this.items, forever: opts.forever ?? false });
  }

  /** Direct requirements of the given jobs. */
  predecessors(...jobs: AbstractJob[]): AbstractJob[] {
    return graph.predecessors({ jobs: this.items, targets: jobs });
  }

  /** Jobs that directly require one of the given jobs. */
  successors(...jobs: AbstractJob[]): AbstractJob[] {
    return graph.successors({ jobs: this.items, targets: jobs });
  }

  /** Everything the given jobs transitively require (themselves excluded). */
  upstream(...jobs: AbstractJob[]): AbstractJob[] {
    return graph.upstream({ jobs: this.items, targets: jobs });
  }

  /** Everything that transitively requires the given jobs (themselves excluded). */
  downstream(...jobs: AbstractJob[]): AbstractJob[] {
    return graph.downstream({ jobs: this.items, targets: jobs });
  }

  /** Remove a job; each job that required it inherits its requirements. */
  bypassAndRemove(job: AbstractJob): this {
    this.mustHave(job);
    graph.bypass({ jobs: this.items, job });
    return this.remove(job);
  }

  /** Keep only the given jobs (order kept), then drop requirements that now point outside. */
  keepOnly(jobs: Iterable<AbstractJob>): this {
    const keep = new Set(jobs);
    for (const j of [...this.items]) if (!keep.has(j)) this.remove(j);
    this.sanitize();
    return this;
  }

  /**
   * Keep the jobs downstream of `starts` and upstream of `ends` (all jobs for a side not
   * given), plus the starts/ends themselves unless told otherwise; then sanitize.
   */
  keepOnlyBetween(opts: {
    starts?: Iterable<AbstractJob>;
    ends?: Iterable<AbstractJob>;
    keepStarts?: boolean;
    keepEnds?: boolean;
  }): this {
    return this.keepOnly(graph.between({ jobs: this.items, ...opts }));
  }
}

/** Reset the run state of a scheduler and every job below it (no generator: 100k jobs). */
function resetTree(s: Scheduler): void {
  s._reset();
  for (const j of s.jobs) {
    if (j instanceof Scheduler) resetTree(j);
    else j._reset();
  }
}

export { describeError };
export type { Requirement };
