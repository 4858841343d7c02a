/**
 * DSL type-check cost: generated scenarios (a chain where each job requires the previous
 * one and reads its typed result) are checked by `tsc --noEmit --extendedDiagnostics` in a
 * temp dir; prints instantiations, types and check time. Target: a 250-job chain checks in
 * under 3 s with no "excessively deep" error. Also shows the parser's limit: 1,000 chained
 * calls in one expression overflow the stack, the same 1,000 jobs split across statements
 * check fine (docs/dsl.md, "Big scenarios").
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printTable } from "./util.ts";

const repo = join(import.meta.dirname, "..");
const tsc = join(repo, "node_modules", "typescript", "lib", "tsc.js");

interface Case {
  name: string;
  jobs: number;
  /** jobs per statement; the chain continues from one `const` to the next */
  perStatement: number;
}

const CASES: Case[] = [
  { name: "baseline (1 job: the DSL's own sources)", jobs: 1, perStatement: 1 },
  { name: "chain, one expression", jobs: 100, perStatement: 100 },
  { name: "chain, one expression", jobs: 250, perStatement: 250 },
  { name: "chain, one expression", jobs: 1000, perStatement: 1000 },
  { name: "chain, 4 statements of 250", jobs: 1000, perStatement: 250 },
];

/** The scenario source: `const p0 = scenario("chain").job("j0", …)…; const p1 = p0.job(…)…` */
export function generateChain({
  jobs,
  perStatement,
}: {
  jobs: number;
  perStatement: number;
}): string {
  const lines = ['import { scenario } from "aiorch/dsl";', "", 'const p0 = scenario("chain")'];
  lines.push('  .job("j0", async () => 0)');
  for (let i = 1; i < jobs; i++) {
    if (i % perStatement === 0) {
      lines[lines.length - 1] += ";";
      lines.push(`const p${i / perStatement} = p${i / perStatement - 1}`);
    }
    lines.push(
      `  .job("j${i}", async ({ results }) => results.j${i - 1} + 1, { after: ["j${i - 1}"] })`,
    );
  }
  lines[lines.length - 1] += ";";
  lines.push(`export default p${Math.floor((jobs - 1) / perStatement)};`, "");
  return lines.join("\n");
}

interface Measure {
  ok: boolean;
  note: string;
  instantiations?: number;
  types?: number;
  checkS?: number;
  totalS?: number;
}

/** Type-check one generated file in `dir` and read tsc's diagnostics. */
function checkFile({ dir, source }: { dir: string; source: string }): Measure {
  writeFileSync(join(dir, "chain.scenario.ts"), source);
  const r = spawnSync(
    process.execPath,
    [tsc, "-p", join(dir, "tsconfig.json"), "--extendedDiagnostics"],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const out = `${r.stdout}${r.stderr}`;
  const num = (label: string) => {
    const m = new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const ownErrors = out.split("\n").filter((l) => l.startsWith("chain.scenario.ts("));
  const crash = /RangeError: [^\n]*/.exec(out)?.[0];
  const deep = /excessively deep/.test(out);
  const m: Measure = {
    ok: !crash && !deep && ownErrors.length === 0,
    note: crash ?? (deep ? "TS2589 excessively deep" : (ownErrors[0] ?? "ok")),
  };
  const inst = num("Instantiations");
  const types = num("Types");
  const check = num("Check time");
  const total = num("Total time");
  return {
    ...m,
    ...(inst === undefined ? {} : { instantiations: inst }),
    ...(types === undefined ? {} : { types }),
    ...(check === undefined ? {} : { checkS: check }),
    ...(total === undefined ? {} : { totalS: total }),
  };
}

/** A temp project resolving `aiorch` and `aiorch/dsl` to this repository's sources. */
function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiorch-dsl-bench-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const compilerOptions = {
    target: "ES2023",
    lib: ["ES2023"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [join(repo, "node_modules", "@types")],
    paths: {
      "aiorch/dsl": [join(repo, "dsl", "index.ts")],
      aiorch: [join(repo, "src", "index.ts")],
    },
  };
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions, files: ["chain.scenario.ts"] }, null, 2),
  );
  return dir;
}

/** Run the cases and print the table. */
export async function benchDslTypecheck(): Promise<void> {
  const dir = makeProject();
  try {
    const rows: (string | number)[][] = [];
    for (const c of CASES) {
      const m = checkFile({ dir, source: generateChain(c) });
      rows.push([
        c.name,
        c.jobs,
        m.instantiations ?? "-",
        m.types ?? "-",
        m.checkS === undefined ? "-" : `${m.checkS.toFixed(2)} s`,
        m.totalS === undefined ? "-" : `${m.totalS.toFixed(2)} s`,
        m.note,
      ]);
    }
    printTable(
      "DSL type-check cost (tsc --noEmit --extendedDiagnostics; target: 250 jobs < 3 s check)",
      ["scenario", "jobs", "instantiations", "types", "check time", "total time", "result"],
      rows,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
