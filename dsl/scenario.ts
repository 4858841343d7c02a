import { ScenarioBuilder } from "./builder.ts";
import type { LiteralFlag, ParamSpec, ParamsOf } from "./types.ts";

/** Options of {@link scenario}. */
export interface ScenarioOptions<S extends ParamSpec, D extends boolean> {
  /**
   * Bound on the whole run in ms: on expiry running jobs are aborted and the run is false.
   * @default undefined (no limit)
   * @example { timeout: 60_000 }
   */
  timeout?: number;
  /** Most jobs running at once (0: no limit). @default undefined (no limit) */
  window?: number;
  /**
   * Default criticality of its jobs, and its own when included in another scenario.
   * `false` gives the seed notebook's behaviour: failures are recorded, the run goes on.
   * @default true
   */
  critical?: LiteralFlag<D, "critical">;
  /** Bound, in ms, on the shutdown of its jobs at the end of a run. @default 1000 */
  shutdownTimeout?: number;
  /**
   * Parameters with their defaults; `aiorch run FILE --param hosts=a,b` overrides them,
   * coerced to the default's type. Bodies read them typed as `params`.
   * @default {}
   * @example { params: { hosts: "127.0.0.1", rounds: 3, dryRun: false } }
   */
  params?: S;
  /**
   * Secret values (like CI masks): replaced by `***` in captured output, output lines,
   * messages, traces and reports. `undefined` entries are ignored.
   * @default []
   * @example { secrets: [process.env.API_TOKEN, process.env.DB_PASSWORD] }
   */
  secrets?: readonly (string | undefined)[];
}

/**
 * Start a typed scenario. Each method returns a new builder whose type knows the labels
 * declared so far: `after` accepts only those, a label cannot be declared twice, and
 * `results.x` is typed from job `x`'s return type.
 *
 * @example
 * ```ts
 * import { scenario } from "aiorch/dsl";
 * export default scenario("deploy", { timeout: 60_000 })
 *   .job("fetch", async () => 42)
 *   .job("use", async ({ results }) => results.fetch + 1, { after: ["fetch"] })
 *   .after("fetch", "use")
 *   .job("report", async ({ results }) => `${results.fetch} -> ${results.use}`);
 * ```
 */
export function scenario<const S extends ParamSpec = {}, D extends boolean = true>(
  name: string,
  opts: ScenarioOptions<S, D> = {},
): ScenarioBuilder<never, never, ParamsOf<S>, D> {
  const { params, critical, ...rest } = opts;
  return new ScenarioBuilder({
    name,
    options: {
      ...rest,
      ...(critical === undefined ? {} : { critical: critical as boolean }),
      ...(params === undefined ? {} : { params }),
    },
    entries: undefined,
  });
}
