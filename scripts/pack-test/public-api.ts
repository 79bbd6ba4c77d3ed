// Compiles only if the packed packages' `exports` and `types` resolve and
// declare the public API the READMEs show (`tsc --noEmit`, NodeNext, strict).
import type * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import {
  AttributionError,
  METHOD_NAMES,
  VarGrad,
  explain,
  hostTensor,
  type AttributionOptions,
  type GradientBackend,
  type HostTensor,
} from '@saliency/core';
import { referenceAttribution } from '@saliency/core/reference';
import { aggregateChannels, renderHeatmap, type RgbaImage } from '@saliency/core/visualize';
import { createOnnxBackend, supportedOps } from '@saliency/backend-onnx';
import { createTfjsBackend } from '@saliency/backend-tfjs';
import { run, USAGE } from '@saliency/cli';

export async function usage(bytes: Uint8Array, model: tf.LayersModel, pixels: Float32Array): Promise<RgbaImage> {
  const onnx: GradientBackend = createOnnxBackend(ort, bytes, { softmax: 'strip' });
  const tfjs: GradientBackend = createTfjsBackend(model);
  const x: HostTensor = hostTensor(pixels, [1, 1, 28, 28]);
  const options: AttributionOptions = { numSamples: 16, noiseScale: 1, seed: 0 };
  const map = await new VarGrad(onnx, options).attribute(x, { target: 3 });
  await explain(tfjs, METHOD_NAMES[0] ?? 'vargrad', hostTensor(pixels, [1, 28, 28, 1]));
  const scalar = aggregateChannels(map.data, map.shape, 'CHW', 'sum');
  return renderHeatmap(scalar, { colormap: 'sequential' });
}

export const facts: readonly unknown[] = [AttributionError, referenceAttribution, supportedOps(), run, USAGE];
