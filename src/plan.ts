/**
 * The plan of a scheduler tree: plain nodes (model.ts) built from the live jobs, once per
 * run or per listing, so views and the recorder read data instead of engine objects.
 */
import { entryJobs, exitJobs, requirementsOf, topologicalOrder } from "./graph.ts";
import type { AbstractJob } from "./job.ts";
import { type JobDescription, type NodeStatus, type PlanNode, statusOfJob } from "./model.ts";
import { maskSecrets } from "./redact.ts";

/** A plan and the way back from its ids to the jobs (for statuses). */
export interface BuiltPlan {
  readonly root: PlanNode;
  readonly jobs: ReadonlyMap<string, AbstractJob>;
}

/**
 * The plan of `root` and its tree: ids depth first, each group's jobs in topological
 * order; `details` only when asked (SSH jobs format their commands).
 */
export function buildPlan({
  root,
  details = false,
}: {
  root: AbstractJob;
  details?: boolean;
}): BuiltPlan {
  const order: AbstractJob[] = [];
  const walk = (g: AbstractJob): void => {
    for (const j of topologicalOrder({ jobs: g._members() ?? [] })) {
      order.push(j);
      if (j._members()) walk(j);
    }
  };
  walk(root);
  const width = String(order.length).length;
  const ids = new Map<AbstractJob, string>();
  order.forEach((j, i) => ids.set(j, String(i + 1).padStart(width, "0")));
  const jobs = new Map<string, AbstractJob>();
  const idsOf = (list: Iterable<AbstractJob>) => [...list].map((j) => ids.get(j) ?? "??");
  const node = (j: AbstractJob, id: string, path: readonly string[], index: number): PlanNode => {
    jobs.set(id, j);
    const members = j._members();
    const raw = details ? j.details() : undefined;
    // details show commands: masked once here for every view that lists them
    const d = raw ? maskSecrets(raw) : undefined;
    const base = {
      id,
      label: j.label,
      kind: j.kind,
      group: members !== undefined,
      critical: j.critical,
      forever: j.forever,
      requires: idsOf(requirementsOf(j)),
      description: describeSafely(j),
      path,
      index,
      ...(d ? { details: d } : {}),
      ...(j.retry ? { retry: j.retry.attempts } : {}),
      ...(j._generatedLabel ? { generatedLabel: true as const } : {}),
      ...(j._critical === undefined ? {} : { criticalSet: j._critical }),
    };
    if (members === undefined) return base;
    const inner = j === root ? path : [...path, j.label];
    const position = new Map(members.map((m, k) => [m, k]));
    const limits = j._limits();
    return {
      ...base,
      ...(limits?.timeout === undefined ? {} : { timeout: limits.timeout }),
      ...(limits?.window ? { window: limits.window } : {}),
      children: topologicalOrder({ jobs: members }).map((m) =>
        node(m, ids.get(m)!, inner, position.get(m)!),
      ),
      entries: idsOf(entryJobs({ jobs: members })),
      exits: idsOf(exitJobs({ jobs: members })),
    };
  };
  return { root: node(root, "", [], 0), jobs };
}

/** A job's description; one whose `describe()` throws is opaque. */
function describeSafely(j: AbstractJob): JobDescription {
  try {
    return j.describe();
  } catch {
    return { kind: "opaque" };
  }
}

/** The run facts of each job of a plan, read from the live jobs. */
export function statusOf(plan: BuiltPlan): Map<string, NodeStatus> {
  const out = new Map<string, NodeStatus>();
  for (const [id, j] of plan.jobs) out.set(id, statusOfJob(j));
  return out;
}
