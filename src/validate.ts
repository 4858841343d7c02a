/**
 * Checks made before anything starts: the scheduler tree as a whole (`validateTree`, which
 * `Scheduler.validate()` and every root run call) and the options a scheduler or a run is
 * given. Groups are recognised by their `_members()`, so this file knows jobs, not the
 * Scheduler class.
 */
import { AiorchError, CycleError, ValidationError } from "./errors.ts";
import { findCycle, isAcyclic, isMember, type SuccessorIndex, successorIndex } from "./graph.ts";
import { type AbstractJob, describeValue } from "./job.ts";

/**
 * Check the tree below `root` and throw the first problem found, naming the culprits: a job
 * in two schedulers, a ready check on a finite job, a duplicate label, a requirement outside
 * its scheduler, a cycle (`a -> b -> c -> a`).
 */
export function validateTree(root: AbstractJob): SuccessorIndex {
  return walk(root, false) ?? walk(root, true)!;
}

/**
 * The walk of `validateTree`. Explicit labels go first into a Set, one lookup each; a label
 * seen twice (a duplicate, or a group's label taken by one of its jobs, which is allowed)
 * makes it return false, and `validateTree` walks again with `exact`: a map from label to
 * job tells the two apart. Every other check runs in the same order on both walks, and
 * none failed before the label seen twice, so the first problem reported is the same.
 * Each scheduler's successor index is built once here; the root's is returned, for its run.
 */
function walk(root: AbstractJob, exact: boolean): SuccessorIndex | undefined {
  // generated labels (job-3) are unique unless an explicit label takes the same text,
  // checked at the end
  const seen = new Set<string>();
  const labels = new Map<string, AbstractJob>();
  let generated = false;
  let rootIndex: SuccessorIndex | undefined;
  const visit = (s: AbstractJob, members: readonly AbstractJob[]): boolean => {
    // the index counts the requirements pointing outside `members`: with none, no job's
    // requirements need a look of their own
    const index = successorIndex({ jobs: members });
    const outside = index.outside > 0;
    for (const job of members) {
      if (job._moreOwners !== undefined)
        throw new ValidationError(
          "JOB_IN_TWO_SCHEDULERS",
          `job "${job.label}" is in two schedulers: ${job._owners.map((o) => `"${o.label}"`).join(" and ")}`,
          { label: job.label, labels: job._owners.map((o) => o.label) },
        );
      if (job.ready !== undefined && !job.forever)
        throw new ValidationError(
          "INVALID_ARGUMENT",
          `job "${job.label}" has a ready check but is not forever (dependents of a finite job wait until it is done)`,
          { label: job.label, option: "ready" },
        );
      if (job._generatedLabel) generated = true;
      else if (!exact) {
        const size = seen.size;
        if (seen.add(job.label).size === size) return false;
      } else {
        const other = labels.get(job.label);
        if (other && other !== job && !isGroupOf(other, job) && !isGroupOf(job, other))
          throw duplicateLabel(job.label);
        if (!other || isGroupOf(other, job)) labels.set(job.label, job);
      }
      // owned by s means inside s (remove() keeps owners in step); a job shared by two
      // schedulers is inside each of them, and reported as such
      const req = job._req;
      if (outside && req !== undefined)
        for (const r of req)
          if (r._owner !== s && !isMember(s, r)) throw outsideRequirement(job, r, s);
    }
    // the index proves there is no cycle in one cheap pass; the search that names one
    // runs only when there is one
    if (!isAcyclic(index))
      throw new CycleError(
        findCycle({ jobs: members })!.map((j) => j.label),
        s === root ? undefined : `scheduler "${s.label}"`,
      );
    if (s === root) rootIndex = index;
    for (const job of members) {
      const inner = job._members();
      if (inner !== undefined && !visit(job, inner)) return false;
    }
    return true;
  };
  // the root's label names the group, not a job (SPEC 1): never a duplicate
  if (!visit(root, root._members() ?? [])) return undefined;
  const explicit = exact ? labels : seen;
  if (explicit.size > 0 && generated) {
    const check = (s: AbstractJob): void => {
      for (const job of s._members() ?? []) {
        if (job._generatedLabel && explicit.has(job.label)) throw duplicateLabel(job.label);
        check(job);
      }
    };
    check(root);
  }
  return rootIndex;
}

/** True when `group` is a scheduler holding `job` at some depth: its label names that group. */
function isGroupOf(group: AbstractJob, job: AbstractJob): boolean {
  if (group._members() === undefined) return false;
  for (let o = job._owner; o !== undefined; o = o._owner) if (o === group) return true;
  return false;
}

function outsideRequirement(job: AbstractJob, r: AbstractJob, s: AbstractJob): ValidationError {
  return new ValidationError(
    "UNKNOWN_REQUIREMENT",
    `job "${job.label}" requires "${r.label}", which is not in scheduler "${s.label}"` +
      ` (requirements must stay inside one scheduler; sanitize() removes them)`,
    { label: job.label, labels: [job.label, r.label] },
  );
}

function duplicateLabel(label: string): ValidationError {
  return new ValidationError("DUPLICATE_LABEL", `duplicate label: "${label}" names two jobs`, {
    label,
  });
}

/** Throw unless `value` is undefined or a finite number of ms >= 0. */
export function checkDuration(option: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `${option} must be a number of ms >= 0, got ${describeValue(value)}`,
      {
        option,
      },
    );
}

/** Throw unless `value` is undefined or an integer >= 0 (a window; 0 means no limit). */
export function checkWindow(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `window must be an integer >= 0, got ${describeValue(value)}`,
      {
        option: "window",
      },
    );
}
