/**
 * Memory stays bounded by the trace's limits: a result holding a large capture (string and
 * bytes) is noted `too-large` without ever being turned into JSON text.
 */
import { describe, expect, test } from "vitest";
import { Redactor, toJsonValue } from "../../src/trace/capture.ts";

describe("bounded recording", () => {
  test("a 20 MB captured result is too large, found without stringifying it", () => {
    const big = Buffer.alloc(20_000_000, 0x61);
    const result = { outcomes: [{ stdout: big.toString("latin1"), stdoutBytes: big }] };
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    expect(toJsonValue(result, { maxBytes: 65_536, redactor: new Redactor() })).toEqual({
      note: "too-large",
    });
    // JSON of a 20 MB Buffer is ~70 MB of text: none of it was built
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(10_000_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test("small values are still recorded as they are", () => {
    expect(toJsonValue({ a: [1, "x"] }, { maxBytes: 1000, redactor: new Redactor() })).toEqual({
      value: { a: [1, "x"] },
    });
  });
});
