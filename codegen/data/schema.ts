import type { JsonValue, ReplaySpec } from "../../src/trace/types.ts";
import type { JobModel, NodeModel, RetryModel, ScenarioModel } from "../model.ts";
import type { Checker, DataPath } from "./checker.ts";
import { readCommands } from "./commands.ts";
import { readNodes } from "./nodes.ts";
import { readReady, readServiceOptions, SERVICE_KEYS } from "./service.ts";

/**
 * The data scenario format (YAML or JSON), reference in docs/codegen.md. Every check names
 * the offending key and its line; `after` may only name earlier jobs of the same scenario.
 */

const TOP = ["scenario", "description", "timeout", "window", "critical", "nodes", "jobs"];
const JOB = [
  "label",
  "after",
  "critical",
  "forever",
  "retry",
  "node",
  "commands",
  "service",
  "call",
  "replay",
  "jobs",
  "timeout",
  "window",
  "ready",
  "readyTimeout",
  ...SERVICE_KEYS,
];
const KINDS = ["commands", "service", "call", "replay", "jobs"] as const;
/** Validate parsed data and turn it into a model. */
export function dataToModel({
  data,
  checker: c,
  baseDir,
}: {
  data: unknown;
  checker: Checker;
  baseDir: string;
}): ScenarioModel {
  const top = c.object(data, [], TOP, ["scenario", "jobs"]);
  const nodes = readNodes(c, top.nodes);
  const labels = new Set<string>();
  const critical = top.critical === undefined ? undefined : c.boolean(top.critical, ["critical"]);
  return {
    name: c.string(top.scenario, ["scenario"]),
    ...(top.timeout === undefined ? {} : { timeout: c.number(top.timeout, ["timeout"]) }),
    ...(top.window === undefined
      ? {}
      : { window: c.number(top.window, ["window"], { integer: true }) }),
    ...(critical === undefined ? {} : { critical }),
    nodes,
    jobs: readJobs(c, top.jobs, ["jobs"], { nodes, labels }),
    baseDir,
  };
}

function readJobs(
  c: Checker,
  v: unknown,
  path: DataPath,
  ctx: { nodes: NodeModel[]; labels: Set<string> },
): JobModel[] {
  const earlier = new Set<string>();
  return c.list(v, path).map((raw, i) => {
    const p = [...path, i];
    const j = c.object(raw, p, JOB, ["label"]);
    const label = c.string(j.label, [...p, "label"]);
    if (ctx.labels.has(label))
      c.fail(
        [...p, "label"],
        `duplicate label "${label}" (labels are unique in the whole scenario)`,
      );
    const after = j.after === undefined ? [] : c.strings(j.after, [...p, "after"]);
    after.forEach((a, k) => {
      if (!earlier.has(a))
        c.fail(
          typeof j.after === "string" ? [...p, "after"] : [...p, "after", k],
          `"${a}" is not a job declared earlier in this scenario`,
        );
    });
    ctx.labels.add(label);
    earlier.add(label);
    const kinds = KINDS.filter((k) => j[k] !== undefined);
    if (kinds.length !== 1)
      c.fail(
        p,
        kinds.length
          ? `give only one of ${kinds.join(", ")}`
          : `missing what the job does: one of ${KINDS.join(", ")}`,
      );
    const kind = kinds[0];
    checkKeysOfKind(c, j, p, kind);
    const forever = j.forever === undefined ? undefined : c.boolean(j.forever, [...p, "forever"]);
    const service = kind === "service";
    const base = {
      label,
      after,
      ...(j.critical === undefined ? {} : { critical: c.boolean(j.critical, [...p, "critical"]) }),
      ...(forever === undefined ? {} : { forever }),
      ...(j.retry === undefined ? {} : { retry: readRetry(c, j.retry, [...p, "retry"]) }),
      ...(j.ready === undefined
        ? {}
        : { ready: readReady(c, j.ready, [...p, "ready"], { service }) }),
      ...(j.readyTimeout === undefined
        ? {}
        : { readyTimeout: c.number(j.readyTimeout, [...p, "readyTimeout"]) }),
    };
    switch (kind) {
      case "service":
        return {
          ...base,
          kind: "service",
          node: readNodeRef(c, j.node, [...p, "node"], ctx.nodes),
          command: c.string(j.service, [...p, "service"]),
          ...readServiceOptions(c, j, p),
        };
      case "commands":
        return {
          ...base,
          kind: "commands",
          node: readNodeRef(c, j.node, [...p, "node"], ctx.nodes),
          commands: readCommands(c, j.commands, [...p, "commands"]),
        };
      case "call": {
        const f = c.object(j.call, [...p, "call"], ["module", "name", "args"], ["module", "name"]);
        return {
          ...base,
          kind: "function",
          module: c.string(f.module, [...p, "call", "module"]),
          name: c.string(f.name, [...p, "call", "name"]),
          ...(f.args === undefined
            ? {}
            : { args: c.list(f.args, [...p, "call", "args"]) as JsonValue[] }),
        };
      }
      case "replay":
        return { ...base, kind: "replay", replay: readReplay(c, j.replay, [...p, "replay"]) };
      default:
        return {
          ...base,
          kind: "scenario",
          ...(j.timeout === undefined ? {} : { timeout: c.number(j.timeout, [...p, "timeout"]) }),
          ...(j.window === undefined
            ? {}
            : { window: c.number(j.window, [...p, "window"], { integer: true }) }),
          jobs: readJobs(c, j.jobs, [...p, "jobs"], ctx),
        };
    }
  });
}

