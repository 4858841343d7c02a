import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AiorchError } from "../src/errors.ts";
import { type AbstractJob, Job, type JobContext } from "../src/job.ts";
import { Scheduler } from "../src/scheduler.ts";
import {
  type Arg,
  type Command,
  type CommandNode,
  type CommandOptions,
  LocalNode,
  pull,
  push,
  raw,
  run,
  runScript,
  type RunCommand,
  runString,
  type ServiceOptions,
  SshJob,
  SshNode,
  service,
} from "../src/ssh/index.ts";
import { registerModuleCall } from "../src/trace/describe.ts";
import { replay } from "../src/trace/replay.ts";
import type {
  ArgModel,
  CommandModel,
  JobModel,
  NodeModel,
  ReadyModel,
  ScenarioModel,
  ServiceJobModel,
} from "./model.ts";

/**
 * Build a runnable {@link Scheduler} straight from a model (what `aiorch run scenario.yaml`
 * does): the same jobs, labels, nesting and options the generated code would build.
 * Function jobs are imported from their modules (relative to `model.baseDir`).
 *
 * @example
 * ```ts
 * const scheduler = await buildFromModel({ model: await loadDataModel({ file: "s.yaml" }) });
 * ```
 */
export async function buildFromModel({ model }: { model: ScenarioModel }): Promise<Scheduler> {
  const nodes = new Map<string, CommandNode>();
  for (const n of model.nodes) nodes.set(n.id, makeNode(n, nodes));
  const baseDir = model.baseDir ?? process.cwd();
  const jobs = await makeJobs(model.jobs, { nodes, baseDir });
  return new Scheduler(jobs, {
    label: model.name,
    critical: model.critical ?? true,
    ...(model.timeout === undefined ? {} : { timeout: model.timeout }),
    ...(model.window ? { window: model.window } : {}),
  });
}

interface Ctx {
  nodes: ReadonlyMap<string, CommandNode>;
  baseDir: string;
}

async function makeJobs(models: readonly JobModel[], ctx: Ctx): Promise<AbstractJob[]> {
  const byLabel = new Map<string, AbstractJob>();
  const out: AbstractJob[] = [];
  for (const m of models) {
    const opts = {
      label: m.label,
      ...(m.critical === undefined ? {} : { critical: m.critical }),
      ...(m.forever ? { forever: true } : {}),
      ...(m.retry && m.kind !== "scenario" ? { retry: m.retry } : {}),
      required: m.after.map((l) => byLabel.get(l)),
      ...(m.readyTimeout === undefined ? {} : { readyTimeout: m.readyTimeout }),
    };
    const nodeOf = (id: string): CommandNode => {
      const node = ctx.nodes.get(id);
      if (!node)
        throw new AiorchError("CODEGEN", `job "${m.label}": unknown node "${id}"`, {
          label: m.label,
        });
      return node;
    };
    // a pattern for any forever job; a command only for services (checked by the schema)
    const ready = m.ready && makeReady(m.ready, m.label);
    const pattern = ready instanceof RegExp ? { ready } : {};
    let job: AbstractJob;
    switch (m.kind) {
      case "commands":
        job = new SshJob(
          nodeOf(m.node),
          m.commands.map((c) => makeCommand(c, m.label)),
          { ...opts, ...pattern },
        );
        break;
      case "service": {
        const { env: envModel, ...rest } = serviceOptionsOf(m);
        job = service(nodeOf(m.node), m.command, {
          ...opts,
          ...rest,
          ...(envModel ? { env: makeEnv(envModel, m.label) } : {}),
          ...(ready ? { ready } : {}),
        });
        break;
      }
      case "function": {
        const fn = await importFunction(m.module, m.name, ctx.baseDir, m.label);
        const args = m.args ?? [];
        const source = { module: m.module, name: m.name, ...(m.args ? { args: m.args } : {}) };
        const body = (c: JobContext) => fn(c, ...args);
        // relative to the data file: `aiorch run --redis` hands it to a worker
        registerModuleCall(body, {
          fn,
          ...source,
          args,
          dirs: [ctx.baseDir],
        });
        job = new Job(body, { ...opts, ...pattern, source });
        break;
      }
      case "replay":
        job = new Job(replay(m.replay), opts);
        break;
      case "scenario":
        job = new Scheduler(await makeJobs(m.jobs, ctx), {
          ...opts,
          ...(m.timeout === undefined ? {} : { timeout: m.timeout }),
          ...(m.window ? { window: m.window } : {}),
        });
        break;
    }
    byLabel.set(m.label, job);
    out.push(job);
  }
  return out;
}

