/**
 * Type-check many example files in one TypeScript program, under the project's tsconfig,
 * and build the prelude of TSDoc examples.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";

/** A diagnostic of one file: 1-based line and column, `TSxxxx`, flattened message. */
export interface FileDiagnostic {
  line: number;
  column: number;
  code: number;
  message: string;
}

/** Type-check `files` (absolute paths, on disk) together; diagnostics per file. */
export function typeCheck({
  root,
  files,
}: {
  root: string;
  files: readonly string[];
}): Map<string, FileDiagnostic[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (!config) throw new Error("cannot read tsconfig.json");
  const program = ts.createProgram({ rootNames: files, options: config.options });
  const out = new Map<string, FileDiagnostic[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    out.set(
      file,
      ts.getPreEmitDiagnostics(program, source).map((d) => {
        const at = source.getLineAndCharacterOfPosition(d.start ?? 0);
        return {
          line: at.line + 1,
          column: at.character + 1,
          code: d.code,
          message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
        };
      }),
    );
  }
  return out;
}

/** Names bound at the top level of a snippet (imports, const/let, functions, classes). */
export function declaredNames(code: string): Set<string> {
  const sf = ts.createSourceFile("x.ts", code, ts.ScriptTarget.ES2023, false, ts.ScriptKind.TS);
  const names = new Set<string>();
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      if (c?.name) names.add(c.name.text);
      const b = c?.namedBindings;
      if (b && ts.isNamespaceImport(b)) names.add(b.name.text);
      if (b && ts.isNamedImports(b)) for (const e of b.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) bind(d.name);
    } else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st)) &&
      st.name
    ) {
      names.add(st.name.text);
    }
  }
  return names;
}

const isExported = (st: ts.Statement): boolean =>
  ts.canHaveModifiers(st) &&
  (ts.getModifiers(st) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** The names a module exports (`export { … }` lists and exported declarations). */
function exportsOf(file: string): { name: string; typeOnly: boolean }[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2023, false, ts.ScriptKind.TS);
  const out: { name: string; typeOnly: boolean }[] = [];
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const e of st.exportClause.elements)
        out.push({ name: e.name.text, typeOnly: st.isTypeOnly || e.isTypeOnly });
    } else if (isExported(st)) {
      if (ts.isVariableStatement(st))
        for (const d of st.declarationList.declarations)
          if (ts.isIdentifier(d.name)) out.push({ name: d.name.text, typeOnly: false });
      if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name)
        out.push({ name: st.name.text, typeOnly: false });
      if ((ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name)
        out.push({ name: st.name.text, typeOnly: true });
    }
  }
  return out;
}

/**
 * Free names of TSDoc examples, declared by the prelude (unless the example binds the
 * name itself). Examples are short and refer to "a scheduler", "a node"… by these names.
 */
export const FREE_NAMES: Readonly<Record<string, string>> = {
  scheduler: "declare const scheduler: Scheduler;",
  s: "declare const s: Scheduler;",
  node: "declare const node: SshNode;",
  other: "declare const other: SshNode;",
  nodes: "declare const nodes: SshNode[];",
  recorder: "declare const recorder: Recorder;",
  ok: "declare const ok: boolean;",
  file: "declare const file: string;",
  text: "declare const text: string;",
  trace: "declare const trace: Trace;",
  inventory: "declare const inventory: { name: string; deps: string[] }[];",
  log: "declare function log(value: unknown): void;",
  fetch: "declare const fetch: Job;",
  build: "declare const build: Job;",
  test: "declare const test: Job;",
  deploy: "declare const deploy: Job;",
  notify: "declare const notify: Job;",
  setup: "declare const setup: Job;",
  writeFileSync: 'import { writeFileSync } from "node:fs";',
  setTimeout: 'import { setTimeout } from "node:timers/promises";',
};

/**
 * The lines put before a TSDoc example: imports of every public export of `aiorch` and
 * its subpaths (`aiorch/ssh`, `aiorch/dsl`, `aiorch/trace`, `aiorch/view`, `aiorch/codegen`, `aiorch/queue`), then of the other exports of the documented file
 * itself (`source`, imported from `dir` where the example is written), then
 * {@link FREE_NAMES}; minus the names the example binds itself.
 */
export function buildPrelude({
  root,
  dir,
  source,
  code,
}: {
  root: string;
  dir: string;
  source: string;
  code: string;
}): string[] {
  const own = declaredNames(code);
  const lines: string[] = [];
  const self = relative(dir, join(root, source)).split(sep).join("/");
  const entries: [string, string][] = [
    ["aiorch", "src/index.ts"],
    ["aiorch/ssh", "src/ssh/index.ts"],
    ["aiorch/dsl", "dsl/index.ts"],
    ["aiorch/trace", "src/trace/index.ts"],
    ["aiorch/view", "src/render/index.ts"],
    ["aiorch/codegen", "codegen/index.ts"],
    ["aiorch/queue", "src/queue/index.ts"],
    [self.startsWith(".") ? self : `./${self}`, source],
  ];
  const seen = new Set(own);
  for (const [spec, path] of entries) {
    const names = exportsOf(join(root, path)).filter((e) => !seen.has(e.name));
    for (const e of names) seen.add(e.name);
    const list = names.map((e) => (e.typeOnly ? `type ${e.name}` : e.name));
    if (list.length) lines.push(`import { ${list.join(", ")} } from "${spec}";`);
  }
  for (const [name, decl] of Object.entries(FREE_NAMES)) if (!own.has(name)) lines.push(decl);
  return lines;
}
