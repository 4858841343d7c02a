/**
 * `npm run bench -- startup`: how long the installed `aiorch` takes to start, against
 * `node -e 0` measured in the same run (median of RUNS starts each). The package is built
 * (`npm run build`) and laid out as an install would have it (package.json, bin/, dist/ in
 * node_modules/aiorch, no sources), its dependencies linked from this repository.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, printTable } from "./util.ts";

const ROOT = join(import.meta.dirname, "..");
const RUNS = 15;

/** Lay out an installed aiorch in a fresh project; returns the project directory. */
function installBuilt(tmp: string): string {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  const project = join(tmp, "project");
  const modules = join(project, "node_modules");
  mkdirSync(modules, { recursive: true });
  for (const name of readdirSync(join(ROOT, "node_modules")))
    if (name !== "aiorch" && !name.startsWith("."))
      symlinkSync(join(ROOT, "node_modules", name), join(modules, name));
  const pkg = join(modules, "aiorch");
  for (const part of ["package.json", "bin", "dist"])
    cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
  writeFileSync(join(project, "package.json"), '{ "name": "startup", "type": "module" }\n');
  writeFileSync(
    join(project, "trivial.scenario.ts"),
    `import { scenario } from "aiorch/dsl";\n\nexport default scenario("trivial").job("one", async () => 1);\n`,
  );
  return project;
}

/** Wall time of one start, in ms; the command must succeed. */
function timeOnce(args: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return ms;
}

/** Median wall time of `runs` starts (`before` runs ahead of each, untimed). */
function timeMedian(o: {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  runs?: number;
  before?: () => void;
}): number {
  const times: number[] = [];
  for (let i = 0; i < (o.runs ?? RUNS); i++) {
    o.before?.();
    times.push(timeOnce(o.args, o.cwd, o.env));
  }
  return median(times);
}

export async function benchStartup(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "aiorch-startup-"));
  try {
    const project = installBuilt(tmp);
    const cache = join(tmp, "cache");
    const env: NodeJS.ProcessEnv = { ...process.env, AIORCH_CACHE_DIR: cache, NO_COLOR: "1" };
    delete env.AIORCH_CHECK;
    const bin = join(project, "node_modules/aiorch/bin/aiorch.mjs");
    const runArgs = [bin, "run", "trivial.scenario.ts", "--quiet"];
    const t = (args: string[], more: Partial<Parameters<typeof timeMedian>[0]> = {}) =>
      timeMedian({ args, cwd: project, env, ...more });

    const base = t(["-e", "0"]);
    const help = t([bin, "--help"]);
    const engine = t(["-e", 'await import("aiorch")', "--input-type=module"]);
    const dsl = t(["-e", 'await import("aiorch/dsl")', "--input-type=module"]);
    const noCheck = t([...runArgs, "--no-check"]);
    const cold = t(runArgs, {
      runs: 5,
      before: () => rmSync(cache, { recursive: true, force: true }),
    });
    const cached = t(runArgs); // the first of these fills the cache: the median is a cached start
    const row = (what: string, ms: number, bound?: number) => [
      what,
      ms.toFixed(0),
      `+${(ms - base).toFixed(0)}`,
      (ms / base).toFixed(2),
      bound === undefined ? "" : ms - base <= bound ? `ok (<= +${bound})` : `OVER (+${bound})`,
    ];
    printTable(
      `start-up, median of ${RUNS} starts (cold check: 5), ms`,
      ["command", "ms", "vs node -e 0", "ratio", "bound"],
      [
        row("node -e 0", base),
        row("aiorch --help", help, 150),
        row('import("aiorch")', engine),
        row('import("aiorch/dsl")', dsl),
        row("aiorch run trivial --no-check", noCheck),
        row("aiorch run trivial (check cached)", cached, 400),
        row("aiorch run trivial (cold check)", cold),
      ],
    );
    console.log(`\ncold check cost: ${(cold - cached).toFixed(0)} ms over a cached start`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
