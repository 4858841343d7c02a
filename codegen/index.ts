/**
 * aiorch/codegen: scenarios as data. Recorded traces and YAML/JSON scenarios become a
 * {@link ScenarioModel}, emitted as typed `.scenario.ts` code (ts-morph) or built into a
 * runnable Scheduler. Reference: docs/codegen.md.
 * @packageDocumentation
 */
export { buildFromModel } from "./build.ts";
export { type CodeProblem, checkScenarioFiles } from "./check.ts";
export { type CodegenCliOptions, loadModel, runCodegen } from "./cli.ts";
export { loadDataModel, loadDataScenario, parseDataScenario } from "./data.ts";
export { type GenerateOptions, generateScenario } from "./emit/scenario.ts";
export { lit } from "./emit/literals.ts";
export { type TraceToModelOptions, traceToModel } from "./from-trace.ts";
export type {
  ArgModel,
  CommandModel,
  CommandOptionsModel,
  CommandsJobModel,
  FunctionJobModel,
  JobModel,
  JobModelBase,
  LocalNodeModel,
  NodeModel,
  ReplayJobModel,
  ScenarioJobModel,
  ScenarioModel,
  SshNodeModel,
} from "./model.ts";