type ModuleFn = (ctx: JobContext, ...args: unknown[]) => unknown;

async function importFunction(
  module: string,
  name: string,
  baseDir: string,
  label: string,
): Promise<ModuleFn> {
  const spec =
    module.startsWith(".") || isAbsolute(module)
      ? pathToFileURL(resolve(baseDir, module)).href
      : module;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    throw new AiorchError(
      "SCENARIO_INVALID",
      `job "${label}": cannot import ${module}: ${(err as Error).message}`,
      {
        label,
        cause: err,
      },
    );
  }
  const fn = mod[name];
  if (typeof fn !== "function")
    throw new AiorchError(
      "SCENARIO_INVALID",
      `job "${label}": ${module} has no exported function "${name}"`,
      { label },
    );
  return fn as ModuleFn;
}

function makeNode(n: NodeModel, nodes: ReadonlyMap<string, CommandNode>): CommandNode {
  if (n.type === "local") return new LocalNode(n.shell ? { shell: n.shell } : {});
  const passphrase = n.passphraseEnv ? process.env[n.passphraseEnv] : undefined;
  return new SshNode({
    host: n.host,
    ...(n.name === undefined ? {} : { name: n.name }),
    ...(n.port === undefined ? {} : { port: n.port }),
    ...(n.user === undefined ? {} : { user: n.user }),
    ...(n.keys ? { keys: n.keys } : {}),
    ...(n.gateway ? { gateway: nodes.get(n.gateway) as SshNode } : {}),
    ...(n.knownHosts === undefined ? {} : { knownHosts: n.knownHosts }),
    ...(n.hostKeys === undefined ? {} : { hostKeys: n.hostKeys }),
    ...(n.connectTimeout === undefined ? {} : { connectTimeout: n.connectTimeout }),
    ...(n.maxSessions === undefined ? {} : { maxSessions: n.maxSessions }),
    ...(n.agent === false ? { agent: false as const } : {}),
    ...(passphrase === undefined ? {} : { passphrase }),
  });
}

function makeArg(a: ArgModel, label: string): Arg {
  if (typeof a === "string" || typeof a === "number") return a;
  if ("var" in a) {
    const name = a.var;
    return (vars) => vars[name] ?? "";
  }
  if ("fromEnv" in a) return process.env[a.fromEnv] ?? "";
  if ("raw" in a) return raw(a.raw);
  throw new AiorchError(
    "CODEGEN",
    `job "${label}": a deferred argument recorded as source (${a.deferred}) cannot run from data; generate code with \`aiorch codegen\``,
    { label },
  );
}

function makeEnv(env: Record<string, ArgModel>, label: string): Record<string, Arg> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, makeArg(v, label)]));
}

/** The engine's readiness check of a model's `ready`. */
function makeReady(r: ReadyModel, label: string): RegExp | RunCommand {
  if ("output" in r) return new RegExp(r.output, r.flags ?? "");
  const [first, ...rest] = r.run.map((a) => makeArg(a, label));
  return run(first ?? "", ...rest, r.allowedExits ? { allowedExits: r.allowedExits } : {});
}

/** The options of a service model that `service()` takes as they are. */
function serviceOptionsOf(m: ServiceJobModel): Omit<ServiceOptions, "env"> & {
  env?: Record<string, ArgModel>;
} {
  const { readyInterval, detach, env, cwd, stopSignal, stopTimeout, log } = m;
  return Object.fromEntries(
    Object.entries({ readyInterval, detach, env, cwd, stopSignal, stopTimeout, log }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}

function makeCommand(c: CommandModel, label: string): Command {
  const { env: envModel, ...o } = c.options ?? {};
  const env = envModel ? makeEnv(envModel, label) : undefined;
  const options: CommandOptions & { includes?: string[]; remoteName?: string } = {
    ...o,
    ...(env ? { env } : {}),
  };
  const args = (xs: readonly ArgModel[]) => xs.map((a) => makeArg(a, label));
  switch (c.type) {
    case "run": {
      const [first, ...rest] = args(c.argv);
      return run(first ?? "", ...rest, options);
    }
    case "runScript":
      return runScript(c.path, args(c.args), options);
    case "runString":
      return runString(c.body, args(c.args), options);
    case "push":
      return push(c.locals, c.remote, options);
    case "pull":
      return pull(c.remotes, c.local, options);
  }
}
