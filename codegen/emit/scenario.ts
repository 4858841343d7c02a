import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import {
  type ImportDeclarationStructure,
  IndentationText,
  Project,
  type StatementStructures,
  StructureKind,
} from "ts-morph";
import type { JobModel, RetryModel, ScenarioModel } from "../model.ts";
import { lit, Names, numLit, objLit, objLitLines } from "./literals.ts";
import {
  commandExpr,
  commentText,
  EngineImports,
  nodeExpr,
  readyExpr,
  replayExpr,
  serviceOptionsExpr,
} from "./parts.ts";

/** Options of {@link generateScenario}. */
export interface GenerateOptions {
  /** the scenario to emit */
  model: ScenarioModel;
  /**
   * where the file will be written: relative module paths of function jobs are rewritten
   * against its folder
   * @default "./generated.scenario.ts" (in the current directory)
   */
  outFile?: string;
  /**
   * most calls in one builder chain; longer scenarios continue in further `const`
   * statements (tsc and ts-morph overflow their stack on very long chains)
   * @default 200
   */
  maxChain?: number;
  /**
   * module specifiers of the imports
   * @default { engine: "aiorch", trace: "aiorch/trace", dsl: "aiorch/dsl" }
   */
  imports?: { engine?: string; trace?: string; dsl?: string };
  /** where the model came from, for the header comment @example "run.trace.json" */
  source?: string;
}

const ENGINE_NAMES = [
  "LocalNode",
  "SshNode",
  "moduleJob",
  "pull",
  "push",
  "replay",
  "run",
  "runScript",
  "runString",
];

let project: Project | undefined;
let fileCount = 0;

/**
 * TypeScript source of a `.scenario.ts` file building `model` with the typed DSL: nodes as
 * `SshNode`/`LocalNode` declarations, command jobs as `.ssh(...)` with their real commands,
 * function jobs as imports called through `moduleJob`, opaque jobs as `replay(...)` jobs
 * marked `REPLAY`, nested schedulers as sub-scenarios composed with `.include`. The file is
 * built in one pass from ts-morph structures.
 *
 * @example
 * ```ts
 * const code = generateScenario({ model: traceToModel({ trace }), outFile: "replay.scenario.ts" });
 * ```
 */
