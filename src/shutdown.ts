/**
 * The end of a run: the shutdown hooks of a scheduler's direct jobs, then (for a root run)
 * the resources the run registered, closed in groups by `closeOrder`. Plain functions that
 * return the problems; the scheduler keeps them and emits the `shutdown` event.
 */
import { AiorchError } from "./errors.ts";
import type { AbstractJob, Resource } from "./job.ts";
import { settleWithin } from "./run.ts";

/** A problem reported at shutdown: a hook that threw or did not return in time. */
export interface ShutdownProblem {
  label: string;
  error: unknown;
}

interface Hook {
  label: string;
  run: () => Promise<unknown>;
}

/** Call `shutdown()` on the jobs that need it, in parallel, bounded by `ms`. */
export async function shutdownJobs(
  jobs: readonly AbstractJob[],
  ms: number,
): Promise<ShutdownProblem[]> {
  const hooks = jobs
    .filter((job) => job._needsShutdown())
    .map((job) => ({ label: job.label, run: () => job.shutdown() }));
  const problems: ShutdownProblem[] = [];
  await runBounded(hooks, ms, problems);
  return problems;
}

/**
 * Close `resources` and empty the set: the highest `closeOrder` first (0 when not given),
 * each group in parallel and bounded by `ms`.
 */
export async function closeResources(
  resources: Set<Resource>,
  ms: number,
): Promise<ShutdownProblem[]> {
  if (resources.size === 0) return [];
  const groups = new Map<number, Resource[]>();
  for (const r of resources) {
    const k = r.closeOrder ?? 0;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  resources.clear();
  const problems: ShutdownProblem[] = [];
  for (const k of [...groups.keys()].sort((a, b) => b - a)) {
    const hooks = groups
      .get(k)!
      .map((r) => ({ label: r.name ?? "resource", run: () => r.close() }));
    await runBounded(hooks, ms, problems);
  }
  return problems;
}

/** Run hooks in parallel; add to `problems` the throws, then those still pending after `ms`. */
async function runBounded(hooks: Hook[], ms: number, problems: ShutdownProblem[]): Promise<void> {
  const done = new Array<boolean>(hooks.length).fill(false);
  const all = hooks.map(async (h, i) => {
    try {
      await h.run();
    } catch (error) {
      problems.push({ label: h.label, error });
    } finally {
      done[i] = true;
    }
  });
  await settleWithin(all, ms);
  hooks.forEach((h, i) => {
    if (!done[i])
      problems.push({
        label: h.label,
        error: new AiorchError(
          "SHUTDOWN",
          `shutdown of "${h.label}" did not return within ${ms} ms`,
          {
            label: h.label,
            timeoutMs: ms,
          },
        ),
      });
  });
}
