import { AiorchError, ValidationError } from "./errors.ts";
import { isPlainData, type JsonValue } from "./json.ts";
import type { JobDescription, JobState, Resource } from "./model.ts";
import { formatJobLine } from "./render/line.ts";
import { checkRetry, type RetryOptions, type RetryPolicy } from "./retry.ts";

export type { JobDescription, JobState, Resource };

/** What a job's function receives. */
export interface JobContext {
  /** aborted on timeout, critical failure elsewhere, or end of run (forever jobs) */
  readonly signal: AbortSignal;
  /** the job's label */
  readonly label: string;
  /** emits a `job-output` event with stream `log` */
  log(line: string): void;
  /** the run's variables (captured command outputs), shared by all jobs of the run */
  readonly vars: Record<string, string>;
  /** register a shared resource to close when the whole run ends */
  use(resource: Resource): void;
}

/** A job's work: a function, called anew on every run. */
export type JobFn<T> = (ctx: JobContext) => Promise<T> | T;

/** Something `requires()` accepts: jobs, sequences (their last job), nested iterables. */
export type Requirement =
  | AbstractJob
  | SequenceLike
  | Iterable<Requirement | null | undefined>
  | null
  | undefined;

/** Options common to every job. */
export interface JobOptions {
  /** unique within a scheduler tree @default generated, e.g. `job-3` */
  label?: string;
  /** a failure of a critical job aborts the run @default inherited from the scheduler (true at top) */
  critical?: boolean;
  /** the run does not wait for it and aborts it once every other job is done @default false */
  forever?: boolean;
  /** jobs this one waits for */
  required?: Requirement;
  /**
   * When a forever job is ready, so its dependents can start: a pattern one of its output
   * lines (`ctx.log` lines, command output) must match, or a function whose promise resolves
   * once it is ready (a rejection fails the job). Only for forever jobs.
   * @default ready as soon as it has started
   * @example { forever: true, ready: /listening on port \d+/ }
   */
  ready?: ReadyCheck;
  /**
   * Bound, in ms from its start, on a forever job becoming ready; on expiry the job fails
   * with a `NOT_READY` error naming it and the bound.
   * @default undefined (no bound but the run's timeout)
   */
  readyTimeout?: number;
  /**
   * run the job again when it throws, up to `attempts` times in all, with an exponential
   * backoff with jitter between attempts; each failed attempt is a `job-attempt` event
   * @default undefined (one attempt)
   * @example { retry: { attempts: 3, backoff: 500 } }
   */
  retry?: RetryOptions;
}

/**
 * A forever job's readiness check: a pattern on its output lines, or a function resolving
 * once it is ready. The function receives the job's context, whose signal aborts when the
 * job ends, the run ends or `readyTimeout` expires.
 */
export type ReadyCheck = RegExp | ((ctx: JobContext) => Promise<unknown>);

/** @internal marker for Sequence, which lives in sequence.ts */
export interface SequenceLike {
  readonly isSequence: true;
  readonly first: AbstractJob | undefined;
  readonly last: AbstractJob | undefined;
  readonly jobs: readonly AbstractJob[];
}

/**
 * @internal key of the description a job function carries (`moduleJob` sets it), read by
 * `Job.describe()` and kept by builders that wrap the function
 */
export const DESCRIBED: unique symbol = Symbol.for("aiorch.described");

/** @internal the description carried by a job function, if any */
export function describedBy(fn: unknown): JobDescription | undefined {
  return typeof fn === "function" ? (fn as { [DESCRIBED]?: JobDescription })[DESCRIBED] : undefined;
}

let generatedLabels = 0;

/**
 * Job times are stored as ms since this module loaded (a small integer, 0 meaning "not
 * yet"), not as epoch ms: an epoch ms number is a double, which V8 keeps in a box of its
 * own beside the job, two more objects per job for the young-generation GC to copy (and
 * a field first holding the integer 0 changed shape, migrating each job, at its first
 * start). The public getters give epoch ms as before.
 */
const TIME_BASE = Date.now() - 1;

/** @internal the stored form of epoch ms `ms` in `_startedAt` / `_endedAt` (never 0) */
export function jobTime(ms: number): number {
  const t = ms - TIME_BASE;
  // `| 0` makes V8 store a small integer (a difference of doubles stays a boxed double);
  // past 2^31 ms (24 days) of process time the double is kept, exact still. Only a clock
  // set back to the module's load gives 0 ("not yet"): a ms earlier then.
  const small = t | 0;
  return small !== t ? t : small === 0 ? -1 : small;
}

