import { loadFixture } from '../src/suite/fixture.js';
import { runFloat16Cells, type Float16Page } from '../src/suite/float16-cells.js';
import { ORT_WASM } from './browser-columns.js';
import { fixtureFilesOverHttp } from './fixture-files.js';

(window as unknown as Float16Page).runFloat16 = async (fixtureNames) => {
  const fixtures = await Promise.all(fixtureNames.map((name) => loadFixture(name, fixtureFilesOverHttp)));
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.wasmPaths = ORT_WASM;
  return runFloat16Cells(ort, fixtures);
};
