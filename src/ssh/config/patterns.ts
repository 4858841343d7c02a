/** OpenSSH patterns (ssh_config(5) PATTERNS): `*` any run of characters, `?` exactly one. */

const compiled = new Map<string, RegExp>();

/** True when `text` matches the whole `pattern`. */
export function matchPattern(pattern: string, text: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = [...pattern]
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
      .join("");
    re = new RegExp(`^${body}$`, "s");
    compiled.set(pattern, re);
  }
  return re.test(text);
}

/**
 * A pattern list (`a*,!b`, or the words of a `Host` line): true when some positive entry
 * matches and no negated one does (a negated match wins, whatever the order).
 */
export function matchPatternList(
  patterns: readonly string[],
  text: string,
  opts: { lowercase?: boolean } = {},
): boolean {
  let matched = false;
  for (const raw of patterns) {
    const p = opts.lowercase ? raw.toLowerCase() : raw;
    const negated = p.startsWith("!");
    if (matchPattern(negated ? p.slice(1) : p, text)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}