export function generateScenario(opts: GenerateOptions): string {
  const { model, maxChain = 200 } = opts;
  const outFile = resolve(opts.outFile ?? "generated.scenario.ts");
  const names = new Names(["scenario", ...ENGINE_NAMES]);
  const imp = new EngineImports();
  const statements: (string | StatementStructures)[] = [];
  // plain text at the top level: the writer inserts no indentation there, so multi-line
  // template literals and hand-indented chains are kept byte for byte
  const constant = (name: string, initializer: string): string => `const ${name} = ${initializer};`;

  const nodeVars = new Map<string, string>();
  for (const n of model.nodes) nodeVars.set(n.id, names.fresh(n.id, "node"));
  model.nodes.forEach((n, i) => {
    const decl = constant(nodeVars.get(n.id)!, nodeExpr(n, nodeVars, imp));
    statements.push(i === 0 ? `\n${decl}` : decl);
  });

  // function imports: module specifier -> export name -> local name
  const fnImports = new Map<string, Map<string, string>>();
  const importFn = (module: string, name: string): { spec: string; local: string } => {
    const spec = rewriteModule(module, model.baseDir, outFile);
    const m = fnImports.get(spec) ?? new Map<string, string>();
    fnImports.set(spec, m);
    const local = m.get(name) ?? names.fresh(name, "fn");
    m.set(name, local);
    return { spec, local };
  };

  const emitScenario = (p: {
    name: string;
    options: { timeout?: number | undefined; window?: number | undefined; critical: boolean };
    jobs: readonly JobModel[];
  }): string => {
    const critical = p.options.critical;
    const subs = new Map<JobModel, string>();
    for (const j of p.jobs)
      if (j.kind === "scenario")
        subs.set(
          j,
          emitScenario({
            name: j.label,
            options: { timeout: j.timeout, window: j.window, critical: j.critical ?? critical },
            jobs: j.jobs,
          }),
        );
    const scenarioOpts = objLit({
      timeout: p.options.timeout === undefined ? undefined : String(p.options.timeout),
      window: p.options.window ? String(p.options.window) : undefined,
      critical: critical ? undefined : "false",
    });
    let v = names.fresh(p.name, "scenario");
    let lines = [`scenario(${lit(p.name)}${scenarioOpts ? `, ${scenarioOpts}` : ""})`];
    const first = statements.length;
    let calls = 0;
    for (const j of p.jobs) {
      if (calls === maxChain) {
        statements.push(constant(v, lines.join("\n")));
        const prev = v;
        v = names.fresh(p.name, "scenario");
        lines = [prev];
        calls = 0;
      }
      const entries = {
        after: j.after.length ? `[${j.after.map(lit).join(", ")}]` : undefined,
        critical:
          j.kind !== "scenario" && j.critical !== undefined && j.critical !== critical
            ? String(j.critical)
            : j.kind === "scenario" && (j.critical ?? critical) !== critical
              ? String(j.critical)
              : undefined,
        forever: j.forever && j.kind !== "scenario" && j.kind !== "service" ? "true" : undefined,
        retry:
          j.retry && j.kind !== "scenario" && j.kind !== "service" ? retryLit(j.retry) : undefined,
        ...(j.kind === "service"
          ? serviceOptionsExpr(j, imp)
          : {
              ready: j.ready ? readyExpr(j.ready, imp) : undefined,
              readyTimeout: j.readyTimeout === undefined ? undefined : numLit(j.readyTimeout),
            }),
      };
      const o = objLit(entries);
      const tail = o ? `, ${o}` : "";
      const label = lit(j.label);
      switch (j.kind) {
        case "commands": {
          const cmds = j.commands.map((c) => commandExpr(c, imp));
          const node = nodeVars.get(j.node) ?? j.node;
          const one = `  .ssh(${label}, ${node}, [${cmds.join(", ")}]${tail})`;
          lines.push(
            one.length <= 100 && !one.includes("\n")
              ? one
              : `  .ssh(${label}, ${node}, [\n${cmds.map((c) => `    ${c},\n`).join("")}  ]${tail})`,
          );
          break;
        }
        case "service": {
          const node = nodeVars.get(j.node) ?? j.node;
          const one = `  .service(${label}, ${node}, ${lit(j.command)}${tail})`;
          lines.push(
            one.length <= 100 && !one.includes("\n")
              ? one
              : `  .service(${label}, ${node}, ${lit(j.command)}, ${objLitLines(entries, "  ")})`,
          );
          break;
        }
        case "function": {
          const { spec, local } = importFn(j.module, j.name);
          const src = objLit({
            module: lit(spec),
            name: lit(j.name),
            args: j.args ? `[${j.args.map((a) => JSON.stringify(a)).join(", ")}]` : undefined,
          });
          lines.push(`  .job(${label}, ${imp.use("moduleJob")}(${local}, ${src})${tail})`);
          break;
        }
        case "replay":
          lines.push(
            `  // REPLAY: ${commentText(j.note ?? "recorded duration and outcome, not the real work")}`,
          );
          lines.push(`  .job(${label}, ${replayExpr(j.replay, imp)}${tail})`);
          break;
        case "scenario":
          if (j.forever)
            lines.push("  // (this nested scheduler was a forever job: include cannot express it)");
          lines.push(`  .include(${label}, ${subs.get(j)}${tail})`);
          break;
      }
      calls++;
    }
    statements.push(constant(v, lines.join("\n")));
    // a blank line before each scenario (the writer keeps a leading newline as is)
    statements[first] = `\n${statements[first] as string}`;
    return v;
  };

  const root = emitScenario({
    name: model.name,
    options: { timeout: model.timeout, window: model.window, critical: model.critical ?? true },
    jobs: model.jobs,
  });
  statements.push(`\nexport default ${root};`);

  const imports: ImportDeclarationStructure[] = [];
  // the nodes come from the root entry, replay and moduleJob from aiorch/trace
  const used = [...imp.used].sort();
  const fromTrace = (name: string) => name === "replay" || name === "moduleJob";
  const groups: Array<[string, string[]]> = [
    [opts.imports?.engine ?? "aiorch", used.filter((n) => !fromTrace(n))],
    [opts.imports?.trace ?? "aiorch/trace", used.filter(fromTrace)],
  ];
  for (const [moduleSpecifier, namedImports] of groups)
    if (namedImports.length)
      imports.push({ kind: StructureKind.ImportDeclaration, moduleSpecifier, namedImports });
  imports.push({
    kind: StructureKind.ImportDeclaration,
    moduleSpecifier: opts.imports?.dsl ?? "aiorch/dsl",
    namedImports: ["scenario"],
  });
  for (const [spec, m] of fnImports)
    imports.push({
      kind: StructureKind.ImportDeclaration,
      moduleSpecifier: spec,
      namedImports: [...m].map(([name, local]) =>
        name === local ? { name } : { name, alias: local },
      ),
    });
  imports[0]!.leadingTrivia = header(opts.source, model.name);

  project ??= new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces },
  });
  const sf = project.createSourceFile(`/gen${++fileCount}.ts`, {
    statements: [...imports, ...statements],
  });
  const text = sf.getFullText();
  project.removeSourceFile(sf);
  return text;
}

function header(source: string | undefined, name: string): string {
  return [
    "/**",
    ` * Generated by \`aiorch codegen\`${source ? ` from ${commentText(source)}` : ""}: scenario ${commentText(JSON.stringify(name))}.`,
    " * Jobs marked REPLAY reproduce a recorded duration and outcome; they do not do the work.",
    " */",
    "",
  ].join("\n");
}

/** A relative module path as seen from the generated file's folder. */
function rewriteModule(module: string, baseDir: string | undefined, outFile: string): string {
  if (!module.startsWith(".") && !isAbsolute(module)) return module;
  const abs = resolve(baseDir ?? process.cwd(), module);
  let rel = relative(dirname(outFile), abs).split(sep).join("/");
  if (!rel.startsWith(".")) rel = `./${rel}`;
  return rel;
}

/** `{ attempts: 3, backoff: 500 }` */
function retryLit(r: RetryModel): string {
  const b = r.backoff;
  const num = (n: number | undefined) => (n === undefined ? undefined : String(n));
  return objLit({
    attempts: String(r.attempts),
    backoff:
      typeof b === "number"
        ? String(b)
        : b
          ? objLit({ initial: num(b.initial), max: num(b.max), factor: num(b.factor) })
          : undefined,
  });
}
