import { AttributionError } from '@saliency/core';
import { parsePreset, type Preprocess, type PreprocessSettings } from '@saliency/core/preprocess';
import { CliError } from './errors.js';
import type { ModelFormat } from './load-model.js';
import { readUserFile } from './user-file.js';

/** Preprocessing values given on the command line; each wins over the preset's. */
export type PreprocessFlags = PreprocessSettings;

/** Runs a core preprocessing step, turning its refusal into a usage error (exit code 2) that starts with `prefix`. */
export function asUsageError<T>(prefix: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof AttributionError) throw new CliError(`${prefix}${error.message}`);
    throw error;
  }
}

/**
 * Reads the preset file at `path` (JSON; keys as `parsePreset` of
 * `@saliency/core/preprocess` takes them), for a model of `format`.
 */
export async function readPreset(path: string, format: ModelFormat): Promise<PreprocessFlags> {
  const text = (await readUserFile('--preset', path)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--preset: ${path} is not valid JSON (${(error as Error).message})`);
  }
  return asUsageError('', () => parsePreset(json, format, `--preset ${path}`));
}

/** The preprocessing as the flags that give it, for messages. */
export function describePreprocess(p: Preprocess): string {
  return (
    `--width ${p.width} --height ${p.height}${p.fit === 'stretch' ? '' : ` --fit ${p.fit}`}${p.grayscale ? ' --grayscale' : ''} --scale ${p.scale} ` +
    `--mean ${p.mean.join(',')} --std ${p.std.join(',')} --layout ${p.layout}${p.grayscale ? '' : ` --channel-order ${p.channelOrder}`}`
  );
}
