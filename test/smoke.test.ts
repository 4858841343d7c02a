import { expect, test } from "vitest";
import { Job, Scheduler } from "../src/index.ts";

test("a two-job scheduler runs in order and resolves true", async () => {
  const order: string[] = [];
  const a = new Job(async () => order.push("a"), { label: "a" });
  const b = new Job(async () => order.push("b"), { label: "b", required: a });
  expect(await new Scheduler([b, a]).run()).toBe(true);
  expect(order).toEqual(["a", "b"]);
});
