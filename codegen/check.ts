import { resolve } from "node:path";
import { type Diagnostic, Project } from "ts-morph";

/** A type error of a generated file. */
export interface CodeProblem {
  /** 1-based line, when known */
  line?: number;
  message: string;
}

/**
 * Type-check scenario files under a project's tsconfig (strict settings included) and
 * return their errors; an empty list means they compile. The files must be on disk, where
 * their imports (`aiorch`, `aiorch/dsl`, modules of function jobs) resolve.
 *
 * @example
 * ```ts
 * const problems = checkScenarioFiles({ files: ["replay.scenario.ts"] });
 * if (problems.length) console.error(problems);
 * ```
 */
export function checkScenarioFiles({
  files,
  tsconfig = "tsconfig.json",
}: {
  files: readonly string[];
  /** @default "tsconfig.json" (of the current directory) */
  tsconfig?: string;
}): CodeProblem[] {
  const project = new Project({
    tsConfigFilePath: resolve(tsconfig),
    skipAddingFilesFromTsConfig: true,
  });
  const sources = files.map((f) => project.addSourceFileAtPath(resolve(f)));
  const wanted = new Set(sources.map((s) => s.getFilePath()));
  const out: CodeProblem[] = [];
  const diags: Diagnostic[] = [
    ...project.getProgram().getSyntacticDiagnostics(),
    ...project.getProgram().getSemanticDiagnostics(),
  ];
  for (const d of diags) {
    const sf = d.getSourceFile();
    if (sf && !wanted.has(sf.getFilePath())) continue;
    const text = d.getMessageText();
    const message = typeof text === "string" ? text : text.getMessageText();
    const line = d.getLineNumber();
    out.push({
      ...(line === undefined ? {} : { line }),
      message: `${sf ? `${sf.getBaseName()}: ` : ""}${message}`,
    });
  }
  return out;
}
