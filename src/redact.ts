/**
 * The one redaction policy of aiorch, used by every sink (console lines, plain log, live
 * view, debrief, error messages, traces, reports, generated code):
 * - values of commands' `env` are never shown: a command is displayed as
 *   `export API_TOKEN=*** …`, and descriptions record `{ $redacted: true }`;
 * - values under secret-looking names ({@link isSecretName}: KEY, TOKEN, SECRET, PASS, PWD,
 *   PAT, CREDENTIAL, AUTH…) are never recorded, and are masked wherever they appear;
 * - declared secrets (`secrets: [...]` of a scenario or a Scheduler, `SshNode({ password })`)
 *   are replaced by `***` in every output line, error message, result and trace.
 * Secrets are known to the process (one run per process, as CI masks work); values shorter
 * than 4 characters are not masked (masking "a" everywhere would hide everything).
 */

/** What replaces a secret in every output: `"***"`. */
export const MASK = "***";

/** Name parts that mark a secret (matched on `_`/`-`/`.`/camelCase parts, and as suffixes). */
const SECRET_PART =
  /^(pass|passwd|password|passphrase|pwd|secret|secrets|token|tokens|key|keys|apikey|privatekey|pat|credential|credentials|creds|auth|authorization|cookie|session|sessionid|signature|private|cert|otp|pin|salt|bearer|jwt|dsn)$/;
const SECRET_SUFFIX =
  /(pass|passwd|password|passphrase|pwd|secret|token|apikey|credential|credentials|auth)$/;

/** Names of aiorch's own descriptions that look like secrets but hold paths or modes. */
const NOT_SECRET = new Set(["keys", "hostKeys", "knownHosts", "hostKey", "keyboard"]);

/**
 * True for names holding secrets: `API_TOKEN`, `DB_PASSWORD`, `MYSQL_PWD`, `GITHUB_PAT`,
 * `AWS_SECRET_ACCESS_KEY`, `apiKey`, `passphrase`, `Authorization`… but not `PATH`,
 * `HOME` or `KEYBOARD_LAYOUT`. Command `env` values under such names are declared secrets
 * by themselves (every env value is shown as `***` anyway).
 *
 * @example
 * ```ts
 * import { isSecretName } from "aiorch";
 *
 * isSecretName("GITHUB_PAT"); // true
 * isSecretName("PATH"); // false
 * ```
 */
export function isSecretName(name: string): boolean {
  if (NOT_SECRET.has(name)) return false;
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((p) => p !== "");
  return parts.some((p) => SECRET_PART.test(p) || SECRET_SUFFIX.test(p));
}

const known = new Set<string>();
let pattern: RegExp | undefined;

/**
 * Declare secret values, e.g. one a job fetched at run time: from then on they are replaced
 * by `***` in every output line, log line, error message, result, trace and report of this
 * process (what was shown before is not taken back: declare them before use). One string or
 * a list; `undefined`/`null` (an unset variable) and values under 4 characters are ignored.
 * Scenarios can also declare them up front (`secrets: [...]` of `scenario()` or `Scheduler`).
 *
 * @example
 * ```ts
 * import { readFile } from "node:fs/promises";
 * import { addSecrets, Job } from "aiorch";
 *
 * const login = new Job(async ({ log }) => {
 *   const token = (await readFile("/run/secrets/api-token", "utf8")).trim();
 *   addSecrets(token); // before it can appear anywhere
 *   log(`got ${token}`); // shown as "got ***"
 *   return token; // recorded as "***" in traces and reports
 * });
 * ```
 */
export function addSecrets(values: string | Iterable<string | null | undefined>): void {
  for (const v of typeof values === "string" ? [values] : values) {
    if (typeof v !== "string" || v.length < 4 || known.has(v)) continue;
    known.add(v);
    pattern = undefined;
  }
}

/** @internal true when at least one secret is declared (sinks skip masking otherwise) */
export function hasSecrets(): boolean {
  return known.size > 0;
}

/**
 * `text` with every declared secret replaced by `***` (longest first, so a secret that
 * contains another is masked whole): what aiorch's own sinks do, for yours (a file a job
 * writes, a message it sends).
 *
 * @example
 * ```ts
 * import { addSecrets, maskSecrets } from "aiorch";
 *
 * addSecrets("s3cr3t-value");
 * maskSecrets("token is s3cr3t-value"); // "token is ***"
 * ```
 */
export function maskSecrets(text: string): string {
  if (known.size === 0 || text.length < 4) return text;
  pattern ??= new RegExp(
    [...known]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("|"),
    "g",
  );
  return text.replace(pattern, MASK);
}

/** `export A=*** B=***; ` : an env prefix as shown (names only, never values). */
export function shownEnv(names: readonly string[]): string {
  return names.length ? `export ${names.map((n) => `${n}=${MASK}`).join(" ")}; ` : "";
}

/** @internal forget every declared secret (tests) */
export function clearSecrets(): void {
  known.clear();
  pattern = undefined;
}
