import { loadFixture } from '../src/suite/fixture.js';
import {
  onnxDeviceNoiseTarget,
  runDeviceNoiseCells,
  tfjsDeviceNoiseTarget,
  type DeviceNoisePage,
  type DeviceNoiseRuntime,
  type DeviceNoiseTarget,
} from '../src/suite/device-noise-cells.js';
import { ORT_WASM } from './browser-columns.js';
import { fixtureFilesOverHttp } from './fixture-files.js';

async function target(runtime: DeviceNoiseRuntime): Promise<DeviceNoiseTarget> {
  if (runtime === 'onnx-webgpu') {
    const ort = await import('onnxruntime-web/webgpu');
    ort.env.wasm.wasmPaths = ORT_WASM;
    return onnxDeviceNoiseTarget(ort);
  }
  const tf = await import('@tensorflow/tfjs');
  if (runtime === 'tfjs-webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  return tfjsDeviceNoiseTarget(tf, runtime);
}

(window as unknown as DeviceNoisePage).runDeviceNoise = async (runtime, fixtureNames) => {
  const fixtures = await Promise.all(fixtureNames.map((name) => loadFixture(name, fixtureFilesOverHttp)));
  return runDeviceNoiseCells(await target(runtime), fixtures);
};
