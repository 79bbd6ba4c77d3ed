import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FeedTensor } from '@saliency/core';

/** Where @ricky0123/vad-web keeps the Silero VAD files it ships. */
export const VAD_DIST = join(dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-web/package.json')), 'dist');

export interface SileroModel {
  readonly file: string;
  /** The state inputs and their last dimension: [2, B, size]. */
  readonly state: ReadonlyArray<readonly [string, number]>;
  /** Samples per call at each rate: v5 and v6 take the frame after 64 (16 kHz) or 32 (8 kHz) samples of context, as silero's own wrapper feeds them. */
  readonly samples: Readonly<Record<number, number>>;
}

export const MODELS: readonly SileroModel[] = [
  {
    file: 'silero_vad_legacy.onnx',
    state: [
      ['h', 64],
      ['c', 64],
    ],
    samples: { 16000: 512, 8000: 256 },
  },
  { file: 'silero_vad_v5.onnx', state: [['state', 128]], samples: { 16000: 576, 8000: 288 } },
  { file: 'silero_vad_v6.onnx', state: [['state', 128]], samples: { 16000: 576, 8000: 288 } },
];

/** A small seeded generator (mulberry32) and its Gaussian, for the frame's noise, the state and the directions. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A voiced frame: harmonics of 125 Hz, the fifth and sixth stronger (a vowel's formant), with seeded noise. */
export function voicedFrame(samples: number, rate: number): Float32Array {
  const gauss = seeded(7);
  return Float32Array.from({ length: samples }, (_, i) => {
    let v = 0;
    for (let k = 1; k <= 8; k++) v += (k === 5 || k === 6 ? 0.2 : 0.08) * Math.sin((2 * Math.PI * 125 * k * i) / rate + k);
    return v + 0.05 * gauss();
  });
}

/**
 * The scalar sample rate and the recurrent state of batch 1 as the backend's
 * feeds: zeros, a stream's first frame (as vad-web resets it), or seeded.
 */
export function feedsOf(model: SileroModel, rate: number, state: 'zeros' | 'seeded' = 'zeros'): Record<string, FeedTensor> {
  const gauss = seeded(3);
  const feeds: Record<string, FeedTensor> = { sr: { data: new BigInt64Array([BigInt(rate)]), shape: [] } };
  for (const [name, size] of model.state) {
    feeds[name] = { data: Float32Array.from({ length: 2 * size }, () => (state === 'zeros' ? 0 : 0.1 * gauss())), shape: [2, 1, size] };
  }
  return feeds;
}
