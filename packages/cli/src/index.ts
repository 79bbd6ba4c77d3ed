export { run, suggestFlags, type RunOptions, type RunIO, type RunResult } from './run.js';
export { parseCommandLine, USAGE } from './args.js';
export { CliError } from './errors.js';
export { readNpy, writeNpy, type NpyArray } from './npy.js';
export { decodeImage, encodePng } from './image-io.js';
export { readPreset, describePreprocess, type PreprocessFlags } from './preset.js';
export { loadModel, modelFormatOf, defaultRuntime, CLI_RUNTIME_IDS, type CliRuntimeId, type ModelFormat, type LoadedModel } from './load-model.js';
export { createProgressBar, formatProgressLine, formatDuration, type ProgressStream } from './progress.js';
export { exportCommand, EXPORT_USAGE } from './export.js';
