import { ts } from "ts-morph";
import { AiorchError } from "../../src/errors.ts";
import type { ReplaySpec } from "../../src/trace/types.ts";
import type {
  ArgModel,
  CommandModel,
  CommandOptionsModel,
  NodeModel,
  ReadyModel,
  ServiceJobModel,
} from "../model.ts";
import { jsonLit, lit, numLit, objLit } from "./literals.ts";

/** Engine names a generated file may import from "aiorch"; tracks which are used. */
export class EngineImports {
  readonly used = new Set<string>();
  use(name: string): string {
    this.used.add(name);
    return name;
  }
}

/** `new SshNode({ ... })` / `new LocalNode()` for a node whose gateway var is known. */
export function nodeExpr(
  n: NodeModel,
  vars: ReadonlyMap<string, string>,
  imp: EngineImports,
): string {
  if (n.type === "local")
    return `new ${imp.use("LocalNode")}(${n.shell ? `{ shell: ${lit(n.shell)} }` : ""})`;
  const obj = objLit({
    host: lit(n.host),
    name: n.name === undefined ? undefined : lit(n.name),
    port: n.port === undefined ? undefined : numLit(n.port),
    user: n.user === undefined ? undefined : lit(n.user),
    keys: n.keys ? `[${n.keys.map(lit).join(", ")}]` : undefined,
    gateway: n.gateway ? vars.get(n.gateway) : undefined,
    knownHosts: n.knownHosts === undefined ? undefined : lit(n.knownHosts),
    hostKeys: n.hostKeys === undefined ? undefined : lit(n.hostKeys),
    connectTimeout: n.connectTimeout === undefined ? undefined : numLit(n.connectTimeout),
    maxSessions: n.maxSessions === undefined ? undefined : numLit(n.maxSessions),
    agent: n.agent === false ? "false" : undefined,
    // secrets are never in a model: the passphrase is read from the environment
    ...(n.passphraseEnv ? { passphrase: `process.env[${lit(n.passphraseEnv)}]` } : {}),
  });
  return `new ${imp.use("SshNode")}(${obj})`;
}

/** A command argument: literal, a raw() word, or a function of the captured variables. */
export function argExpr(a: ArgModel, imp: EngineImports): string {
  if (typeof a === "string") return lit(a);
  if (typeof a === "number") return numLit(a);
  if ("raw" in a) return `${imp.use("raw")}(${lit(a.raw)})`;
  if ("var" in a) return `(vars) => vars[${lit(a.var)}] ?? ""`;
  if ("fromEnv" in a) return `process.env[${lit(a.fromEnv)}] ?? ""`;
  // recorded as source by the trace: emitted only when it is one function expression
  return `/* recorded function */ (${checkFunctionSource(a.deferred)})`;
}

/**
 * `source` when it parses as exactly one arrow function or function expression (what a
 * recorded deferred argument is); anything else (an IIFE, a statement, trailing code) is
 * refused: a trace must not be able to put code that runs at load time into the scenario.
 */
export function checkFunctionSource(source: string): string {
  const sf = ts.createSourceFile("arg.ts", `(${source});`, ts.ScriptTarget.ES2022, true);
  const only = sf.statements.length === 1 ? sf.statements[0] : undefined;
  const expr =
    only && ts.isExpressionStatement(only) && ts.isParenthesizedExpression(only.expression)
      ? only.expression.expression
      : undefined;
  const parsed = (sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? [];
  if (!expr || parsed.length > 0 || !(ts.isArrowFunction(expr) || ts.isFunctionExpression(expr)))
    throw new AiorchError(
      "CODEGEN",
      `a recorded deferred argument is not one function expression: ${JSON.stringify(source.slice(0, 80))}`,
    );
  return source;
}

/** `{ NAME: "value", TOKEN: process.env["TOKEN"] ?? "" }` */
export function envExpr(env: Record<string, ArgModel>, imp: EngineImports): string {
  return (
    objLit(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, argExpr(v, imp)]))) || "{}"
  );
}

/** A readiness check: `run("nc -z localhost 80")` or `new RegExp("listening on", "i")`. */
export function readyExpr(r: ReadyModel, imp: EngineImports): string {
  if ("output" in r)
    return `new RegExp(${[r.output, ...(r.flags ? [r.flags] : [])].map(lit).join(", ")})`;
  return commandExpr(
    {
      type: "run",
      argv: r.run,
      ...(r.allowedExits ? { options: { allowedExits: r.allowedExits } } : {}),
    },
    imp,
  );
}

