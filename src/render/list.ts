import { describeError } from "../errors.ts";
import { maskSecrets } from "../redact.ts";
import type { AbstractJob } from "../job.ts";
import type { Scheduler } from "../scheduler.ts";
import { badgeColumns, formatOutcome, useAscii } from "./line.ts";

/** Display ids in topological order, depth first, nested jobs included. */
export function assignIds(root: Scheduler): Map<AbstractJob, string> {
  const order: AbstractJob[] = [];
  const walk = (s: Scheduler): void => {
    for (const j of s.topologicalOrder()) {
      order.push(j);
      if (isScheduler(j)) walk(j);
    }
  };
  walk(root);
  const width = String(order.length).length;
  return new Map(order.map((j, i) => [j, String(i + 1).padStart(width, "0")]));
}

/** @internal duck test so render/ does not import the scheduler class */
export function isScheduler(j: AbstractJob): j is Scheduler {
  return typeof (j as { topologicalOrder?: unknown }).topologicalOrder === "function";
}

function idList(jobs: Iterable<AbstractJob>, ids: Map<AbstractJob, string>): string {
  return [...jobs].map((j) => ids.get(j) ?? "??").join(", ");
}

/** Lines of `list()`. */
export function formatList(
  root: Scheduler,
  opts: { details?: boolean; ascii?: boolean } = {},
): string {
  const ascii = opts.ascii ?? useAscii();
  const ids = assignIds(root);
  const lines: string[] = [];
  const walk = (s: Scheduler, depth: number): void => {
    const indent = depth > 0 ? `${">".repeat(depth)} ` : "";
    for (const j of s.topologicalOrder()) {
      const id = ids.get(j)!;
      const reqs = [...j.required];
      let line = `${id} ${badgeColumns(j, ascii).join(" ")} ${indent}${j.kind} ${j.label} ${formatOutcome(j)}`;
      if (reqs.length) line += ` requires {${idList(reqs, ids)}}`;
      if (isScheduler(j)) line += ` -> entries {${idList(j.entryJobs(), ids)}}`;
      lines.push(line);
      if (opts.details) {
        const d = j.details();
        if (d)
          for (const l of d.split("\n")) lines.push(`${" ".repeat(id.length + 1)}${indent}  ${l}`);
      }
      if (isScheduler(j)) {
        walk(j, depth + 1);
        lines.push(
          `${id} --end-- ${"<".repeat(depth + 1)} ${j.kind} ${j.label} exits {${idList(j.exitJobs(), ids)}}`,
        );
      }
    }
  };
  walk(root, 0);
  return lines.join("\n");
}

/** `ok`, `timed out after N ms`, `critical job X failed: msg`, `cancelled`, `not run`. */
export function formatWhy(s: Scheduler): string {
  switch (s.endReason()) {
    case undefined:
      return "not run";
    case "ok":
      return "ok";
    case "timeout":
      return `timed out after ${s.lastTimeout()} ms`;
    case "cancelled":
      return "cancelled";
    case "critical": {
      const j = s.criticalJob();
      return `critical job "${j?.label}" failed: ${describeError(j?.raisedException())}`;
    }
  }
}

/** `why()`, the list, then every failure: stack for critical ones, message for others. */
export function formatDebrief(
  root: Scheduler,
  opts: { details?: boolean; ascii?: boolean } = {},
): string {
  const failed = [...root.allJobs({ schedulers: true })].filter((j) => j !== root && j.isFailed());
  const critical = failed.filter((j) => j.critical);
  const out = [`----- ${formatWhy(root)} (${root.elapsedMs()} ms)`, formatList(root, opts)];
  out.push(
    `===== ${failed.length} job(s) with an exception, including ${critical.length} critical`,
  );
  for (const j of critical) {
    const e = j.raisedException();
    out.push(`critical: ${j.label}: ${describeError(e)}`);
    const stack = e instanceof Error ? e.stack?.split("\n").slice(1) : undefined;
    if (stack?.length) out.push(...stack.map((l) => `    ${maskSecrets(l.trim())}`));
    for (
      let c = e instanceof Error ? e.cause : undefined;
      c !== undefined;
      c = c instanceof Error ? c.cause : undefined
    )
      out.push(`    caused by: ${describeError(c)}`);
  }
  for (const j of failed)
    if (!j.critical) out.push(`non-critical: ${j.label}: ${describeError(j.raisedException())}`);
  const problems = root.shutdownProblems();
  if (problems.length) {
    out.push(`===== ${problems.length} shutdown problem(s)`);
    for (const p of problems) out.push(`shutdown: ${p.label}: ${describeError(p.error)}`);
  }
  // detached services: what the run started on purpose and did not stop, whatever their
  // job's end (the job's own record), or a result saying so
  const line = (r: unknown): string | undefined => {
    const x = (r as { leftRunning?: unknown } | null | undefined)?.leftRunning;
    return typeof x === "string" ? x : undefined;
  };
  const left = [...root.allJobs()].flatMap((j) => {
    const l =
      line((j as { leftRunning?: unknown }).leftRunning) ??
      (j.isDone() ? line(j.result()) : undefined);
    return l === undefined ? [] : [l];
  });
  if (left.length) out.push(`===== ${left.length} process(es) left running`, ...left);
  return out.join("\n");
}
