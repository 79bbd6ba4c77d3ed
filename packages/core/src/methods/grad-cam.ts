import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';
import { resizeLinear } from './linear-resize.js';
import type { LayerRule, MethodRule } from './rule.js';

/**
 * Grad-CAM (Selvaraju et al. 2017), docs/methods.md "Grad-CAM": for the
 * layer's activation A of shape [C, ...positions] and the gradient G of the
 * target logit with respect to it,
 *
 *   w_c = mean over positions of G_c,   cam = ReLU(Σ_c w_c A_c),
 *
 * then resized linearly (bilinear for images) with half-pixel centres to the
 * input's positions (`linear-resize.ts`). The map has shape
 * [B, 1, ...input positions]: one channel, the input's rank. Not scaled
 * to [0, 1]; the visualisation normalises. `weigh` gives w_c from the
 * channel's activation and gradient (Grad-CAM++ weighs otherwise).
 */
export function gradCamMaps(
  activation: HostTensor,
  gradient: HostTensor,
  inputShape: readonly number[],
  positionAxes: number,
  method: string,
  weigh: ChannelWeight = meanGradient,
): HostTensor {
  const [rows, channels, ...positions] = activation.shape as [number, number, ...number[]];
  const inputPositions = inputShape.slice(2);
  if (positions.length !== positionAxes || inputPositions.length !== positionAxes) {
    const wants = positionAxes === 2 ? '4-D [B, C, H, W] (images)' : '3-D [B, C, T] (time series)';
    const other = positionAxes === 2 ? 'grad_cam_timeseries' : 'grad_cam';
    throw new AttributionError(
      'INVALID_SHAPE',
      `${method} takes a ${wants} input and layer; the input has shape ${formatShape(inputShape)} and the layer ` +
        `${formatShape(activation.shape)} (channels first; for the other kind use ${other})`,
    );
  }
  const area = sizeOf(positions);
  const outArea = sizeOf(inputPositions);
  const out = new Float32Array(rows * outArea);
  const cam = new Float64Array(area);
  for (let r = 0; r < rows; r++) {
    cam.fill(0);
    for (let c = 0; c < channels; c++) {
      const offset = (r * channels + c) * area;
      const weight = weigh(activation.data, gradient.data, offset, area);
      for (let p = 0; p < area; p++) cam[p] = cam[p]! + weight * activation.data[offset + p]!;
    }
    for (let p = 0; p < area; p++) cam[p] = Math.max(cam[p]!, 0);
    out.set(resizeLinear(cam, positions, inputPositions), r * outArea);
  }
  return { data: out, shape: [rows, 1, ...inputPositions] };
}

/** w_c from channel c's activation and gradient, the `area` values from `offset`. */
export type ChannelWeight = (activation: Float32Array, gradient: Float32Array, offset: number, area: number) => number;

/** Grad-CAM's weight: the mean gradient over the channel's positions. */
const meanGradient: ChannelWeight = (_activation, gradient, offset, area) => {
  let sum = 0;
  for (let p = 0; p < area; p++) sum += gradient[offset + p]!;
  return sum / area;
};

/**
 * Grad-CAM++'s weight (Chattopadhay et al. 2018, the closed form for an
 * exponentiated score, as pytorch-grad-cam computes it), docs/methods.md
 * "Grad-CAM": with S = Σ_p A_p,
 *   α_p = G_p² / (2·G_p² + S·G_p³ + 1e-6), 0 where G_p = 0,
 *   w_c = Σ_p α_p · max(G_p, 0).
 */
const plusPlusWeight: ChannelWeight = (activation, gradient, offset, area) => {
  let sumActivation = 0;
  for (let p = 0; p < area; p++) sumActivation += activation[offset + p]!;
  let weight = 0;
  for (let p = 0; p < area; p++) {
    const g = gradient[offset + p]!;
    if (g <= 0) continue;
    const g2 = g * g;
    weight += (g2 / (2 * g2 + sumActivation * g2 * g + 1e-6)) * g;
  }
  return weight;
};

function gradCamRule(name: string, positionAxes: number, weigh: ChannelWeight = meanGradient): MethodRule {
  const layer: LayerRule = {
    positionAxes,
    map: (activation, gradient, inputShape) => gradCamMaps(activation, gradient, inputShape, positionAxes, name, weigh),
  };
  return { name, rows: 'input', takesModifiers: false, signed: false, layer, reduce: ({ mean }) => mean };
}

/** Grad-CAM of images: 4-D layers [B, C, H, W], bilinear to the input's H × W. */
export const gradCam = gradCamRule('grad_cam', 2);

/** Grad-CAM of time series (SignXAI's `grad_cam_timeseries`): 3-D layers [B, C, T], linear along time to the input's T. */
export const gradCamTimeseries = gradCamRule('grad_cam_timeseries', 1);

/** Grad-CAM++ of images: Grad-CAM with `plusPlusWeight`'s channel weights. */
export const gradCamPlusPlus = gradCamRule('grad_cam_plus_plus', 2, plusPlusWeight);
