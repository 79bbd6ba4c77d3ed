/**
 * Device classes and the error each may show. `float32-exact` devices (CPU,
 * wasm, native ONNX Runtime) evaluate float32 with IEEE rounding per op, so a
 * map differs from PyTorch's float64 reference only by float32 rounding:
 * 1e-5 of the reference's largest magnitude. GPU devices (WebGL, WebGPU)
 * may use fused multiply–add, reduced-precision transcendental functions and
 * reordered reductions in their shaders: 1e-3.
 */
export type DeviceClass = 'float32-exact' | 'gpu';

export const TOLERANCE: Record<DeviceClass, number> = {
  'float32-exact': 1e-5,
  gpu: 1e-3,
};

export const DEVICE_CLASS_LABEL: Record<DeviceClass, string> = {
  'float32-exact': 'CPU / wasm / native',
  gpu: 'WebGL / WebGPU',
};
