import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { AiorchError } from "../src/errors.ts";
import type {
  JsonValue,
  ReplaySpec,
  Trace,
  TraceJob,
  TraceNode,
  TraceScheduler,
} from "../src/trace/types.ts";
import { checkFunctionSource } from "./emit/parts.ts";
import type {
  ArgModel,
  ReadyModel,
  CommandModel,
  CommandOptionsModel,
  JobModel,
  NodeModel,
  ScenarioModel,
} from "./model.ts";

/** Options of {@link traceToModel}. */
export interface TraceToModelOptions {
  trace: Trace;
  /** give replay jobs the recorded output lines to print again @default false */
  replayOutput?: boolean;
}

type Json = Record<string, JsonValue>;

/**
 * The scenario a trace recorded, as a codegen model: command jobs keep their node and
 * commands, function jobs their module and export, opaque functions become replay jobs
 * reproducing their recorded duration and outcome.
 *
 * @example
 * ```ts
 * const code = generateScenario({ model: traceToModel({ trace: await readTrace({ file }) }) });
 * ```
 */
export function traceToModel({ trace, replayOutput = false }: TraceToModelOptions): ScenarioModel {
  const root = trace.scenario;
  const nodes = new NodeTable();
  const jobs = convertJobs({ jobs: root.jobs, parentCritical: root.critical, nodes, replayOutput });
  return {
    name: root.label,
    ...(root.timeout === undefined ? {} : { timeout: root.timeout }),
    ...(root.window ? { window: root.window } : {}),
    critical: root.critical,
    nodes: nodes.list,
    jobs,
    ...(trace.file ? { baseDir: dirname(trace.file) } : {}),
  };
}

function convertJobs(p: {
  jobs: readonly TraceNode[];
  parentCritical: boolean;
  nodes: NodeTable;
  replayOutput: boolean;
}): JobModel[] {
  return p.jobs.map((j) => {
    const base = {
      label: j.label,
      after: [...j.requires],
      ...(j.critical !== p.parentCritical ? { critical: j.critical } : {}),
      ...(j.forever ? { forever: true } : {}),
    };
    if (j.type === "scheduler") return convertScheduler(j, base, p);
    const w = j.work as Json;
    switch (w.kind) {
      case "commands":
        return {
          ...base,
          kind: "commands",
          node: p.nodes.idOf(w.node as Json),
          commands: (w.commands as Json[]).map((c) => convertCommand(c, j.label)),
        };
      case "function":
        return {
          ...base,
          kind: "function",
          module: String(w.module),
          name: String(w.name),
          ...(Array.isArray(w.args) ? { args: [...w.args] } : {}),
        };
      case "replay":
        return { ...base, kind: "replay", replay: w.replay as unknown as ReplaySpec };
      case "service": {
        const ready = w.ready as Json | undefined;
        // a function readiness check cannot be written down: replayed, like other functions
        if (ready?.function === true)
          return {
            ...base,
            kind: "replay",
            ...replayOf(j, p.replayOutput, "a service whose readiness is a function"),
          };
        return convertService(w, { ...base, ...(w.detach === true ? { forever: false } : {}) }, p);
      }
      default:
        return { ...base, kind: "replay", ...replayOf(j, p.replayOutput) };
    }
  });
}

function convertService(
  w: Json,
  base: { label: string; after: string[]; critical?: boolean; forever?: boolean },
  p: { nodes: NodeTable },
): JobModel {
  const r = w.ready as Json | undefined;
  const ready: ReadyModel | undefined =
    r === undefined
      ? undefined
      : typeof r.output === "string"
        ? {
            output: r.output,
            ...(typeof r.flags === "string" && r.flags ? { flags: r.flags } : {}),
          }
        : {
            run: (r.run as JsonValue[]).map((a) => convertArg(a, base.label)),
            ...(Array.isArray(r.allowedExits)
              ? { allowedExits: r.allowedExits as (number | string)[] }
              : {}),
          };
  const { forever: _forever, ...rest } = base;
  const pick = <K extends string>(k: K, type: "string" | "number") =>
    typeof w[k] === type ? { [k]: w[k] } : {};
  return {
    ...rest,
    kind: "service",
    node: p.nodes.idOf(w.node as Json),
    command: String(w.command),
    ...(ready ? { ready } : {}),
    ...pick("readyTimeout", "number"),
    ...pick("readyInterval", "number"),
    ...pick("stopTimeout", "number"),
    ...pick("cwd", "string"),
    ...pick("log", "string"),
    ...(typeof w.stopSignal === "string" ? { stopSignal: w.stopSignal.replace(/^SIG/, "") } : {}),
    ...(w.detach === true ? { detach: true } : {}),
    // env values are never recorded: read from the environment, as for commands
    ...(w.env && typeof w.env === "object"
      ? { env: Object.fromEntries(Object.keys(w.env).map((n) => [n, { fromEnv: n }])) }
      : {}),
  } as JobModel;
}

function convertScheduler(
  s: TraceScheduler,
  base: { label: string; after: string[]; critical?: boolean; forever?: boolean },
  p: { nodes: NodeTable; replayOutput: boolean },
): JobModel {
  return {
    ...base,
    kind: "scenario",
    ...(s.timeout === undefined ? {} : { timeout: s.timeout }),
    ...(s.window ? { window: s.window } : {}),
    // the nested scenario's default is its own effective criticality
    critical: s.critical,
    jobs: convertJobs({ ...p, jobs: s.jobs, parentCritical: s.critical }),
  };
}

