import type { Tensor } from 'onnxruntime-common';
import { feedRows, feedShape, type ResolvedFeed } from '../model/feeds.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

/** The feeds of a run, each row its example's row (`examples`, one per row of the run, from `rowExamples`). */
export function feedTensors(ort: OnnxRuntimeModule, feeds: readonly ResolvedFeed[], examples: Int32Array): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const feed of feeds) out[feed.name] = new ort.Tensor(feed.type, feedRows(feed, examples), feedShape(feed, examples.length));
  return out;
}
