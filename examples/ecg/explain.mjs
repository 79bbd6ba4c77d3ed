// Explains the bundled ECG example with the saliency CLI (npm run example):
// the anterior ST-elevation record, class 1, VarGrad × sign, drawn as the
// series plot over the signal, as PNG and as SVG (with lead names).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const common = [
  'packages/cli/dist/bin.js',
  '--model',
  'examples/ecg/model/ecg.onnx',
  '--input',
  'examples/ecg/records/anterior-ste.npy',
  '--target',
  '1',
  '--method',
  'vargrad_x_sign',
  '--samples',
  '16',
  '--noise-level',
  '0.1',
  '--seed',
  '0',
  '--channel-names',
  'I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6',
];
for (const out of ['out/ecg-vargrad_x_sign.png', 'out/ecg-vargrad_x_sign.svg']) {
  const { status } = spawnSync(process.execPath, [...common, '--overlay', out], { cwd: root, stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}
console.log(
  'ECG example: a synthetic 12-lead record with anterior ST elevation (class 1 of normal, anterior-ste, inferior-ste).\n' +
    'In out/ecg-vargrad_x_sign.png (leads I, II, III, aVR, aVL, aVF, V1–V6, top to bottom) the\n' +
    'attribution should sit on the ST segments of V1–V4, where the elevation is; see examples/ecg/README.md.',
);
