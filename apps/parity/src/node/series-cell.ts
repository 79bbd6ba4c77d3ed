import { isSignedMethod } from '@saliency/core';
import { renderSeries } from '@saliency/core/visualize';
import type { FixtureInfo } from '../suite/results.js';
import { encodePng } from './png.js';

/** Size of a 1-D cell's plot: readable lanes, small enough for a row of targets. */
const SERIES_WIDTH = 384;
const SERIES_LANE = 28;

/** Whether the fixture's examples are 1-D (series `NCW` or feature vectors `NF`), drawn as series plots. */
export const isOneDimensional = (fixture: FixtureInfo) => fixture.layouts.onnx === 'NCW' || fixture.layouts.onnx === 'NF';

/**
 * Example 0 of a 1-D map of shape `shape` (ONNX layout) drawn with core's
 * series plot, one lane per channel (one lane for a feature vector or a
 * one-channel Grad-CAM map), the input's signal over the map's colour band
 * where the map has the input's channels: sequential for a method whose maps
 * are never negative (VarGrad, Grad-CAM), diverging for a signed one
 * (`isSignedMethod`), clipped at the reference's largest |value| so that
 * every target's plot of one method shares the reference's colour scale. A
 * PNG's bytes.
 */
export function seriesCellPng(
  map: readonly number[],
  shape: readonly number[],
  fixture: FixtureInfo,
  method: string,
  reference: readonly number[],
): Buffer {
  const example = shape.slice(1);
  const size = example.reduce((a, b) => a * b, 1);
  const channels = fixture.layouts.onnx === 'NCW' ? example[0]! : 1;
  const first = reference.slice(0, size);
  const level = first.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const sameAsInput = size === fixture.inputShape.slice(1).reduce((a, b) => a * b, 1);
  const image = renderSeries(
    {
      channels,
      length: size / channels,
      attribution: Float32Array.from(map.slice(0, size)),
      ...(fixture.input === undefined || !sameAsInput ? {} : { signal: Float32Array.from(fixture.input.slice(0, size)) }),
    },
    {
      colormap: isSignedMethod(method) ? 'diverging' : 'sequential',
      ...(level > 0 ? { level } : {}),
      width: SERIES_WIDTH,
      laneHeight: SERIES_LANE,
    },
  );
  return encodePng(image);
}
