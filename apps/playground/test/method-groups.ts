import { expect } from 'vitest';

/** The method list's groups as the page shows them: each optgroup's label and its options' values. */
export interface ShownGroup {
  readonly label: string;
  readonly methods: string[];
}

/**
 * The list must hold the four groups, in order, with the methods of each:
 * the gradient family (VarGrad among them), the modified backward passes
 * (Guided Backprop, DeconvNet, with their modifiers), a few LRP rule sets and
 * the CAMs.
 */
export function expectMethodGroups(groups: readonly ShownGroup[]): void {
  expect(groups.map((g) => g.label)).toEqual([
    'Gradient family',
    'Modified backward pass',
    'Layer-wise relevance propagation (LRP)',
    'Class activation maps (CAM)',
  ]);
  const [gradients, modified, lrp, cams] = groups as [ShownGroup, ShownGroup, ShownGroup, ShownGroup];
  expect(gradients.methods).toEqual(expect.arrayContaining(['gradient', 'vargrad', 'vargrad_x_sign', 'integrated_gradients']));
  expect(gradients.methods.some((m) => m.startsWith('guided_backprop') || m.startsWith('grad_cam'))).toBe(false);
  expect(modified.methods).toEqual(expect.arrayContaining(['guided_backprop', 'guided_backprop_x_sign', 'deconvnet']));
  expect(modified.methods.some((m) => m.startsWith('vargrad') || m.startsWith('grad_cam') || m.startsWith('lrp'))).toBe(false);
  expect(lrp.methods).toEqual(
    expect.arrayContaining(['lrp_epsilon_0_1', 'lrp_alpha_1_beta_0', 'lrpsign_epsilon_0_1', 'lrp_epsilon_plus_flat']),
  );
  expect(lrp.methods.every((m) => m.startsWith('lrp'))).toBe(true);
  expect(cams.methods).toEqual(expect.arrayContaining(['grad_cam', 'grad_cam_timeseries', 'grad_cam_plus_plus']));
  expect(cams.methods.every((m) => m.startsWith('grad_cam'))).toBe(true);
}

/** Pixels (of a `size` × `size` image) within `radius` pixels (Chebyshev) of a true pixel of `mask`. */
function dilate(mask: readonly boolean[], size: number, radius: number): boolean[] {
  return mask.map((_, i) => {
    const [y, x] = [Math.floor(i / size), i % size];
    for (let dy = -radius; dy <= radius; dy++)
      for (let dx = -radius; dx <= radius; dx++) {
        const [v, u] = [y + dy, x + dx];
        if (v >= 0 && v < size && u >= 0 && u < size && mask[v * size + u]) return true;
      }
    return false;
  });
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * A Grad-CAM map of the digit drawn on viridis (its luminance rises with the
 * value) at the image's size: not blank, and hottest on the digit. Grad-CAM
 * is coarse (the model's last feature map is a few pixels a side), so "on the
 * digit" means within 2 pixels of a stroke: the pixels drawn at the top colour
 * (the top 1% after clipping at the 99th percentile) lie there, and the map is
 * brighter there on average than farther away.
 */
export function expectCamOnDigit(heat: readonly number[], digit: readonly number[], distinctColours: number): void {
  const size = Math.round(Math.sqrt(heat.length));
  expect(size * size).toBe(heat.length);
  expect(distinctColours, 'a heatmap, not a blank canvas').toBeGreaterThan(20);
  const near = dilate(
    digit.map((v) => v > 127),
    size,
    2,
  );
  const top = Math.max(...heat);
  const hottest = heat.flatMap((h, i) => (h >= top - 1 ? [near[i]!] : []));
  expect(hottest.length).toBeGreaterThan(0);
  expect(hottest.filter(Boolean).length / hottest.length, 'share of the hottest pixels within 2 px of a stroke').toBeGreaterThan(0.8);
  const onDigit = mean(heat.filter((_, i) => near[i]));
  const away = mean(heat.filter((_, i) => !near[i]));
  expect(onDigit, 'mean brightness near the strokes vs away from them').toBeGreaterThan(1.3 * away);
}
