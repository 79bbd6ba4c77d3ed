import { AttributionError } from '@saliency/core';
import type * as tf from '@tensorflow/tfjs-core';

/** Bytes per stored element: of the dtype, or of the quantized dtype when the weight is quantized. */
const BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

function invalid(message: string): never {
  throw new AttributionError('INVALID_MODEL', message);
}

/**
 * One weight of a manifest, checked: its name and the bytes it takes in the
 * weight files — exactly, or for strings at least (a 4-byte length before each).
 */
interface CheckedWeight {
  readonly name: string;
  readonly bytes: number;
  readonly exact: boolean;
  readonly description: string;
}

/**
 * Checks a TF.js weights manifest before any weight file is read: a list of
 * groups, each with string paths and weights whose shapes are lists of
 * integers ≥ 0 with a safe element count and whose dtype is known. Returns
 * the bytes each weight takes, for `checkWeightBytes`.
 */
export function checkWeightsManifest(manifest: unknown): CheckedWeight[] {
  if (!Array.isArray(manifest)) invalid('model.json: weightsManifest must be a list of groups { paths, weights }');
  const checked: CheckedWeight[] = [];
  manifest.forEach((group: unknown, g) => {
    const { paths, weights } = (group ?? {}) as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string'))
      invalid(`model.json: weightsManifest[${g}].paths must be a list of file names`);
    if (!Array.isArray(weights)) invalid(`model.json: weightsManifest[${g}].weights must be a list of weights`);
    for (const weight of weights as tf.io.WeightsManifestEntry[]) {
      const name = typeof weight?.name === 'string' ? weight.name : '?';
      const shape = weight?.shape as unknown;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        invalid(`model.json: weight "${name}" has shape ${JSON.stringify(shape)}; a shape is a list of integers ≥ 0`);
      }
      const count = (shape as number[]).reduce((n, d) => n * d, 1);
      if (!Number.isSafeInteger(count))
        invalid(`model.json: weight "${name}" has shape [${shape.join(', ')}], whose element count is past 2^53`);
      const stored = weight.quantization?.dtype ?? weight.dtype;
      if (weight.dtype === 'string') {
        checked.push({ name, bytes: count * 4, exact: false, description: `string [${shape.join(', ')}]` });
        continue;
      }
      const size = BYTES[stored as string];
      if (size === undefined)
        invalid(`model.json: weight "${name}" has dtype ${JSON.stringify(stored)}; known are ${Object.keys(BYTES).join(', ')}, string`);
      checked.push({ name, bytes: count * size, exact: true, description: `${stored} [${shape.join(', ')}]` });
    }
  });
  return checked;
}

/**
 * Checks that the weight files hold exactly the bytes the manifest's
 * weights take (at least, with strings), in order, before TF.js reads a
 * weight from them: a weight past the end of the data is named with both
 * sizes, as are bytes left over.
 */
export function checkWeightBytes(weights: readonly CheckedWeight[], present: number): void {
  let end = 0;
  let exact = true;
  for (const weight of weights) {
    end += weight.bytes;
    exact &&= weight.exact;
    if (end > present) {
      const atLeast = exact ? '' : 'at least ';
      invalid(
        `weight "${weight.name}" (${weight.description}, ${weight.exact ? '' : 'at least '}${weight.bytes.toLocaleString('en-US')} bytes) ends at byte ` +
          `${atLeast}${end.toLocaleString('en-US')}, but the weight files hold ${present.toLocaleString('en-US')} bytes`,
      );
    }
  }
  // Strings carry their own lengths, which TF.js reads within the bytes checked here.
  if (exact && end !== present) {
    invalid(
      `the weights of model.json take ${end.toLocaleString('en-US')} bytes, but the weight files hold ${present.toLocaleString('en-US')} bytes`,
    );
  }
}
