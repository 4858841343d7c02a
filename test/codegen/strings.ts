import fc from "fast-check";

/** Strings made of what usually breaks code generators. */
export const nastyString = (): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '"',
          "'",
          "`",
          "$" + "{",
          "$" + "{x}",
          "\\",
          "\\n",
          "\n",
          "\r\n",
          "\r",
          "\t",
          "*/",
          "//",
          "\u2028",
          "\u2029",
          "\ufeff",
          "\u0000",
          "\u007f",
          "é",
          "日本",
          "🚀",
          "\ud800",
          "\udc00",
          " ",
          "$",
          "{",
          "}",
        ),
        fc.string({ unit: "binary", maxLength: 4 }),
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(""));