/** @internal reset the generated label counter (tests) */
export function resetLabelCounter(): void {
  generatedLabels = 0;
}

/** Requirement lists longer than this get a membership index (a fan-in of 100k jobs). */
const INDEXED = 32;

/** Bits of `AbstractJob._flags`. */
const FLAG = {
  forever: 1,
  /** the criticality was given (`critical` then holds it); inherited otherwise */
  criticalSet: 2,
  critical: 4,
  failed: 8,
  restored: 16,
  /** the label was generated (`job-3`), not given */
  generated: 32,
} as const;
const reqIndex = new WeakMap<AbstractJob, Set<AbstractJob>>();

/**
 * Base of every job: a node of the dependency graph holding a function to run, not a
 * started promise, so a scheduler can run it again.
 *
 * @example
 * ```ts
 * class Sleep extends AbstractJob<number> {
 *   readonly ms: number;
 *   constructor(ms: number) { super({ label: `sleep ${ms}` }); this.ms = ms; }
 *   async run({ signal }: JobContext) { await setTimeout(this.ms, undefined, { signal }); return this.ms; }
 * }
 * ```
 */
export abstract class AbstractJob<T = unknown> {
  /**
   * @internal the job's booleans as bits (see `FLAG`): one field instead of five on each
   * job of a 100k-job graph
   */
  _flags = 0;
  /** readiness check of a forever job (see {@link JobOptions.ready}) */
  declare ready: ReadyCheck | undefined;
  /** ms bound on becoming ready (see {@link JobOptions.readyTimeout}) */
  declare readyTimeout: number | undefined;
  /**
   * @internal base of a derived label, numbered by the first scheduler it is added to;
   * absent on jobs without one (`declare`, like `_moreOwners`)
   */
  declare _labelBase: string | undefined;
  /**
   * @internal the label; for a generated one, its number until the string is first read
   * (100k-job graphs rarely read them all)
   */
  _label: string | number;
  /** @internal */
  _req: AbstractJob[] | undefined = undefined;
  /** @internal schedulers this job was added to (more than one is a validation error) */
  _owner: AbstractJob<boolean> | undefined;
  /**
   * @internal further schedulers, when a job was added to several (a validation error);
   * absent until then (`declare`: one field less on every job of a 100k-job graph)
   */
  declare _moreOwners: AbstractJob<boolean>[] | undefined;
  /** @internal */
  _state: JobState = "idle";
  /** @internal */
  _result: T | undefined;
  /** @internal */
  _error: unknown;
  /** @internal start of the last run, as {@link jobTime} gives it (0 = not started) */
  _startedAt = 0;
  /** @internal end of the last run, as {@link jobTime} gives it (0 = not ended) */
  _endedAt = 0;
  /** @internal position in its scheduler during a run */
  _index = -1;
  /** @internal validated `retry` option */
  declare _retry: RetryPolicy | undefined;
  /** @internal attempts made in the last run by a job with a retry policy (absent otherwise) */
  declare _attempts: number | undefined;

