import { METHOD_NAMES, explain, runtimeLibrary } from '@saliency/core';
import { DIGITS, EXAMPLE_URL } from 'virtual:example-mnist';
import { imageToTensor, parsePreset, resolvePreprocess } from '@saliency/core/preprocess';
import type { RgbaImage } from '@saliency/core/visualize';
import { heatmap } from './heatmap.js';
import { loadImage } from './image-input.js';
import { RUNTIMES, loadModel, type ModelSource, type Runtime } from './runtimes.js';
import { explainSeries, installSeriesInput, SERIES } from './series-view.js';

const UPLOAD = 'upload';
const ONNX_URL = `${EXAMPLE_URL}model/mnist.onnx`;
const TFJS_URL = `${EXAMPLE_URL}model/tfjs/model.json`;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found as T;
}

const form = element<HTMLFormElement>('form');
const modelSelect = element<HTMLSelectElement>('model');
const modelFile = element<HTMLInputElement>('model-file');
const imageSelect = element<HTMLSelectElement>('image');
const imageFile = element<HTMLInputElement>('image-file');
const methodSelect = element<HTMLSelectElement>('method');
const runtimeSelect = element<HTMLSelectElement>('runtime');
const numSamplesInput = element<HTMLInputElement>('num-samples');
const stepsInput = element<HTMLInputElement>('steps');
const presetText = element<HTMLTextAreaElement>('preset');
const explainButton = element<HTMLButtonElement>('explain');
const status = element<HTMLParagraphElement>('status');

function addOptions(select: HTMLSelectElement, options: readonly (readonly [string, string])[]): void {
  for (const [value, label] of options) select.add(new Option(label, value));
}

function showStatus(state: 'ready' | 'running' | 'done' | 'error', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function draw(canvasId: string, image: RgbaImage | ImageData): void {
  const canvas = element<HTMLCanvasElement>(canvasId);
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser gives no 2D canvas');
  context.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
}

/** TF.js backends need the bundled TF.js model: an uploaded ONNX file runs on ONNX Runtime only. */
function syncRuntimes(): void {
  const uploaded = modelSelect.value === UPLOAD;
  for (const option of runtimeSelect.options) option.disabled = uploaded && option.value.startsWith('tfjs-');
  if (runtimeSelect.selectedOptions[0]?.disabled) runtimeSelect.value = 'onnx-wasm' satisfies Runtime;
}

let bundledOnnx: Promise<Uint8Array> | undefined;
async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function modelSource(runtime: Runtime): Promise<ModelSource> {
  if (modelSelect.value === UPLOAD) {
    const file = modelFile.files?.[0];
    if (!file) throw new Error('choose an ONNX file to upload');
    return { kind: 'onnx', bytes: new Uint8Array(await file.arrayBuffer()) };
  }
  if (runtime.startsWith('tfjs-')) return { kind: 'tfjs', url: TFJS_URL };
  bundledOnnx ??= fetchBytes(ONNX_URL);
  return { kind: 'onnx', bytes: await bundledOnnx };
}

function imageSource(): string | Blob {
  if (imageSelect.value !== UPLOAD) return `${EXAMPLE_URL}${imageSelect.value}`;
  const file = imageFile.files?.[0];
  if (!file) throw new Error('choose an image to upload');
  return file;
}

function positiveInteger(input: HTMLInputElement, name: string): number {
  const value = Number(input.value);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${input.value}"`);
  return value;
}

async function run(): Promise<void> {
  const runtime = runtimeSelect.value as Runtime;
  const method = methodSelect.value;
  let presetJson: unknown;
  try {
    presetJson = JSON.parse(presetText.value);
  } catch (error) {
    throw new Error(`preprocessing preset: not JSON (${(error as Error).message})`);
  }
  const library = runtimeLibrary(runtime);
  const settings = parsePreset(presetJson, library, 'preprocessing preset');
  const options = { numSamples: positiveInteger(numSamplesInput, 'Samples'), steps: positiveInteger(stepsInput, 'Steps') };
  if (imageSelect.value === SERIES) {
    return explainSeries({ method, options, load: async () => loadModel(await modelSource(runtime), runtime), status: showStatus });
  }

  const image = await loadImage(imageSource());
  const preprocess = resolvePreprocess(settings, image, library);
  const { tensor: x, resized } = imageToTensor(image, preprocess);
  draw('input-canvas', resized);
  const loadStart = performance.now();
  const model = await loadModel(await modelSource(runtime), runtime);
  const loadMs = performance.now() - loadStart;
  try {
    const start = performance.now();
    const logits = await model.backend.logits(x);
    const predicted = logits.data.indexOf(Math.max(...logits.data));
    const map = await explain(model.backend, method, x, { ...options, target: predicted });
    const ms = performance.now() - start;
    draw('heatmap-canvas', heatmap(map, preprocess.layout));
    element('heatmap-caption').textContent = `${method} of class ${predicted}`;
    showStatus(
      'done',
      `predicted ${predicted} · ${method} on ${RUNTIMES[runtime]} (${model.backend.name}) in ${ms.toFixed(0)} ms · model loaded in ${loadMs.toFixed(0)} ms`,
    );
  } finally {
    await model.dispose();
  }
}

addOptions(imageSelect, [...DIGITS.map((d) => [d, d.replace(/^digits\//, '')] as const), [UPLOAD, 'Upload an image…']]);
installSeriesInput(imageSelect);
addOptions(methodSelect, METHOD_NAMES.map((name) => [name, name] as const));
methodSelect.value = 'vargrad';
addOptions(runtimeSelect, Object.entries(RUNTIMES));
modelSelect.addEventListener('change', () => {
  modelFile.hidden = modelSelect.value !== UPLOAD;
  syncRuntimes();
});
imageSelect.addEventListener('change', () => {
  imageFile.hidden = imageSelect.value !== UPLOAD;
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  explainButton.disabled = true;
  showStatus('running', 'explaining…');
  run()
    .catch((error: unknown) => {
      console.error(error);
      showStatus('error', error instanceof Error ? error.message : String(error));
    })
    .finally(() => {
      explainButton.disabled = false;
    });
});

fetch(`${EXAMPLE_URL}preprocess.json`)
  .then(async (response) => {
    if (!response.ok) throw new Error(`${EXAMPLE_URL}preprocess.json: HTTP ${response.status}`);
    presetText.value = JSON.stringify(await response.json(), null, 2);
    showStatus('ready', 'ready');
  })
  .catch((error: unknown) => showStatus('error', `the bundled example is missing: ${(error as Error).message}`));
