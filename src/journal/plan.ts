import { AiorchError } from "../errors.ts";
import type { AbstractJob } from "../job.ts";
import { Scheduler } from "../scheduler.ts";
import { identifyJob } from "./identity.ts";
import type { Journal } from "./types.ts";

const CHANGED = "its definition changed";

/** A job that ended done in the resumed run but runs again, and why. */
export interface RerunNote {
  label: string;
  why: string;
}

/** What a resumed run does: which jobs it restores, which done ones it runs again. */
export interface ResumePlan {
  /** jobs not to run, with the JSON result to restore: give it as `RunOptions.restore` */
  restore: Map<AbstractJob, unknown>;
  /** jobs done in the resumed run that run again, in display order, with why */
  rerun: RerunNote[];
  /**
   * jobs that ended done in the resumed run and must run again because they or something
   * they require changed (not for an unrestorable result): a worker's finished queue job
   * of theirs is stale (see `aiorch run --redis --resume`)
   */
  again: Set<AbstractJob>;
  /** leaf jobs of the scenario that run (never done before, failed, cancelled, or rerun) */
  toRun: number;
  /** what the journal reader noticed (a torn last line) */
  warnings: string[];
}

/**
 * Decide what a resumed run restores. A job is restored when the journal says it ended
 * done without exception, its identity (kind + description) is unchanged, its result was
 * kept, it is not a forever job, and nothing it requires runs again. Everything else runs:
 * failed, cancelled, never-run and interrupted jobs, changed ones, and everything downstream
 * of a job that runs. A nested scheduler runs when any job inside it runs.
 *
 * Throws `RESUME_MISMATCH` for the journal of another scenario (another root label, or no
 * label in common).
 *
 * @example
 * ```ts
 * const plan = planResume({ scheduler, journal: readResumeSource({ file: "run.trace.json" }) });
 * await scheduler.run({ restore: plan.restore });
 * ```
 */
export function planResume({
  scheduler,
  journal,
}: {
  scheduler: Scheduler;
  journal: Journal;
}): ResumePlan {
  const name = journal.header.scenario;
  if (name !== scheduler.label)
    throw new AiorchError(
      "RESUME_MISMATCH",
      `cannot resume: ${journal.file} is the journal of scenario "${name}", not "${scheduler.label}"`,
      { file: journal.file, labels: [name, scheduler.label] },
    );
  const all = [...scheduler.allJobs({ schedulers: true })];
  if (journal.jobs.size > 0 && !all.some((j) => journal.jobs.has(j.label)))
    throw new AiorchError(
      "RESUME_MISMATCH",
      `cannot resume: ${journal.file} has no job label in common with scenario "${scheduler.label}" (another scenario?)`,
      { file: journal.file },
    );
  const restore = new Map<AbstractJob, unknown>();
  const rerun: RerunNote[] = [];
  const again = new Set<AbstractJob>();
  let toRun = 0;
  // jobs that run in this run, so their dependents run too
  const runs = new Set<AbstractJob>();

  const visit = (s: Scheduler): boolean => {
    let anyRuns = false;
    for (const job of s.topologicalOrder()) {
      const changedReq = [...job.required].find((r) => runs.has(r));
      if (job instanceof Scheduler) {
        // a group runs when something inside runs; then its dependents run as well
        if (visit(job) || changedReq) {
          runs.add(job);
          anyRuns = true;
        }
        continue;
      }
      const why = whyNotRestored(job, changedReq);
      if (why === undefined) {
        const entry = journal.jobs.get(job.label)!;
        restore.set(job, entry.result);
        continue;
      }
      runs.add(job);
      anyRuns = true;
      toRun++;
      const entry = journal.jobs.get(job.label);
      if (entry?.state === "done" && entry.ok) {
        rerun.push({ label: job.label, why });
        if (changedReq || why === CHANGED) again.add(job);
      }
    }
    return anyRuns;
  };

  const whyNotRestored = (
    job: AbstractJob,
    changedReq: AbstractJob | undefined,
  ): string | undefined => {
    const entry = journal.jobs.get(job.label);
    if (entry?.state !== "done" || !entry.ok) return "not done";
    if (job.forever) return "it is a forever job (services always start again)";
    const id = identifyJob(job);
    if ("undescribable" in id) return id.undescribable;
    if (entry.identity !== id.identity) return CHANGED;
    if (entry.unrestorable !== undefined)
      return `its result cannot be restored: ${entry.unrestorable}`;
    if (changedReq) return `it requires "${changedReq.label}", which runs again`;
    return undefined;
  };

  visit(scheduler);
  return { restore, rerun, again, toRun, warnings: [...journal.warnings] };
}
