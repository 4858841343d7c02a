// scenarios/experiment.scenario.ts — run it: npx aiorch run scenarios/experiment.scenario.ts
import { LocalNode, run } from "aiorch";
import { scenario } from "aiorch/dsl";

const node = new LocalNode(); // same interface as new SshNode({ host, user, gateway })

export default scenario("experiment", { timeout: 30_000 })
  .ssh("kernel", node, [run("uname", "-r", { capture: "kernel" })])
  .each(
    "probe",
    ["alpha", "beta", "gamma"],
    async (name, { log }) => {
      log(`probing ${name}`);
      return name.length;
    },
    { after: ["kernel"], window: 2 },
  )
  .job(
    "report",
    async ({ results, vars }) => {
      const total = results.probe.reduce((a, b) => a + b, 0); // results.probe: number[]
      return `kernel ${vars.kernel}: ${results.probe.length} probes, total ${total}`;
    },
    { after: ["probe"] },
  )
  .job("notify", async ({ results }) => `sent: ${results.report}`, {
    after: ["report"],
    critical: false, // a failure here is reported, not fatal
  });
