/**
 * Composition, for scenarios too big for one chained expression (TypeScript's parser
 * overflows its stack at roughly 600–650 chained calls, see docs/dsl.md):
 * - a long chain split across `const` statements stays one flat, typed scenario;
 * - a part is a scenario of its own, `.include`d as a nested scheduler (own window and
 *   timeout); one part included twice gets `prefix: true` so its labels stay unique;
 * - a graph known only at run time (here a table) goes through `dynamicScenario`;
 * - the default export is a function of the parameters (declared by `export const params`,
 *   typed with `ParamsOf`), so one file serves many runs.
 *
 *   npx aiorch run scenarios/composed.scenario.ts --param canary=true
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { JobContext } from "aiorch";
import { dynamicScenario, type ParamsOf, scenario } from "aiorch/dsl";

/** A body that takes `ms` and returns `value`. */
const work =
  <T>(ms: number, value: T) =>
  async ({ signal }: JobContext): Promise<T> => {
    await sleep(ms, undefined, { signal });
    return value;
  };

// a chain split in two statements: the second continues the first, types included
const checksStart = scenario("checks")
  .job("lint", work(20, 0))
  .job("unit", work(30, 120), { after: ["lint"] });
const checks = checksStart
  .job("integration", work(30, 14), { after: ["unit"] })
  .job("total", async ({ results }) => results.unit + results.integration, {
    after: ["unit", "integration"],
  });

/** One rollout, typed inside; included once per color. */
const rollout = (color: string) =>
  scenario(`rollout-${color}`, { window: 2, timeout: 10_000 })
    .job("drain", work(20, true))
    .job("upgrade", work(30, "1.4.2"), { after: ["drain"] })
    .job("start", work(20, true), { after: ["upgrade"] })
    .job("health", async ({ results }) => `${color} ${results.upgrade} healthy`, {
      after: ["start", "upgrade"],
    });

// a graph known only at run time: labels and requirements from data
const migrations = [
  { name: "users", after: [] },
  { name: "orders", after: ["users"] },
  { name: "invoices", after: ["orders"] },
  { name: "search-index", after: ["users"] },
];
const migrate = dynamicScenario("migrate", { window: 2 });
for (const m of migrations)
  migrate.addJob(m.name, async ({ log }) => log(`migrated ${m.name}`), { after: m.after });

export const params = {
  canary: { default: false, description: "add a canary stage after the blue rollout" },
} as const;

export default (p: ParamsOf<typeof params>) => {
  const base = scenario("composed")
    .include("checks", checks)
    .include("migrate", migrate, { after: ["checks"] })
    .include("blue", rollout("blue"), { after: ["migrate"], prefix: true });
  const withCanary = p.canary
    ? base.job("canary", async ({ log }) => log("canary traffic ok"), { after: ["blue"] })
    : base;
  return withCanary.include("green", rollout("green"), { after: ["blue"], prefix: true }).job(
    "done",
    async ({ results, log }) => {
      log(`checks total ${results.checks.total}`);
      log(`${results.blue.health}; ${results.green.health}`);
    },
    { after: ["checks", "blue", "green"] },
  );
};
