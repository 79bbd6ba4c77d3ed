export { run, suggestFlags, type RunOptions, type RunIO, type RunResult } from './run.js';
export { parseCommandLine, USAGE } from './args.js';
export { CliError } from './errors.js';
export { readNpy, readNpyTensor, writeNpy, type NpyArray, type NpyTensor } from './npy.js';
export { choosePlot, seriesPlots, PLOT_KINDS, type PlotKind, type SeriesFlags } from './series-plot.js';
export { decodeImage, encodePng } from './image-io.js';
export { readPreset, describePreprocess, type PreprocessFlags } from './preset.js';
export {
  loadModel,
  modelFormatOf,
  defaultRuntime,
  CLI_RUNTIME_IDS,
  type CliRuntimeId,
  type ModelFormat,
  type LoadedModel,
} from './load-model.js';
export { createProgressBar, formatProgressLine, formatDuration, type ProgressStream } from './progress.js';
export { drawMap, type DrawOptions, type Pictures } from './draw.js';
export { withColourBar, colourBarHeight } from './legend.js';
export { summarizeClasses, softmax, formatRunSummary, type ClassSummary, type ClassScore } from './summary.js';
export { inspectModel, formatListing, type ModelListing } from './inspect.js';
export { EXIT, exitCodeOf } from './exit-codes.js';
export { tokenRelevance, formatTopTokens, type TokenRelevance } from './tokens.js';
export type { FeedFlag } from './model-inputs.js';
export type { ModelFlags } from './onnx-model-flags.js';
export { exportCommand, EXPORT_USAGE } from './export.js';