/** The options of `.service(...)` past `after`/`critical` (`ready`, `env`, `detach`…). */
export function serviceOptionsExpr(
  j: ServiceJobModel,
  imp: EngineImports,
): Record<string, string | undefined> {
  const num = (n: number | undefined) => (n === undefined ? undefined : numLit(n));
  const str = (x: string | undefined) => (x === undefined ? undefined : lit(x));
  return {
    ready: j.ready ? readyExpr(j.ready, imp) : undefined,
    readyTimeout: num(j.readyTimeout),
    readyInterval: num(j.readyInterval),
    detach: j.detach ? "true" : undefined,
    env: j.env ? envExpr(j.env, imp) : undefined,
    cwd: str(j.cwd),
    stopSignal: str(j.stopSignal),
    stopTimeout: num(j.stopTimeout),
    log: str(j.log),
  };
}

function optionsExpr(
  o: CommandOptionsModel | undefined,
  imp: EngineImports,
  extra: string[] = [],
): string | undefined {
  if (!o) return undefined;
  const s = objLit({
    label: o.label === undefined ? undefined : lit(o.label),
    timeout: o.timeout === undefined ? undefined : numLit(o.timeout),
    allowedExits: o.allowedExits
      ? `[${o.allowedExits.map((x) => (typeof x === "number" ? numLit(x) : lit(x))).join(", ")}]`
      : undefined,
    env: o.env ? envExpr(o.env, imp) : undefined,
    cwd: o.cwd === undefined ? undefined : lit(o.cwd),
    capture: o.capture === undefined ? undefined : lit(o.capture),
    encoding: o.encoding === undefined ? undefined : lit(o.encoding),
    ignoreOutputs: o.ignoreOutputs === true ? "true" : undefined,
    ...(extra.includes("includes") && o.includes
      ? { includes: `[${o.includes.map(lit).join(", ")}]` }
      : {}),
    ...(extra.includes("remoteName") && o.remoteName !== undefined
      ? { remoteName: lit(o.remoteName) }
      : {}),
  });
  return s || undefined;
}

/** `run("cmd", "arg", { ... })`, `runScript(...)`, `push([...], "dir")`… */
export function commandExpr(c: CommandModel, imp: EngineImports): string {
  const list = (xs: readonly string[]) => `[${xs.map(lit).join(", ")}]`;
  const arg = (a: ArgModel) => argExpr(a, imp);
  const args = (xs: readonly ArgModel[]) => `[${xs.map(arg).join(", ")}]`;
  const call = (name: string, parts: (string | undefined)[]) =>
    `${imp.use(name)}(${parts.filter((p) => p !== undefined).join(", ")})`;
  switch (c.type) {
    case "run":
      return call("run", [
        ...(c.argv.length ? c.argv : [""]).map(arg),
        optionsExpr(c.options, imp),
      ]);
    case "runScript": {
      const o = optionsExpr(c.options, imp, ["includes"]);
      return call("runScript", [lit(c.path), o || c.args.length ? args(c.args) : undefined, o]);
    }
    case "runString": {
      const o = optionsExpr(c.options, imp, ["includes", "remoteName"]);
      return call("runString", [lit(c.body), o || c.args.length ? args(c.args) : undefined, o]);
    }
    case "push":
      return call("push", [list(c.locals), lit(c.remote), optionsExpr(c.options, imp)]);
    case "pull":
      return call("pull", [list(c.remotes), lit(c.local), optionsExpr(c.options, imp)]);
  }
}

/** `replay({ duration: 120, outcome: "error", error: {...} })` */
export function replayExpr(r: ReplaySpec, imp: EngineImports): string {
  const obj = objLit({
    duration: numLit(r.duration),
    outcome: r.outcome === "ok" ? undefined : lit(r.outcome),
    result: r.result === undefined ? undefined : jsonLit(r.result),
    error: r.error === undefined ? undefined : jsonLit(r.error as never),
    output: r.output?.length ? jsonLit(r.output as never) : undefined,
  });
  return `${imp.use("replay")}(${obj})`;
}

/** A comment line safe for any text (no line breaks, no comment terminators). */
export function commentText(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, " ").replace(/\*\//g, "*\\/");
}
