import { AttributionError, encodeNpy, parseNpy, type NpyArray } from '@saliency/core';
import { CliError } from './errors.js';

export type { NpyArray };

/** `parseNpy` from core, its refusals as `CliError`s (exit code 2). */
export function readNpy(bytes: Uint8Array, name = 'the .npy file'): NpyArray {
  try {
    return parseNpy(bytes, name);
  } catch (error) {
    if (error instanceof AttributionError) throw new CliError(error.message);
    throw error;
  }
}

/** Writes a float32 array as a `.npy` file (core's `encodeNpy`). */
export const writeNpy = encodeNpy;
