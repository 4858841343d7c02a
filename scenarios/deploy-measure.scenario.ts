/**
 * Deploy, then measure: an experiment on N "nodes" of this machine (LocalNodes, each with
 * its own directory standing for a remote host). The workload is pushed to every node,
 * checked, then measured one node at a time (window 1: no interference); a report job
 * joins the measurements and a non-critical cleanup removes the files.
 *
 *   npx aiorch run scenarios/deploy-measure.scenario.ts --param nodes=4 --param rounds=5
 *
 * With real machines, replace the LocalNodes by `new SshNode({ host, user })`: the
 * commands stay the same.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalNode, push, run } from "aiorch";
import { scenario } from "aiorch/dsl";

const workload = join(import.meta.dirname, "assets", "workload.mjs");

/** Where node `i` keeps its files. */
const dirOf = (root: string, i: number): string => join(root, `node-${i}`);

/** Median of numbers. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const options = { timeout: 60_000 };

export default scenario("deploy-measure", {
  params: { nodes: 3, rounds: 3, root: join(tmpdir(), `aiorch-deploy-measure-${process.pid}`) },
})
  .local("prepare", ({ root }) => [run("rm", "-rf", root), run("mkdir", "-p", root)])
  .sshEach(
    "deploy",
    ({ nodes }) => Array.from({ length: nodes }, () => new LocalNode()),
    (_node, { root }, i) => [
      run("mkdir", "-p", dirOf(root, i)),
      push([workload], `${dirOf(root, i)}/`),
      run("node", join(dirOf(root, i), "workload.mjs"), "--check"),
    ],
    { after: ["prepare"], key: (_node, i) => `node-${i}` },
  )
  .sshEach(
    "measure",
    ({ nodes }) => Array.from({ length: nodes }, () => new LocalNode()),
    (_node, { root, rounds }, i) => [
      run("node", join(dirOf(root, i), "workload.mjs"), "--rounds", rounds, {
        capture: `times_${i}`,
      }),
    ],
    { after: ["deploy"], key: (_node, i) => `node-${i}`, window: 1 },
  )
  .job(
    "report",
    async ({ results, log }) => {
      const perNode = results.measure.map((r) => {
        const times = (r.commands[0]?.stdout ?? "").split("\n").filter(Boolean).map(Number);
        return { rounds: times.length, median: median(times) };
      });
      perNode.forEach((n, i) => {
        log(`node-${i}: ${n.rounds} rounds, median ${n.median.toFixed(1)} ms`);
      });
      const overall = median(perNode.map((n) => n.median));
      log(`overall median ${overall.toFixed(1)} ms over ${perNode.length} nodes`);
      return { perNode, overall };
    },
    { after: ["measure"] },
  )
  .local("cleanup", ({ root }) => [run("rm", "-rf", root)], {
    after: ["report"],
    critical: false,
  });