  constructor(opts: JobOptions = {}) {
    if (opts.critical !== undefined) this._critical = opts.critical;
    if (opts.forever) this._flags |= FLAG.forever;
    // options most jobs leave out are own properties only when given (`declare`d): every
    // field is 8 bytes on each job of a 100k-job graph, copied by the young-generation GC
    const ready = checkReady(opts.ready);
    if (ready !== undefined) this.ready = ready;
    const readyTimeout = checkReadyTimeout(opts.readyTimeout);
    if (readyTimeout !== undefined) this.readyTimeout = readyTimeout;
    if (opts.label !== undefined && typeof opts.label !== "string")
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `label must be a string, got ${typeof opts.label}`,
        {
          option: "label",
        },
      );
    if (opts.label === undefined || opts.label === "") {
      this._label = ++generatedLabels;
      this._flags |= FLAG.generated;
    } else this._label = opts.label as string;
    if (opts.required !== undefined) this.requires(opts.required);
    if (opts.retry !== undefined)
      this._retry = checkRetry({ retry: opts.retry, label: opts.label });
  }

  /** The retry policy, as given (`attempts`, `backoff`), or undefined. */
  get retry(): Readonly<RetryPolicy> | undefined {
    return this._retry;
  }
  set retry(value: RetryOptions | undefined) {
    this._retry = checkRetry({ retry: value, label: this.label });
  }

  /** Attempts made in the last run: 0 when it did not start, more than 1 after retries. */
  get attempts(): number {
    // a job without a retry policy makes one attempt once started (none when restored)
    return this._attempts ?? (this._startedAt === 0 || this._restored ? 0 : 1);
  }

  /** True when the last run took this job's result from a journal instead of running it. */
  isRestored(): boolean {
    return this._restored;
  }

  /**
   * The result as JSON for a journal, so a resumed run can restore it; undefined when it
   * cannot be (the job then runs again on resume). Default: plain JSON data only.
   * `maxBytes`: the journal keeps no larger result, so a job can refuse before encoding.
   */
  journalResult(value: T, _opts: { maxBytes: number } = { maxBytes: Infinity }): JournalValue {
    return plainJson(value);
  }

  /**
   * Rebuild a result from what {@link journalResult} gave, when a resumed run restores the
   * job; may set run variables (`ctx.vars`) the job set when it ran. Default: the JSON as is.
   */
  restoreResult(json: unknown, _ctx: { vars: Record<string, string> }): T {
    return json as T;
  }

  /** Prefix of generated labels (`job-3`, `scheduler-4`). */
  protected labelPrefix(): string {
    return "job";
  }

  /** The job's work. Called by the scheduler with the run's context. */
  abstract run(ctx: JobContext): Promise<T>;

  /** Release resources at the end of the run; called on every job, started or not. @default no-op */
  shutdown(): Promise<unknown> {
    return Promise.resolve();
  }

  /** @internal false when shutdown() is the default no-op, so schedulers can skip it */
  _needsShutdown(): boolean {
    return this.shutdown !== AbstractJob.prototype.shutdown;
  }

  /** Forever jobs never end by themselves; dependents start once they are ready. */
  get forever(): boolean {
    return (this._flags & FLAG.forever) !== 0;
  }
  set forever(value: boolean) {
    this._flags = value ? this._flags | FLAG.forever : this._flags & ~FLAG.forever;
  }

  /** @internal explicit criticality, undefined = inherited */
  get _critical(): boolean | undefined {
    const f = this._flags;
    return (f & FLAG.criticalSet) === 0 ? undefined : (f & FLAG.critical) !== 0;
  }
  set _critical(value: boolean | undefined) {
    const f = this._flags & ~(FLAG.criticalSet | FLAG.critical);
    this._flags = value === undefined ? f : f | FLAG.criticalSet | (value ? FLAG.critical : 0);
  }

  /** @internal the last run ended with an error (cancelled jobs excluded) */
  get _failed(): boolean {
    return (this._flags & FLAG.failed) !== 0;
  }
  set _failed(value: boolean) {
    this._flags = value ? this._flags | FLAG.failed : this._flags & ~FLAG.failed;
  }

  /** @internal the last run restored it from a journal instead of running it */
  get _restored(): boolean {
    return (this._flags & FLAG.restored) !== 0;
  }
  set _restored(value: boolean) {
    this._flags = value ? this._flags | FLAG.restored : this._flags & ~FLAG.restored;
  }

  /** @internal true when the label was generated (no `label` option) */
  get _generatedLabel(): boolean {
    return (this._flags & FLAG.generated) !== 0;
  }

  /** Unique within a scheduler tree. */
  get label(): string {
    // generated labels are built on first read: 100k-job graphs rarely read them all
    const l = this._label;
    if (typeof l === "string") return l;
    const made = `${this.labelPrefix()}-${l}`;
    this._label = made;
    return made;
  }

  /** Effective criticality: the job's own, else its scheduler's, else `true`. */
  get critical(): boolean {
    if (this._critical !== undefined) return this._critical;
    const owner = this._owner;
    return owner ? owner.critical : true;
  }
  set critical(value: boolean | undefined) {
    this._critical = value;
  }

  /** Kind shown in listings (`Job`, `Scheduler`, `SshJob`…). */
  get kind(): string {
    return this.constructor.name;
  }

  /** Current state in the current or last run. */
  get state(): JobState {
    return this._state;
  }

  /**
   * The jobs this one requires, in the order they were given: a read-only snapshot (the
   * storage is not touched; `requires` / `unrequire` change it).
   */
  get required(): ReadonlySet<AbstractJob> {
    return new Set(this._req);
  }

  /** @internal every scheduler this job was added to */
  get _owners(): AbstractJob<boolean>[] {
    return this._owner === undefined ? [] : [this._owner, ...(this._moreOwners ?? [])];
  }

  /** @internal number of requirements */
  _reqCount(): number {
    return this._req === undefined ? 0 : this._req.length;
  }

  /**
   * @internal add one requirement. The one storage form is an array in the order given
   * (undefined when none), exact-size while small (a spread or push would over-allocate
   * on 100k-job graphs); past {@link INDEXED} entries a side index keeps membership O(1).
   */
  _reqAdd(job: AbstractJob): void {
    const r = this._req;
    if (r === undefined) {
      this._req = [job];
      return;
    }
    if (r.length < INDEXED) {
      if (r.includes(job)) return;
      if (r.length >= 8) {
        r.push(job);
        return;
      }
      const next = new Array<AbstractJob>(r.length + 1);
      for (let k = 0; k < r.length; k++) next[k] = r[k]!;
      next[r.length] = job;
      this._req = next;
      return;
    }
    let index = reqIndex.get(this);
    if (index === undefined) {
      index = new Set(r);
      reqIndex.set(this, index);
    }
    if (index.has(job)) return;
    index.add(job);
    r.push(job);
  }

  /** @internal remove one requirement; false when it was not there */
  _reqDelete(job: AbstractJob): boolean {
    const r = this._req;
    const k = r === undefined ? -1 : r.indexOf(job);
    if (k < 0) return false;
    r!.splice(k, 1);
    if (r!.length < INDEXED) reqIndex.delete(this);
    else reqIndex.get(this)?.delete(job);
    if (r!.length === 0) this._req = undefined;
    return true;
  }

  /** Start and end of the last run, epoch ms (0 when not started / not ended). */
  get startedAt(): number {
    return this._startedAt === 0 ? 0 : this._startedAt + TIME_BASE;
  }
  get endedAt(): number {
    return this._endedAt === 0 ? 0 : this._endedAt + TIME_BASE;
  }

  /**
   * Add requirements: jobs, sequences (their last job), iterables of them, nested to any
   * depth; `null`/`undefined` are skipped. A job requiring itself throws `SELF_REQUIREMENT`.
   */
  requires(...reqs: Requirement[]): this {
    // fast path: plain jobs (what builders and generated code pass, 100k times)
    let plain = true;
    for (const r of reqs) if (!(r instanceof AbstractJob) || r === this) plain = false;
    if (plain) {
      for (const r of reqs) this._reqAdd(r as AbstractJob);
      return this;
    }
    for (const job of flattenRequirements(reqs)) {
      if (job === this)
        throw new ValidationError("SELF_REQUIREMENT", `job "${this.label}" requires itself`, {
          label: this.label,
        });
      this._reqAdd(job);
    }
    return this;
  }

  /** Remove requirements (same argument forms as `requires`); absent ones are ignored. */
  unrequire(...reqs: Requirement[]): this {
    for (const job of flattenRequirements(reqs)) this._reqDelete(job);
    return this;
  }

  /** True when the job finished (with or without exception); false when cancelled. */
  isDone(): boolean {
    return this._state === "done";
  }

  /** True when the job finished with an exception. */
  isFailed(): boolean {
    return this._failed;
  }

  /** The value of the last run, when done without exception. */
  result(): T | undefined {
    return this._result;
  }

  /** The exception of the last run, if it threw (or why it was cancelled). */
  raisedException(): unknown {
    return this._error;
  }

  /**
   * What this job started on purpose and the run does not stop (a detached service's
   * process: `left running on HOST (pid N, log F)`), whatever its end; listed by the debrief.
   */
  leftRunningText(): string | undefined {
    return undefined;
  }

  /** @internal a group's own timeout and window (a scheduler's), undefined for a plain job */
  _limits(): { timeout: number | undefined; window: number | undefined } | undefined {
    return undefined;
  }

  /** @internal the jobs of a group (a scheduler), undefined for a plain job */
  _members(): readonly AbstractJob[] | undefined {
    return undefined;
  }

  /** Extra lines for detailed listings (commands of an SSH job…). */
  details(): string | undefined {
    return undefined;
  }

  /** What this job is, for traces and code generation. */
  describe(): JobDescription {
    return { kind: "opaque" };
  }

  /** @internal reset run state before a run */
  _reset(): void {
    // a job that never started has nothing to reset (a fresh 100k-job graph: every job)
    if (this._startedAt === 0 && this._state === "idle") return;
    this._state = "idle";
    this._result = undefined;
    this._error = undefined;
    this._flags &= ~(FLAG.failed | FLAG.restored);
    this._startedAt = 0;
    this._endedAt = 0;
    if (this._attempts !== undefined) this._attempts = undefined;
  }

  /** One line: badges, kind, label, result or exception, requirements. */
  toString(): string {
    return formatJobLine(this);
  }
}

