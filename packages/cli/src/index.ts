export { run, suggestFlags, type RunOptions, type RunIO, type RunResult } from './run.js';
export { parseCommandLine, USAGE } from './args.js';
export { CliError } from './errors.js';
export { readNpy, writeNpy, type NpyArray } from './npy.js';
export { decodeImage, encodePng } from './image-io.js';
export { resizeBilinear, imageToTensor, type Preprocess, type Layout, type ChannelOrder } from './preprocess.js';
export { parsePreset, resolvePreprocess, describePreprocess, type PreprocessFlags, type ModelFormat } from './preset.js';
export { loadModel, modelFormatOf, defaultBackend, BACKEND_KINDS, type BackendKind, type LoadedModel } from './load-model.js';
export { createProgressBar, formatProgressLine, formatDuration, type ProgressStream } from './progress.js';
