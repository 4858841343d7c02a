/**
 * aiorch/dsl: the typed fluent scenario builder. See docs/dsl.md.
 * @packageDocumentation
 */
export {
  ScenarioBuilder,
  type BuildCallOptions,
  type ParamInput,
  type ScenarioPart,
} from "./builder.ts";
export { dynamicScenario, DynamicScenario, type DynamicJobOptions } from "./dynamic.ts";
export { scenario, type ScenarioOptions } from "./scenario.ts";
export type { FromParams } from "./ssh.ts";
export type { BuilderRunOptions } from "./core.ts";
export type {
  AtMostOnceOption,
  BodyContext,
  DeclareOptions,
  EachOptions,
  ForeverOutcome,
  IncludeOptions,
  JobDeclareOptions,
  NestedOptions,
  Outcome,
  ParamDescriptor,
  ParamSpec,
  ParamType,
  ParamValue,
  ParamsOf,
  ScenarioResults,
  SshEachOptions,
} from "./types.ts";