/** Options of a plain {@link Job}. */
export interface PlainJobOptions<T> extends JobOptions {
  /** called at the end of the run (started or not) */
  shutdown?: () => Promise<unknown> | unknown;
  /**
   * where the function comes from, so codegen can import and call it instead of replaying it
   * @example { module: "./steps.ts", name: "install" }
   */
  source?: { module: string; name: string; args?: readonly unknown[] };
  /** @internal what JobFn returns, for traces */
  _t?: T;
}

/**
 * A job running a function.
 *
 * @example
 * ```ts
 * const fetch = new Job(async () => 42, { label: "fetch" });
 * const use = new Job(async () => (fetch.result() ?? 0) + 1, { label: "use", required: fetch });
 * await new Scheduler([fetch, use]).run(); // true
 * ```
 */
export class Job<T = unknown> extends AbstractJob<T> {
  readonly fn: JobFn<T>;
  /** absent unless given (see AbstractJob's constructor) */
  declare private readonly shutdownFn: (() => Promise<unknown> | unknown) | undefined;
  declare private readonly source: PlainJobOptions<T>["source"];

  constructor(fn: JobFn<T>, opts: PlainJobOptions<T> = {}) {
    super(opts);
    if (typeof fn !== "function")
      throw new AiorchError("INVALID_ARGUMENT", `Job expects a function, got ${typeof fn}`, {
        label: this.label,
      });
    this.fn = fn;
    if (opts.shutdown !== undefined) this.shutdownFn = opts.shutdown;
    if (opts.source !== undefined) this.source = opts.source;
  }

