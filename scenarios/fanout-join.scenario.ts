/**
 * Fan-out with a join: "install" on every host (one job per host, at most `window` at
 * once), non-critical so one flaky host does not stop the others; "summary" requires the
 * whole group and reads one Outcome per host; "verify" fans out again and skips the hosts
 * whose install failed. The hosts are simulated (sleeps), so it runs anywhere.
 *
 *   npx aiorch run scenarios/fanout-join.scenario.ts --param hosts=a,b,c --param flaky=b
 *   npx aiorch run scenarios/fanout-join.scenario.ts --help     # lists the parameters
 */
import { setTimeout as sleep } from "node:timers/promises";
import { scenario } from "aiorch/dsl";

const hostsOf = ({ hosts }: { hosts: readonly string[] }): string[] =>
  hosts.filter((h) => h !== "");

export default scenario("fanout-join", {
  timeout: 30_000,
  params: {
    hosts: {
      default: ["alpha", "beta", "gamma", "delta", "epsilon"],
      description: "the (simulated) hosts to install on",
    },
    flaky: { default: "gamma", description: "the host whose install fails (empty: none)" },
  },
})
  .job("inventory", async ({ params, log }) => {
    const hosts = hostsOf(params);
    log(`${hosts.length} hosts: ${hosts.join(" ")}`);
    return hosts;
  })
  .each(
    "install",
    hostsOf,
    async (host, { signal, log, params }) => {
      log(`installing on ${host}`);
      await sleep(40 + 20 * (host.length % 4), undefined, { signal });
      if (host === params.flaky) throw new Error(`${host}: package mirror unreachable`);
      return { host, version: "1.4.2" };
    },
    { after: ["inventory"], critical: false, window: 2 },
  )
  .job(
    "summary",
    async ({ results, log }) => {
      const ok = results.install.flatMap((o) => (o.ok ? [o.value.host] : []));
      const failed = results.inventory.filter((h) => !ok.includes(h));
      log(`installed on ${ok.length}/${results.inventory.length} hosts`);
      if (failed.length > 0) log(`failed: ${failed.join(" ")}`);
      return { ok, failed };
    },
    { after: ["inventory", "install"] },
  )
  .each(
    "verify",
    hostsOf,
    async (host, { results, log }) => {
      if (results.summary.failed.includes(host)) {
        log(`${host}: skipped (install failed)`);
        return "skipped";
      }
      return "verified";
    },
    { after: ["summary"] },
  );
