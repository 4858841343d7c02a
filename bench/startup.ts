/**
 * `npm run bench -- startup`: how long the installed `aiorch` takes to start, against
 * `node -e 0` measured in the same run (median of RUNS starts each). The package is
 * installed as a user gets it (`npm pack`, then installed into a fresh ES module project:
 * test/package/install.ts, the layout the consumer tests use).
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installPacked } from "../test/package/install.ts";
import { median, printTable } from "./util.ts";

const RUNS = 15;

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
  const installed = installPacked({ prefix: "aiorch-startup-", type: "module" });
  try {
    const { project, env } = installed;
    const cache = env.AIORCH_CACHE_DIR as string;
    writeFileSync(
      join(project, "trivial.scenario.ts"),
      `import { scenario } from "aiorch/dsl";\n\nexport default scenario("trivial").job("one", async () => 1);\n`,
    );
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
    installed.dispose();
  }
}
