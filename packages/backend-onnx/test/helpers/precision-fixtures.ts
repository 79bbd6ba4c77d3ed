import { readFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import type { OnnxRuntimeModule } from '../../src/index.js';

/**
 * The float16 and int8 fixtures of `fixtures/precision/` (made by
 * scripts/make-precision-fixtures.py): the model files and their float64
 * PyTorch reference, shared by the float16 and the quantized-model tests.
 */
export interface PrecisionReference {
  models: string[];
  inputShape: number[];
  input: number[];
  targets: number[];
  logits: number[];
  gradient: number[];
}

export const PRECISION_FIXTURES = new URL('../fixtures/precision/', import.meta.url);

export function readPrecisionReference(name: string): PrecisionReference {
  return JSON.parse(readFileSync(new URL(name, PRECISION_FIXTURES), 'utf8')) as PrecisionReference;
}

/** The runtimes each fixture runs on, with their session options. */
export const PRECISION_RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];
