/**
 * Values of shape [B, C, ...positions] (PyTorch's and ONNX's layout)
 * reordered to [B, ...positions, C] (TF.js's), and that shape; a shape of
 * rank below 3 has no channel axis to move.
 */
export function channelsLast(values: readonly number[], shape: readonly number[]): { values: number[]; shape: number[] } {
  if (shape.length < 3) return { values: [...values], shape: [...shape] };
  const [batch, channels] = shape as [number, number];
  const area = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Array<number>(values.length);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < area; p++) out[(b * area + p) * channels + c] = values[(b * channels + c) * area + p]!;
    }
  }
  return { values: out, shape: [batch, ...shape.slice(2), channels] };
}
