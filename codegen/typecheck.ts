import { dirname, resolve, sep } from "node:path";
import { Project, ts } from "ts-morph";

/** What {@link typeCheckScenarios} found. */
export interface TypeCheckResult {
  /** number of errors in the checked files and their local imports */
  errors: number;
  /** the compiler's messages, as `tsc` prints them: `file(line,col): error TSxxxx: ...` */
  text: string;
  /** the tsconfig.json whose compiler options were used, if any */
  tsconfig?: string;
}

/**
 * Options used when no tsconfig.json is found above a scenario: strict, modules resolved
 * as Node does (`exports`, `type`), `.ts` imports allowed (tsx runs them).
 */
const DEFAULT_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2023,
  lib: ["lib.es2023.d.ts"],
  types: ["node"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  esModuleInterop: true,
  skipLibCheck: true,
};

/**
 * Type-check scenario files as `tsc` would, with the compiler options of the nearest
 * tsconfig.json above the first file (or strict defaults), and report the errors of those
 * files and of the local modules they import (not of installed packages, not of `skip`).
 *
 * @example
 * ```ts
 * const { errors, text } = typeCheckScenarios({ files: ["deploy.scenario.ts"] });
 * if (errors) process.stderr.write(text);
 * ```
 */
export function typeCheckScenarios({
  files,
  conditions = [],
  skip = [],
}: {
  files: readonly string[];
  /** extra export conditions (`customConditions`) @default [] */
  conditions?: readonly string[];
  /** directories whose files are not reported (aiorch's own sources) @default [] */
  skip?: readonly string[];
}): TypeCheckResult {
  const roots = files.map((f) => resolve(f));
  const tsconfig = ts.findConfigFile(dirname(roots[0] ?? "."), ts.sys.fileExists);
  // ts-morph's host serves the standard library files its bundled compiler needs
  const project = tsconfig
    ? new Project({ tsConfigFilePath: tsconfig, skipAddingFilesFromTsConfig: true })
    : new Project({ compilerOptions: DEFAULT_OPTIONS });
  const options = project.getCompilerOptions();
  project.compilerOptions.set({
    noEmit: true,
    customConditions: [...(options.customConditions ?? []), ...conditions],
  });
  for (const f of roots) project.addSourceFileAtPath(f);
  const program = project.getProgram().compilerObject;
  const problems: ts.Diagnostic[] = [];
  const skipped = skip.map((d) => resolve(d) + sep);
  const reported = (sf: ts.SourceFile) =>
    !sf.isDeclarationFile &&
    !program.isSourceFileFromExternalLibrary(sf) &&
    !sf.fileName.includes("/node_modules/") &&
    !skipped.some((d) => resolve(sf.fileName).startsWith(d));
  problems.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
  for (const sf of program.getSourceFiles())
    if (reported(sf))
      problems.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  const errors = problems.filter((d) => d.category === ts.DiagnosticCategory.Error);
  const text = ts.formatDiagnostics(errors, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => "\n",
  });
  return { errors: errors.length, text, ...(tsconfig ? { tsconfig } : {}) };
}