/** Duration and outcome of an opaque job, as a replay spec. */
function replayOf(
  j: TraceJob,
  withOutput: boolean,
  kind?: string,
): { replay: ReplaySpec; note: string } {
  const duration = j.duration ?? 0;
  const outcome: ReplaySpec["outcome"] =
    j.state === "cancelled" || j.state === "running"
      ? "cancelled"
      : j.error !== undefined
        ? "error"
        : "ok";
  const output =
    withOutput && j.startedAt !== undefined
      ? j.output.lines.map((l) => ({ ...l, at: Math.max(0, l.at - (j.startedAt ?? 0)) }))
      : [];
  const replay: ReplaySpec = {
    duration,
    outcome,
    ...(outcome === "ok" && j.result !== undefined ? { result: j.result } : {}),
    ...(outcome === "error" && j.error ? { error: j.error } : {}),
    ...(output.length ? { output } : {}),
  };
  const what = kind ?? (j.kind === "Job" ? "an opaque function" : `an opaque ${j.kind}`);
  const how =
    j.state === "idle" || j.state === "scheduled"
      ? "it never started in the recorded run"
      : outcome === "ok"
        ? `it took ${duration} ms and succeeded`
        : outcome === "error"
          ? `it failed after ${duration} ms`
          : `it was cancelled after ${duration} ms`;
  return { replay, note: `${what}: ${how}` };
}

function convertCommand(c: Json, label: string): CommandModel {
  const options = c.options ? { options: convertOptions(c.options as Json, label) } : {};
  const args = (xs: JsonValue | undefined) =>
    ((xs ?? []) as JsonValue[]).map((a) => convertArg(a, label));
  switch (c.type) {
    case "run":
      return { type: "run", argv: args(c.argv), ...options };
    case "runScript":
      return { type: "runScript", path: String(c.path), args: args(c.args), ...options };
    case "runString":
      return { type: "runString", body: String(c.body), args: args(c.args), ...options };
    case "push":
      return { type: "push", locals: c.locals as string[], remote: String(c.remote), ...options };
    case "pull":
      return { type: "pull", remotes: c.remotes as string[], local: String(c.local), ...options };
    default:
      throw new AiorchError(
        "CODEGEN",
        `job "${label}": unknown command type ${JSON.stringify(c.type)} in the trace`,
        { label },
      );
  }
}

function convertArg(a: JsonValue, label: string): ArgModel {
  if (typeof a === "string" || typeof a === "number") return a;
  const o = a as Json;
  if (o && typeof o.deferred === "string") {
    try {
      return { deferred: checkFunctionSource(o.deferred) };
    } catch (err) {
      throw new AiorchError("CODEGEN", `job "${label}": ${(err as Error).message}`, { label });
    }
  }
  if (o && typeof o.raw === "string") return { raw: o.raw };
  return String(a);
}

function convertOptions(o: Json, label: string): CommandOptionsModel {
  const out: CommandOptionsModel = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "env") {
      const env: Record<string, ArgModel> = {};
      for (const [name, x] of Object.entries(v as Json))
        env[name] = (x as Json)?.$redacted === true ? { fromEnv: name } : convertArg(x, label);
      out.env = env;
    } else (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Nodes found in command jobs, deduplicated by description, with readable unique ids. */
class NodeTable {
  readonly list: NodeModel[] = [];
  private readonly byKey = new Map<string, string>();
  private readonly ids = new Set<string>();

  idOf(desc: Json): string {
    const key = JSON.stringify(desc);
    const known = this.byKey.get(key);
    if (known) return known;
    const gateway = desc.gateway ? this.idOf(desc.gateway as Json) : undefined;
    const id = this.freshId(desc.type === "local" ? "local" : String(desc.host));
    this.byKey.set(key, id);
    this.list.push(convertNode(desc, id, gateway));
    return id;
  }

  private freshId(base: string): string {
    let id = base.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "node";
    if (/^[0-9]/.test(id)) id = `node_${id}`;
    let out = id;
    for (let n = 2; this.ids.has(out); n++) out = `${id}_${n}`;
    this.ids.add(out);
    return out;
  }
}

function convertNode(d: Json, id: string, gateway: string | undefined): NodeModel {
  if (d.type === "local")
    return { id, type: "local", ...(typeof d.shell === "string" ? { shell: d.shell } : {}) };
  const defaultKnownHosts = join(homedir(), ".ssh", "known_hosts");
  return {
    id,
    type: "ssh",
    host: String(d.host),
    ...(typeof d.name === "string" && d.name !== "" ? { name: d.name } : {}),
    ...(typeof d.port === "number" && d.port !== 22 ? { port: d.port } : {}),
    ...(typeof d.user === "string" ? { user: d.user } : {}),
    ...(Array.isArray(d.keys) ? { keys: d.keys.map(String) } : {}),
    ...(gateway ? { gateway } : {}),
    ...(typeof d.knownHosts === "string" && d.knownHosts !== defaultKnownHosts
      ? { knownHosts: d.knownHosts }
      : {}),
    ...(d.hostKeys === "accept-new" || d.hostKeys === "off" ? { hostKeys: d.hostKeys } : {}),
    ...(typeof d.connectTimeout === "number" && d.connectTimeout !== 30_000
      ? { connectTimeout: d.connectTimeout }
      : {}),
    ...(typeof d.maxSessions === "number" ? { maxSessions: d.maxSessions } : {}),
    ...(d.agent === false ? { agent: false as const } : {}),
    ...(d.passphrase !== undefined ? { passphraseEnv: "AIORCH_PASSPHRASE" } : {}),
  };
}
