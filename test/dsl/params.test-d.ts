/** Type guarantees of scenario parameters: lists, choices as literal unions, flags. */
import { describe, expectTypeOf, test } from "vitest";
import { type ParamsOf, scenario } from "../../dsl/index.ts";

describe("parameter types", () => {
  test("bodies see lists, literal unions and booleans", () => {
    scenario("p", {
      params: {
        nodes: [1, 2],
        hosts: { default: ["a"], description: "hosts" },
        mode: { default: "safe", choices: ["fast", "safe"] },
        radios: { default: ["b210"], choices: ["b210", "n300"] },
        dry: { default: false, description: "print only" },
        n: 3,
      },
    }).job("j", async ({ params }) => {
      expectTypeOf(params).toEqualTypeOf<{
        readonly nodes: readonly number[];
        readonly hosts: readonly string[];
        readonly mode: "fast" | "safe";
        readonly radios: readonly ("b210" | "n300")[];
        readonly dry: boolean;
        readonly n: number;
      }>();
      // @ts-expect-error a choice is a literal union, not any string
      const m: "fast" = params.mode;
      return m;
    });
  });

  test("ParamsOf types a function default export's parameters", () => {
    const params = { canary: { default: false }, zones: ["eu"] } as const;
    expectTypeOf<ParamsOf<typeof params>>().toEqualTypeOf<{
      readonly canary: boolean;
      readonly zones: readonly string[];
    }>();
  });

  test("build() takes declared names only, typed or as strings", () => {
    const s = scenario("b", {
      params: { nodes: [1], mode: { default: "a", choices: ["a", "b"] } },
    });
    s.build({ params: { nodes: [2, 3], mode: "b" } });
    s.build({ params: { nodes: "2,3" } });
    // @ts-expect-error an undeclared parameter
    s.build({ params: { nope: "1" } });
    // @ts-expect-error a list of numbers is not a list of strings
    s.build({ params: { nodes: ["x"] } });
  });
});
