import { expect, test } from "vitest";
import { exampleA } from "../../scenarios/seed-examples.scenario.ts";
import { Scheduler } from "../../src/index.ts";
test("probe", async () => {
  const s = exampleA();
  expect(s).toBeInstanceOf(Scheduler);
  expect(await s.run()).toBe(true);
});
