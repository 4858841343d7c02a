/** POSIX shell quoting. */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word for a POSIX shell: left alone when safe, else single-quoted. */
export function quoteArg(arg: string): string {
  if (arg === "") return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Quote every word and join them with spaces. */
export function quoteArgs(args: readonly string[]): string {
  return args.map(quoteArg).join(" ");
}

/** A valid shell variable name (for `env`). */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
