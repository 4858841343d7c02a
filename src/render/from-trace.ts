import { basename } from "node:path";
import type {
  JsonValue,
  Trace,
  TraceError,
  TraceJob,
  TraceNode,
  TraceScheduler,
} from "../trace/types.ts";
import type { TimelineJob, TimelineModel } from "./timeline.ts";
import { outcomeOf } from "./timeline.ts";
import { jobId } from "../model.ts";

/** Output lines the report keeps per job. */
const TAIL = 20;

/**
 * The timeline of a recorded run (`aiorch run --record FILE`, format in docs/trace.md):
 * every job and nested scheduler with its times, outcome, error, last output lines and
 * commands. Node times in a trace are offsets from `run.startedAt`; the model's are epoch ms.
 *
 * @example
 * ```ts
 * const model = timelineFromTrace(await readTrace({ file: "run.trace.json" }));
 * writeFileSync("run.html", renderReport({ model }));
 * ```
 */
export function timelineFromTrace(trace: Trace): TimelineModel {
  const t0 = trace.run.startedAt;
  const jobs: TimelineJob[] = [];
  const walk = (s: TraceScheduler, group: readonly string[]): void => {
    for (const n of topological(s.jobs)) {
      jobs.push(traceJob(n, group, t0));
      if (n.type === "scheduler") walk(n, [...group, n.label]);
    }
  };
  walk(trace.scenario, []);
  const timeout = trace.run.timeout ?? trace.scenario.timeout;
  return {
    title: trace.file ? basename(trace.file) : trace.scenario.label,
    start: t0,
    end: Math.max(trace.run.endedAt, t0),
    ok: trace.run.ok,
    reason: trace.run.reason,
    ...(timeout !== undefined ? { timeout } : {}),
    jobs,
  };
}

/** Insertion order, each node after its requirements (as `list()` shows them). */
function topological(nodes: readonly TraceNode[]): TraceNode[] {
  const byLabel = new Map(nodes.map((n) => [n.label, n]));
  const out: TraceNode[] = [];
  const placed = new Set<TraceNode>();
  const visiting = new Set<TraceNode>();
  const place = (n: TraceNode): void => {
    if (placed.has(n) || visiting.has(n)) return;
    visiting.add(n);
    for (const r of n.requires) {
      const req = byLabel.get(r);
      if (req) place(req);
    }
    placed.add(n);
    out.push(n);
  };
  for (const n of nodes) place(n);
  return out;
}

function traceJob(n: TraceNode, group: readonly string[], t0: number): TimelineJob {
  const job = n.type === "job" ? n : undefined;
  const host = job ? hostOf(job) : undefined;
  const command = job ? commandOf(job) : undefined;
  const failed = n.state === "done" && n.error !== undefined;
  const output = job ? outputOf(job) : [];
  return {
    id: jobId(group, n.label),
    label: n.label,
    group,
    kind: job ? job.kind : "Scheduler",
    isGroup: n.type === "scheduler",
    ...(n.startedAt !== undefined ? { start: t0 + n.startedAt } : {}),
    ...(n.endedAt !== undefined ? { end: t0 + n.endedAt } : {}),
    state: n.state,
    outcome: outcomeOf({ state: n.state, failed, restored: job?.restored }),
    ...(job?.attempts?.length ? { attempts: job.attempts.length + (failed ? 0 : 1) } : {}),
    critical: n.critical,
    forever: n.forever,
    ...(n.error ? { error: describeTraceError(n.error) } : {}),
    output,
    ...(command !== undefined ? { command } : {}),
    ...(host !== undefined ? { host } : {}),
    requires: n.requires.map((r) => jobId(group, r)),
  };
}

/** As `describeError()` prints a live error: aiorch errors by message, others `Name: msg`. */
function describeTraceError(e: TraceError): string {
  return e.code !== undefined ? e.message : `${e.name}: ${e.message}`;
}

function outputOf(job: TraceJob): string[] {
  const lines = job.output?.lines ?? [];
  const tail = lines
    .slice(-TAIL)
    .map(
      (l) =>
        `${l.stream === "stderr" ? "! " : ""}${l.host && l.host !== "localhost" ? `[${l.host}] ` : ""}${l.line}`,
    );
  const dropped = (job.output?.droppedLines ?? 0) + Math.max(0, lines.length - TAIL);
  return dropped > 0 ? [`… ${dropped} earlier line(s) not shown`, ...tail] : tail;
}

function hostOf(job: TraceJob): string | undefined {
  if (job.work.kind !== "commands") return undefined;
  const node = job.work.node as Record<string, JsonValue> | undefined;
  const host = node?.host;
  if (typeof host !== "string" || host === "localhost") return undefined;
  const user = typeof node?.user === "string" ? `${node.user}@` : "";
  return `${user}${host}`;
}

/** Command lines of a commands job, the function of a function job. */
function commandOf(job: TraceJob): string | undefined {
  const w = job.work as Record<string, JsonValue>;
  if (w.kind === "function") return `${String(w.name)}() from ${String(w.module)}`;
  if (w.kind !== "commands" || !Array.isArray(w.commands)) return undefined;
  const arg = (a: JsonValue): string =>
    typeof a === "string"
      ? a
      : a !== null && typeof a === "object" && "deferred" in a
        ? "$(…)"
        : a !== null && typeof a === "object" && typeof (a as { raw?: unknown }).raw === "string"
          ? String((a as { raw: string }).raw)
          : JSON.stringify(a);
  const list = (xs: JsonValue | undefined) => (Array.isArray(xs) ? xs.map(arg) : []);
  return (w.commands as Record<string, JsonValue>[])
    .map((c) => {
      switch (c.type) {
        case "run":
          return list(c.argv).join(" ");
        case "runScript":
          return [String(c.path), ...list(c.args)].join(" ");
        case "runString":
          return `runString: ${
            String(c.body)
              .split("\n")
              .find((l) => l.trim() !== "") ?? ""
          }`;
        case "push":
          return `push ${list(c.locals).join(" ")} -> ${String(c.remote)}`;
        case "pull":
          return `pull ${list(c.remotes).join(" ")} -> ${String(c.local)}`;
        default:
          return JSON.stringify(c);
      }
    })
    .join("\n");
}
