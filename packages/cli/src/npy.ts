import { AttributionError, encodeNpy, parseNpy, parseNpyTensor, type NpyArray, type NpyTensor } from '@saliency/core';
import { CliError } from './errors.js';

export type { NpyArray, NpyTensor };

/** A core `.npy` reader, its refusals as `CliError`s (exit code 2). */
function asCliError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof AttributionError) throw new CliError(error.message);
    throw error;
  }
}

/** `parseNpy` from core (floats, as float32), its refusals as `CliError`s (exit code 2). */
export function readNpy(bytes: Uint8Array, name = 'the .npy file'): NpyArray {
  return asCliError(() => parseNpy(bytes, name));
}

/** `parseNpyTensor` from core (floats, integers and booleans as stored), its refusals as `CliError`s (exit code 2). */
export function readNpyTensor(bytes: Uint8Array, name = 'the .npy file'): NpyTensor {
  return asCliError(() => parseNpyTensor(bytes, name));
}

/** Writes a float32 array as a `.npy` file (core's `encodeNpy`). */
export const writeNpy = encodeNpy;
