/**
 * Retries of a flaky job: the policy (how many attempts, how long between them) and the
 * loop running the attempts. Delays come from cockatiel's `ExponentialBackoff` with its
 * default decorrelated-jitter generator (Polly's algorithm: exponential growth, spread so
 * that 200 nodes failing together do not retry in lockstep); the loop is ours, because it
 * must stop waiting the moment the run aborts and never wait past the run's deadline.
 */
import { ExponentialBackoff, type IBackoff } from "cockatiel";
import { AiorchError } from "./errors.ts";

/** How long to wait between attempts, in ms. */
export interface BackoffOptions {
  /** scale of the first delay, in ms (the first wait is random, up to about 1.4 times it) @default 200 */
  initial?: number;
  /** longest wait between two attempts, in ms @default 30000 */
  max?: number;
  /** growth factor from one wait to the next @default 2 */
  factor?: number;
}

/**
 * `retry` option of a job: run it again when it throws, up to `attempts` times in all.
 *
 * @example
 * ```ts
 * const flaky = new Job(async () => (Math.random() < 0.5 ? "ok" : Promise.reject(new Error("flake"))), {
 *   label: "flaky",
 *   retry: { attempts: 3, backoff: 500 },
 * });
 * ```
 */
export interface RetryOptions {
  /** attempts in all, the first included (1 = no retry) */
  attempts: number;
  /**
   * the initial delay in ms, or the full backoff; each wait is bounded by the run's
   * remaining time (no retry starts after the run's timeout)
   * @default { initial: 200, max: 30000, factor: 2 }
   */
  backoff?: number | BackoffOptions;
  /**
   * which errors are worth another attempt; others fail the job at once
   * @default every error
   * @example { attempts: 4, when: (e) => e instanceof AiorchError && e.code === "SSH_CONNECT" }
   */
  when?: (error: unknown) => boolean;
}

/** @internal a validated policy */
export interface RetryPolicy {
  attempts: number;
  initial: number;
  max: number;
  factor: number;
  when?: (error: unknown) => boolean;
}

/** Check a `retry` option; throws INVALID_ARGUMENT naming the job and the field. */
export function checkRetry({
  retry,
  label,
}: {
  retry: unknown;
  label?: string;
}): RetryPolicy | undefined {
  if (retry === undefined) return undefined;
  const bad = (field: string, value: unknown, want: string): AiorchError =>
    new AiorchError(
      "INVALID_ARGUMENT",
      `${label === undefined ? "" : `job "${label}": `}retry.${field} must be ${want}, got ${JSON.stringify(value) ?? String(value)}`,
      { option: `retry.${field}`, ...(label === undefined ? {} : { label }) },
    );
  if (typeof retry !== "object" || retry === null)
    throw bad("attempts", retry, "an object { attempts, backoff? }");
  const r = retry as Partial<RetryOptions>;
  if (typeof r.attempts !== "number" || !Number.isInteger(r.attempts) || r.attempts < 1)
    throw bad("attempts", r.attempts, "an integer >= 1");
  const b = typeof r.backoff === "number" ? { initial: r.backoff } : (r.backoff ?? {});
  if (typeof b !== "object" || b === null) throw bad("backoff", r.backoff, "a number or object");
  const num = (field: keyof BackoffOptions, dflt: number, min: number): number => {
    const v = b[field];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min)
      throw bad(`backoff.${field}`, v, `a number >= ${min}`);
    return v;
  };
  if (r.when !== undefined && typeof r.when !== "function")
    throw bad("when", r.when, "a function of the error");
  return {
    attempts: r.attempts,
    initial: num("initial", 200, 0),
    max: num("max", 30_000, 0),
    factor: num("factor", 2, 1),
    ...(r.when ? { when: r.when } : {}),
  };
}

/** One failed attempt, as the retry loop reports it. */
export interface FailedAttempt {
  /** 1 for the first run */
  attempt: number;
  error: unknown;
  /** ms before the next attempt; undefined when there is none */
  delay: number | undefined;
  /** why there is no next attempt, when attempts were left */
  gaveUp?: string;
}

/**
 * Run `attempt` until it resolves, at most `policy.attempts` times, waiting a backoff delay
 * between attempts. Stops at once when `signal` aborts; gives up (with the last error) when
 * the next attempt would start after `deadline` (epoch ms).
 */
export async function runAttempts<T>({
  policy,
  signal,
  deadline,
  attempt,
  onFailure,
}: {
  policy: RetryPolicy;
  signal: AbortSignal;
  deadline: number | undefined;
  attempt: (n: number) => Promise<T>;
  onFailure: (f: FailedAttempt) => void;
}): Promise<T> {
  let backoff: IBackoff<unknown> | undefined;
  const factory = new ExponentialBackoff({
    initialDelay: policy.initial,
    maxDelay: policy.max,
    exponent: policy.factor,
  });
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (signal.aborted || n >= policy.attempts) {
        if (!signal.aborted) onFailure({ attempt: n, error, delay: undefined });
        throw error;
      }
      if (policy.when && !policy.when(error)) {
        onFailure({ attempt: n, error, delay: undefined, gaveUp: "not an error to retry" });
        throw error;
      }
      backoff = backoff ? backoff.next(undefined) : factory.next();
      const delay = Math.round(backoff.duration);
      if (deadline !== undefined && Date.now() + delay >= deadline) {
        onFailure({
          attempt: n,
          error,
          delay: undefined,
          gaveUp: `the next attempt would start after the run's timeout`,
        });
        throw error;
      }
      onFailure({ attempt: n, error, delay });
      await sleep(delay, signal);
      if (signal.aborted) throw signal.reason ?? error;
    }
  }
}

/** Wait `ms`, or less when `signal` aborts (resolves either way). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