/** Keys that only some kinds of job take, refused elsewhere with what they apply to. */
function checkKeysOfKind(
  c: Checker,
  j: Record<string, unknown>,
  p: DataPath,
  kind: (typeof KINDS)[number] | undefined,
): void {
  const refuse = (k: string, why: string): never => c.fail([...p, k], why, "key");
  for (const k of ["timeout", "window"] as const)
    if (j[k] !== undefined && kind !== "jobs")
      refuse(k, `"${k}" only applies to a nested scenario (jobs)`);
  if (j.node !== undefined && kind !== "commands" && kind !== "service")
    refuse("node", '"node" only applies to a job with commands or a service');
  for (const k of SERVICE_KEYS)
    if (j[k] !== undefined && kind !== "service") refuse(k, `"${k}" only applies to a service`);
  if (kind === "service") {
    if (j.retry !== undefined)
      refuse("retry", '"retry" does not apply to a service (its process is not run again)');
    if (j.forever !== undefined)
      refuse(
        "forever",
        "a service is a forever job already (with detach: true, its job ends once it is ready)",
      );
    const detached = j.detach === true;
    if (j.log !== undefined && !detached)
      refuse("log", '"log" only applies to a detached service (detach: true)');
    for (const k of ["stopSignal", "stopTimeout"])
      if (j[k] !== undefined && detached)
        refuse(k, `"${k}" does not apply to a detached service (the run never stops it)`);
  } else
    for (const k of ["ready", "readyTimeout"])
      if (j[k] !== undefined && (j.forever !== true || (kind !== "commands" && kind !== "call")))
        refuse(k, `"${k}" only applies to a service or a forever job (commands or call)`);
}

function readRetry(c: Checker, v: unknown, p: DataPath): RetryModel {
  const o = c.object(v, p, ["attempts", "backoff"], ["attempts"]);
  const attempts = c.number(o.attempts, [...p, "attempts"], { min: 1, integer: true });
  if (o.backoff === undefined) return { attempts };
  if (typeof o.backoff === "number")
    return { attempts, backoff: c.number(o.backoff, [...p, "backoff"]) };
  const b = c.object(o.backoff, [...p, "backoff"], ["initial", "max", "factor"], []);
  const backoff: { initial?: number; max?: number; factor?: number } = {};
  for (const k of ["initial", "max", "factor"] as const)
    if (b[k] !== undefined)
      backoff[k] = c.number(b[k], [...p, "backoff", k], { min: k === "factor" ? 1 : 0 });
  return { attempts, backoff };
}

function readNodeRef(c: Checker, v: unknown, path: DataPath, nodes: NodeModel[]): string {
  if (v === undefined) c.fail(path.slice(0, -1), 'missing key "node" (a node id, or "local")');
  const id = c.string(v, path);
  if (!nodes.some((n) => n.id === id)) {
    if (id !== "local")
      c.fail(
        path,
        `unknown node "${id}" (declared: ${nodes.map((n) => n.id).join(", ") || "none"})`,
      );
    nodes.push({ id: "local", type: "local" });
  }
  return id;
}

function readReplay(c: Checker, v: unknown, p: DataPath): ReplaySpec {
  const o = c.object(v, p, ["duration", "outcome", "result", "error"], ["duration"]);
  const outcome =
    o.outcome === undefined
      ? "ok"
      : c.oneOf(o.outcome, [...p, "outcome"], ["ok", "error", "cancelled"] as const);
  let error: ReplaySpec["error"];
  if (o.error !== undefined) {
    const e = c.object(o.error, [...p, "error"], ["name", "message", "code"], ["message"]);
    error = {
      name: e.name === undefined ? "Error" : c.string(e.name, [...p, "error", "name"]),
      message: c.string(e.message, [...p, "error", "message"], { empty: true }),
      ...(e.code === undefined ? {} : { code: c.string(e.code, [...p, "error", "code"]) }),
    };
  }
  return {
    duration: c.number(o.duration, [...p, "duration"]),
    outcome,
    ...(o.result === undefined ? {} : { result: o.result as JsonValue }),
    ...(error ? { error } : {}),
  };
}
