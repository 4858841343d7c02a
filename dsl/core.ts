import { AiorchError, CycleError, ValidationError } from "../src/errors.ts";
import type { AbstractJob, JobContext } from "../src/job.ts";
import { type RunOptions, Scheduler } from "../src/scheduler.ts";
import { describeParamSpec, type ParamInfo, resolveParams } from "../src/params.ts";
import type { Outcome, ParamSpec, ParamValue } from "./types.ts";

/**
 * The runtime half of the DSL: an immutable definition (options + a persistent list of
 * entries, so appending is O(1) and builders can share prefixes) and `buildScheduler`,
 * which turns it into fresh engine objects on every call.
 */

/** Scenario-wide options, as the runtime sees them. */
export interface DefinitionOptions {
  /** bound on the whole run in ms @default undefined (no limit) */
  timeout?: number;
  /** most jobs running at once @default undefined (no limit) */
  window?: number;
  /** default criticality of its jobs, and its own when nested @default true */
  critical?: boolean;
  /** bound on the shutdown of its jobs in ms @default 1000 */
  shutdownTimeout?: number;
  /** declared parameters with their defaults @default {} */
  params?: ParamSpec;
  /** secret values masked in every output @default [] */
  secrets?: readonly (string | undefined)[];
}

/** What one entry made during a build. */
export interface Made {
  job: AbstractJob;
  /** what `results[label]` holds for a dependent, read when the dependent starts */
  view(): unknown;
}

/** What an entry's `make` receives. */
export interface MakeContext {
  /** the label to give the job (prefixed inside a prefixed `.include`) */
  label: string;
  /** effective criticality: the entry's own, else the scenario's */
  critical: boolean;
  params: Readonly<Record<string, ParamValue>>;
  rawParams: Readonly<Record<string, string>>;
  /** prefix for labels of jobs nested in this entry */
  prefix: string;
  /** the `results` object of a body requiring `after` (built when the body starts) */
  results(): Record<string, unknown>;
}

/** One declared job (plain, SSH, fan-out group or included scenario). */
export interface Entry {
  label: string;
  after: readonly string[];
  /** explicit criticality; undefined inherits the scenario's */
  critical: boolean | undefined;
  make(ctx: MakeContext): Made;
  /** parameter names declared by nested scenarios (for the strict --param check) */
  paramNames?(): Iterable<string>;
}

/** Persistent list of entries, newest first. */
export interface EntryList {
  readonly entry: Entry;
  readonly prev: EntryList | undefined;
  readonly size: number;
}

/** An immutable scenario definition. */
export interface Definition {
  readonly name: string;
  readonly options: DefinitionOptions;
  readonly entries: EntryList | undefined;
}

/** Append an entry (O(1), the old definition is untouched). */
export function appendEntry({ def, entry }: { def: Definition; entry: Entry }): Definition {
  const size = (def.entries?.size ?? 0) + 1;
  return { ...def, entries: { entry, prev: def.entries, size } };
}

/** Entries in declaration order. */
export function listEntries({ def }: { def: Definition }): Entry[] {
  const out = new Array<Entry>(def.entries?.size ?? 0);
  let i = out.length;
  for (let e = def.entries; e; e = e.prev) out[--i] = e.entry;
  return out;
}

/** Every parameter name declared in the definition and the scenarios it includes. */
export function collectParamNames({ def }: { def: Definition }): Set<string> {
  const names = new Set(Object.keys(def.options.params ?? {}));
  for (const e of listEntries({ def })) for (const n of e.paramNames?.() ?? []) names.add(n);
  return names;
}

/** The declared parameters, and the names only included scenarios declare. */
export function describeDefinitionParams({ def }: { def: Definition }): {
  params: ParamInfo[];
  others: string[];
} {
  const params = describeParamSpec(def.options.params ?? {});
  const own = new Set(params.map((p) => p.name));
  return { params, others: [...collectParamNames({ def })].filter((n) => !own.has(n)) };
}

/** Options of {@link buildScheduler}. */
export interface BuildOptions {
  def: Definition;
  /** `--param` values, as strings */
  params?: Readonly<Record<string, string>>;
  /** reject undeclared parameter names @default true at the root */
  strictParams?: boolean;
  /** label of the scheduler @default the scenario's name */
  label?: string;
  /** prefix of every job label @default "" */
  prefix?: string;
  /** overrides of the scheduler's own options (an `.include` with window/timeout/critical) */
  overrides?: { critical?: boolean; window?: number; timeout?: number };
  /** nested builds skip the whole-tree validation, done once by the root */
  root?: boolean;
}

