import { loadFixture } from '../src/suite/fixture.js';
import { runDeviceNoiseCells, type DeviceNoisePage } from '../src/suite/device-noise-cells.js';
import { fixtureFilesOverHttp } from './fixture-files.js';

(window as unknown as DeviceNoisePage).runDeviceNoise = async (runtime, fixtureNames) => {
  const tf = await import('@tensorflow/tfjs');
  if (runtime === 'tfjs-webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  const fixtures = await Promise.all(fixtureNames.map((name) => loadFixture(name, fixtureFilesOverHttp)));
  return runDeviceNoiseCells(tf, runtime, fixtures);
};
