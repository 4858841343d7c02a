/** Type guarantees of raw shell words: usable wherever an argument is, never as options. */
import { describe, expectTypeOf, test } from "vitest";
import { type Arg, type RawWord, raw, run, runScript, runString } from "../../src/ssh/index.ts";

describe("raw()", () => {
  test("a raw word is an Arg in every position", () => {
    expectTypeOf(raw(">")).toEqualTypeOf<RawWord>();
    expectTypeOf(raw`> ${"f"} ${2}`).toEqualTypeOf<RawWord>();
    expectTypeOf<RawWord>().toMatchTypeOf<Arg>();
    run("head -c 4", raw("<"), "/dev/zero", raw(">"), "f", { timeout: 1000 });
    runScript("./s.sh", ["a", raw("|"), "b"]);
    runString("echo $1", [raw("$HOME")], { env: { P: raw("$PATH") } });
    run("x", { ignoreOutputs: true });
  });

  test("template values are strings or numbers; options stay options", () => {
    // @ts-expect-error a deferred value cannot go into a raw template
    raw`> ${(v: Record<string, string>) => v.f}`;
    // @ts-expect-error raw takes text
    raw(3);
    // @ts-expect-error ignoreOutputs is a boolean
    run("x", { ignoreOutputs: "yes" });
  });
});