/** What a build gives: the scheduler and the dependents' view of each label. */
export interface Built {
  scheduler: Scheduler;
  views: ReadonlyMap<string, () => unknown>;
}

/**
 * Turn a definition into a fresh {@link Scheduler}. Throws, naming the label, on a
 * duplicate label (`DUPLICATE_LABEL`), a requirement on an undeclared label
 * (`UNKNOWN_REQUIREMENT`) or a cycle (`CYCLE`, with the path).
 */
export function buildScheduler(opts: BuildOptions): Built {
  const { def, prefix = "", overrides = {}, root = true } = opts;
  const raw = opts.params ?? {};
  const params = resolveParams({
    scenario: def.name,
    spec: def.options.params ?? {},
    raw,
    known: root ? collectParamNames({ def }) : new Set(),
    strict: root && opts.strictParams !== false,
  });
  const critical = def.options.critical ?? true;
  const views = new Map<string, () => unknown>();
  const jobs: AbstractJob[] = [];
  const entries = listEntries({ def });
  const made = new Map<string, Made>();
  for (const entry of entries) {
    if (made.has(entry.label))
      throw new ValidationError(
        "DUPLICATE_LABEL",
        `duplicate label: "${entry.label}" names two jobs in scenario "${def.name}"`,
        { label: entry.label },
      );
    const after = entry.after;
    const m = entry.make({
      label: prefix + entry.label,
      critical: entry.critical ?? critical,
      params,
      rawParams: raw,
      prefix,
      results: () => {
        const r: Record<string, unknown> = {};
        for (const l of after) r[l] = made.get(l)?.view();
        return r;
      },
    });
    made.set(entry.label, m);
    views.set(entry.label, () => m.view());
    jobs.push(m.job);
  }
  for (const entry of entries) {
    const job = made.get(entry.label)!.job;
    for (const l of entry.after) {
      const req = made.get(l);
      if (!req)
        throw new ValidationError(
          "UNKNOWN_REQUIREMENT",
          `job "${entry.label}" requires "${l}", which is not declared in scenario "${def.name}"`,
          { label: entry.label, labels: [entry.label, l] },
        );
      job.requires(req.job);
    }
  }
  const scheduler = new Scheduler(jobs, {
    label: opts.label ?? def.name,
    critical: overrides.critical ?? critical,
    timeout: overrides.timeout ?? def.options.timeout,
    window: overrides.window ?? def.options.window,
    ...(def.options.shutdownTimeout === undefined
      ? {}
      : { shutdownTimeout: def.options.shutdownTimeout }),
    ...(def.options.secrets === undefined ? {} : { secrets: def.options.secrets }),
  });
  const cycle = scheduler.findCycle();
  if (cycle) throw new CycleError(cycle, `scenario "${def.name}"`);
  if (root) scheduler.validate();
  return { scheduler, views };
}

/** A dependent's view of a job that may have failed: ok with its value, or its error. */
export function outcomeOf<T>(job: AbstractJob, value: () => T): Outcome<T> {
  if (job.isDone() && !job.isFailed()) return { ok: true, value: value() };
  return {
    ok: false,
    error:
      job.raisedException() ??
      new AiorchError("CANCELLED", `job "${job.label}" did not run`, { label: job.label }),
  };
}

/** The context a body receives: the engine's context plus `results` and `params`. */
export function extendContext(
  ctx: JobContext,
  extra: { results: Record<string, unknown>; params: Readonly<Record<string, ParamValue>> },
): JobContext & typeof extra {
  // the engine's context keeps its getters on the prototype: inherit them instead of copying
  return Object.create(ctx, {
    results: { value: extra.results, enumerable: true },
    params: { value: extra.params, enumerable: true },
  }) as JobContext & typeof extra;
}

/** Options of a run through a builder: the engine's run options plus `--param` values. */
export interface BuilderRunOptions extends RunOptions {
  /** parameter values as strings, as `--param key=value` gives them @default {} */
  params?: Readonly<Record<string, string>>;
}
