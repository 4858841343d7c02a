/**
 * Type guarantees of byte captures: an outcome narrows on `encoding`; a byte capture has a
 * `Buffer` for sure and no text; only "utf8" and "buffer" are encodings.
 */
import { describe, expectTypeOf, test } from "vitest";
import { scenario } from "../../dsl/index.ts";
import { type CommandOutcome, run, type SshJobResult } from "../../src/ssh/index.ts";

describe("capture encoding", () => {
  test("an outcome narrows on encoding: Buffer for bytes, string | undefined for text", () => {
    const o = {} as CommandOutcome;
    if (o.encoding === "buffer") {
      expectTypeOf(o.stdoutBytes).toEqualTypeOf<Buffer>();
      expectTypeOf(o.stdout).toEqualTypeOf<undefined>();
    } else {
      expectTypeOf(o.stdout).toEqualTypeOf<string | undefined>();
      expectTypeOf(o.stdoutBytes).toEqualTypeOf<Buffer | undefined>();
    }
    // without narrowing, the text is still a string (existing code keeps compiling)
    expectTypeOf(o.stdout).toEqualTypeOf<string | undefined>();
    // @ts-expect-error the bytes may be absent until narrowed to a byte capture
    o.stdoutBytes.length;
  });

  test("only utf8 and buffer are encodings", () => {
    run("cat img.png", { capture: "png", encoding: "buffer" });
    run("hostname", { capture: "h", encoding: "utf8" });
    // @ts-expect-error not an encoding of a capture
    run("cat img.png", { capture: "png", encoding: "latin1" });
  });

  test("DSL dependents read the same outcome type", () => {
    scenario("s")
      .local("fetch", [run("cat img.png", { capture: "png", encoding: "buffer" })])
      .job(
        "use",
        async ({ results }) => {
          expectTypeOf(results.fetch).toEqualTypeOf<SshJobResult>();
          const o = results.fetch.commands[0];
          if (o?.encoding === "buffer") expectTypeOf(o.stdoutBytes).toEqualTypeOf<Buffer>();
        },
        { after: ["fetch"] },
      );
  });
});
