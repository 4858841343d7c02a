/**
 * Codegen benchmark: time to turn a recorded trace of N jobs into `.scenario.ts` code
 * (`traceToModel` + `generateScenario`, one pass over ts-morph structures), against the
 * naive way (one `addStatements` call per job, quadratic). Target: 2,000 jobs < 2 s.
 * Also the time tsc takes to type-check the generated 2,000-job file, for information.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Project } from "ts-morph";
import { checkScenarioFiles } from "../codegen/check.ts";
import { generateScenario } from "../codegen/emit/scenario.ts";
import { traceToModel } from "../codegen/from-trace.ts";
import type { Trace, TraceJob, TraceNode, TraceScheduler } from "../src/trace/types.ts";
import { collect, median, printTable, prng } from "./util.ts";

/**
 * A synthetic trace: `jobs` jobs over `nodes` SSH nodes (and the local machine), 3 in 4
 * running commands, the rest opaque functions; each job requires the previous one on its
 * node and, one in five, a random earlier job. With `phases`, jobs are split in that many
 * nested schedulers run one after the other.
 */
export function makeBigTrace({ jobs = 2000, nodes = 20, phases = 0 } = {}): Trace {
  const rnd = prng(42);
  const lastOnNode = new Map<string, string>();
  const made: TraceJob[] = [];
  for (let i = 0; i < jobs; i++) {
    const n = i % (nodes + 1);
    const host = n === nodes ? "local" : `10.0.${n >> 8}.${n & 255}`;
    const label = `job-${i} on ${host}`;
    const requires: string[] = [];
    const prev = lastOnNode.get(host);
    if (prev) requires.push(prev);
    const other = made[Math.floor(rnd() * made.length)];
    if (other && rnd() < 0.2 && !requires.includes(other.label)) requires.push(other.label);
    lastOnNode.set(host, label);
    const node: Record<string, string | number> =
      host === "local"
        ? { type: "local" }
        : { type: "ssh", host, port: 22, user: "root", hostKeys: "verify" };
    made.push({
      type: "job",
      label,
      critical: true,
      forever: false,
      requires,
      state: "done",
      startedAt: i,
      endedAt: i + 10,
      duration: 10,
      kind: i % 4 === 3 ? "Job" : "SshJob",
      work:
        i % 4 === 3
          ? { kind: "opaque" }
          : {
              kind: "commands",
              node,
              commands: [{ type: "run", argv: [`echo step ${i}`, 'it\'s "quoted"'] }],
            },
      ...(i % 4 === 3 ? { result: i } : {}),
      output: { lines: [], truncated: false, droppedLines: 0, droppedBytes: 0 },
    });
  }
  const sched = (label: string, list: TraceNode[], requires: string[] = []): TraceScheduler => ({
    type: "scheduler",
    label,
    critical: true,
    forever: false,
    requires,
    state: "done",
    jobs: list,
  });
  let root: TraceScheduler;
  if (phases > 0) {
    const size = Math.ceil(jobs / phases);
    const parts: TraceScheduler[] = [];
    for (let p = 0; p < phases; p++) {
      const chunk = made.slice(p * size, (p + 1) * size);
      const inside = new Set(chunk.map((j) => j.label));
      for (const j of chunk) j.requires = j.requires.filter((r) => inside.has(r));
      parts.push(sched(`phase-${p}`, chunk, p ? [`phase-${p - 1}`] : []));
    }
    root = sched("big", parts);
  } else root = sched("big", made);
  return {
    format: "aiorch-trace",
    version: 1,
    createdAt: new Date(0).toISOString(),
    run: { startedAt: 1, endedAt: jobs + 20, elapsed: jobs + 19, ok: true, reason: "ok" },
    scenario: root,
    limits: { jobOutputBytes: 65_536, totalOutputBytes: 4_194_304, resultBytes: 16_384 },
  };
}

/** ms to generate the code of `trace` (median of `repeat`). */
function timeGenerate(trace: Trace, repeat: number): { ms: number; code: string } {
  let code = "";
  const times: number[] = [];
  for (let r = 0; r < repeat; r++) {
    collect();
    const t = performance.now();
    code = generateScenario({ model: traceToModel({ trace }), outFile: "bench.scenario.ts" });
    times.push(performance.now() - t);
  }
  return { ms: median(times), code };
}

/** The quadratic way: one addStatements per job on a growing file. */
function timeNaive(jobs: number): number {
  const project = new Project({ useInMemoryFileSystem: true });
  const sf = project.createSourceFile("/naive.ts", "");
  const t = performance.now();
  for (let i = 0; i < jobs; i++)
    sf.addStatements(`b${i}.job("job-${i}", replay({ duration: 10 }));`);
  return performance.now() - t;
}

/** Run the codegen benchmark and print its tables. */
export async function benchCodegen(): Promise<void> {
  const rows: (string | number)[][] = [];
  let code2k = "";
  for (const [jobs, phases] of [
    [500, 0],
    [2000, 0],
    [2000, 10],
    [10000, 0],
  ] as const) {
    const { ms, code } = timeGenerate(makeBigTrace({ jobs, phases }), jobs > 5000 ? 3 : 5);
    if (jobs === 2000 && phases === 0) code2k = code;
    rows.push([
      jobs,
      phases || "flat",
      ms.toFixed(0),
      (code.length / 1024).toFixed(0),
      code.split("\n").length,
    ]);
  }
  printTable(
    "codegen: trace -> .scenario.ts (one pass)",
    ["jobs", "phases", "ms", "KiB", "lines"],
    rows,
  );
  const naive = [250, 500].map((n) => [n, timeNaive(n).toFixed(0)]);
  printTable("naive: one addStatements per job (quadratic, for comparison)", ["jobs", "ms"], naive);
  // type-check the 2,000-job file where its imports resolve (inside the package)
  const dir = join(import.meta.dirname, "../.tmp/bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "big.generated.scenario.ts");
  writeFileSync(file, code2k);
  const t = performance.now();
  const problems = checkScenarioFiles({
    files: [file],
    tsconfig: join(import.meta.dirname, "../tsconfig.json"),
  });
  printTable(
    "type-check of the generated 2,000-job file (tsc via ts-morph)",
    ["ms", "errors"],
    [[(performance.now() - t).toFixed(0), problems.length]],
  );
  if (problems.length)
    console.log(
      problems
        .slice(0, 3)
        .map((p) => `  ${p.line}: ${p.message}`)
        .join("\n"),
    );
}
