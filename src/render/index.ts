/**
 * aiorch/view: the views of a run. The live terminal view and the plain log attached to a
 * scheduler, the pure live-view state and frame, the timeline model and the self-contained
 * HTML report. Reference: docs/view.md.
 * @packageDocumentation
 */
export {
  attachView,
  chooseViewMode,
  colorEnabled,
  type AttachedView,
  type AttachViewOptions,
  type ViewMode,
  type ViewStream,
} from "../cli/view.ts";
export {
  createLiveState,
  frame,
  reduceLiveState,
  type FrameOptions,
  type LiveCounts,
  type LiveJob,
  type LiveState,
} from "./live.ts";
export { plainLine, type PlainLineOptions } from "./plain.ts";
export { renderReport } from "./report.ts";
export {
  buildTimeline,
  findCriticalPath,
  type TimelineJob,
  type TimelineModel,
  type TimelineOutcome,
} from "./timeline.ts";
export { timelineFromTrace } from "./from-trace.ts";