  run(ctx: JobContext): Promise<T> {
    return Promise.resolve(this.fn(ctx));
  }

  override async shutdown(): Promise<unknown> {
    return this.shutdownFn?.();
  }

  /** @internal a subclass overriding shutdown() needs it called too */
  override _needsShutdown(): boolean {
    return this.shutdownFn !== undefined || this.shutdown !== Job.prototype.shutdown;
  }

  override describe(): JobDescription {
    const carried = describedBy(this.fn);
    if (carried) return carried;
    return this.source
      ? {
          kind: "function",
          module: this.source.module,
          name: this.source.name,
          ...(this.source.args ? { args: this.source.args } : {}),
        }
      : { kind: "opaque" };
  }
}

/** What {@link AbstractJob.journalResult} gives: the result as JSON (absent for undefined), or why it cannot be restored. */
export type JournalValue = { result?: JsonValue } | { unrestorable: string };

/** `{ result }` when `value` is plain JSON data (or undefined), else why not. */
export function plainJson(value: unknown): JournalValue {
  if (value === undefined) return {};
  if (!isPlainData(value)) return { unrestorable: "its result is not plain JSON data" };
  return { result: value as JsonValue };
}

/** Flatten requirement arguments to jobs (sequences become their last job). */
export function flattenRequirements(reqs: Iterable<Requirement>): AbstractJob[] {
  const out: AbstractJob[] = [];
  const walk = (r: Requirement): void => {
    if (r === null || r === undefined) return;
    if (r instanceof AbstractJob) out.push(r);
    else if (isSequence(r)) {
      if (r.last) out.push(r.last);
    } else if (typeof r === "object" && Symbol.iterator in r) {
      for (const x of r) walk(x);
    } else
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `requires() accepts jobs, sequences and iterables of them, got ${describeValue(r)}`,
      );
  };
  for (const r of reqs) walk(r);
  return out;
}

function checkReady(ready: unknown): ReadyCheck | undefined {
  if (ready === undefined || ready instanceof RegExp || typeof ready === "function")
    return ready as ReadyCheck | undefined;
  throw new AiorchError(
    "INVALID_ARGUMENT",
    `ready must be a RegExp or a function returning a promise, got ${describeValue(ready)}`,
    { option: "ready" },
  );
}

function checkReadyTimeout(ms: unknown): number | undefined {
  if (ms === undefined || (typeof ms === "number" && Number.isFinite(ms) && ms >= 0))
    return ms as number | undefined;
  throw new AiorchError(
    "INVALID_ARGUMENT",
    `readyTimeout must be a number of ms >= 0, got ${describeValue(ms)}`,
    { option: "readyTimeout" },
  );
}

/** @internal */
export function isSequence(x: unknown): x is SequenceLike {
  return typeof x === "object" && x !== null && (x as SequenceLike).isSequence === true;
}

/** @internal short description of a value, for error messages */
export function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  if (typeof x === "string") return JSON.stringify(x);
  return `${typeof x} ${String(x)}`;
}
