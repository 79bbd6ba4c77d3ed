import { explain, runtimeLibrary } from '@saliency/core';
import { DIGITS, EXAMPLE_URL } from 'virtual:example-mnist';
import { imageToTensor, parsePreset, resolvePreprocess, type Preprocess } from '@saliency/core/preprocess';
import { DIVERGING, overlay, SEQUENTIAL, type RgbaImage } from '@saliency/core/visualize';
import { asModelSees, drawMap, type DrawnMap } from './heatmap.js';
import { DEFAULT_COUNTS, groupedMethods, methodCounts, methodNote } from './method-notes.js';
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
const targetSelect = element<HTMLSelectElement>('target');
const noiseInput = element<HTMLInputElement>('noise');
const noiseKind = element<HTMLSelectElement>('noise-kind');
const opacityInput = element<HTMLInputElement>('opacity');
const legend = element<HTMLElement>('legend');
const classesSection = element<HTMLElement>('classes-section');
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

/** The preprocessing the preset on the page gives for `image` and the chosen runtime. */
function preprocessing(image: RgbaImage, runtime: Runtime) {
  let presetJson: unknown;
  try {
    presetJson = JSON.parse(presetText.value);
  } catch (error) {
    throw new Error(`preprocessing preset: not JSON (${(error as Error).message})`);
  }
  const library = runtimeLibrary(runtime);
  return resolvePreprocess(parsePreset(presetJson, library, 'preprocessing preset'), image, library);
}

/** Draws the chosen image as the model will see it (fitted, and gray for a one-channel model), before any explanation. */
async function showInput(): Promise<{ image: RgbaImage; preprocess: Preprocess; fitted: ReturnType<typeof imageToTensor> }> {
  const image = await loadImage(imageSource());
  const preprocess = preprocessing(image, runtimeSelect.value as Runtime);
  const fitted = imageToTensor(image, preprocess);
  draw('input-canvas', asModelSees(fitted.resized, preprocess.grayscale));
  return { image, preprocess, fitted };
}

/** The last map drawn and the image under it, for the opacity slider. */
let shown: { image: RgbaImage; drawn: DrawnMap } | undefined;

function drawOverlay(): void {
  if (shown) draw('overlay-canvas', overlay(shown.image, shown.drawn.heatmap, Number(opacityInput.value)));
}

/** Forgets the map on the page, so that an error never leaves an old map beside a new input. */
function clearMap(): void {
  shown = undefined;
  for (const id of ['overlay-canvas', 'heatmap-canvas']) {
    const canvas = element<HTMLCanvasElement>(id);
    canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
  }
  element('heatmap-caption').textContent = 'map';
  legend.hidden = true;
  classesSection.hidden = true;
}

function formatLevel(value: number): string {
  return value === 0 ? '0' : value.toPrecision(2);
}

function showLegend(drawn: DrawnMap): void {
  const stops = (drawn.colormap === 'sequential' ? SEQUENTIAL : DIVERGING).stops.map(([r, g, b]) => `rgb(${r} ${g} ${b})`);
  element('colour-bar').style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  element('bar-low').textContent = drawn.colormap === 'sequential' ? '0' : `−${formatLevel(drawn.level)}`;
  element('bar-mid').textContent = drawn.colormap === 'sequential' ? '' : '0';
  element('bar-high').textContent = formatLevel(drawn.level);
  legend.hidden = false;
}

/** Softmax of one row of logits, shifted by its largest value. */
function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The class list (top 5, explained class marked) and the class picker with every class's probability. */
function showClasses(probabilities: readonly number[], explained: number): void {
  const order = probabilities.map((_, k) => k).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  const list = element<HTMLOListElement>('classes');
  list.replaceChildren(
    ...order.slice(0, 5).map((k) => {
      const item = document.createElement('li');
      item.textContent = `class ${k}: ${probabilities[k]!.toFixed(3)}`;
      item.dataset.class = String(k);
      if (k === explained) item.dataset.explained = '';
      return item;
    }),
  );
  classesSection.hidden = false;
  const chosen = targetSelect.value;
  targetSelect.replaceChildren(
    new Option(`the model's top class (${order[0]})`, ''),
    ...probabilities.map((p, k) => new Option(`class ${k} (${p.toFixed(3)})`, String(k))),
  );
  targetSelect.value = chosen !== '' && Number(chosen) < probabilities.length ? chosen : '';
}

/** σ of the noise: absolute (`noiseScale`), or relative to the input's range (`noiseLevel`). */
function noiseOption(): { noiseScale: number } | { noiseLevel: number } {
  const value = Number(noiseInput.value);
  if (noiseInput.value.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new Error(`Noise σ must be a number ≥ 0, got "${noiseInput.value}"`);
  return noiseKind.value === 'level' ? { noiseLevel: value } : { noiseScale: value };
}

async function run(): Promise<void> {
  const runtime = runtimeSelect.value as Runtime;
  const method = methodSelect.value;
  const counts = methodCounts(method);
  const options = {
    ...(counts.samples ? { numSamples: positiveInteger(numSamplesInput, 'Samples') } : {}),
    ...(counts.steps ? { steps: positiveInteger(stepsInput, 'Steps') } : {}),
    ...(counts.samples ? noiseOption() : {}),
  };
  if (imageSelect.value === SERIES) {
    return explainSeries({ method, options, load: async () => loadModel(await modelSource(runtime), runtime), status: showStatus });
  }
  const { image, preprocess, fitted } = await showInput();
  const x = fitted.tensor;
  const loadStart = performance.now();
  const model = await loadModel(await modelSource(runtime), runtime);
  try {
    // Start-up is timed apart: the first forward pass is where the runtimes compile and set up.
    const logits = await model.backend.logits(x);
    const startupMs = performance.now() - loadStart;
    const probabilities = softmax(logits.data.subarray(0, logits.shape.at(-1)));
    const predicted = probabilities.indexOf(Math.max(...probabilities));
    const target = targetSelect.value === '' ? predicted : Number(targetSelect.value);
    const start = performance.now();
    const map = await explain(model.backend, method, x, {
      ...options,
      target,
      onProgress: ({ done, total }) =>
        showStatus('running', `explaining… ${done}/${total} ${counts.samples ? 'samples' : counts.steps ? 'steps' : 'rows'}`),
    });
    const ms = performance.now() - start;
    const drawn = drawMap(map, method, preprocess.layout, fitted.geometry);
    shown = { image, drawn };
    draw('heatmap-canvas', drawn.heatmap);
    drawOverlay();
    showLegend(drawn);
    showClasses(probabilities, target);
    element('heatmap-caption').textContent = `${method} of class ${target}`;
    showStatus(
      'done',
      `predicted ${predicted} · ${method} of class ${target} on ${RUNTIMES[runtime]} (${model.backend.name}) in ${ms.toFixed(0)} ms · start-up ${startupMs.toFixed(0)} ms (model load and first forward pass)`,
    );
  } finally {
    await model.dispose();
  }
}

function syncMethod(): void {
  const counts = methodCounts(methodSelect.value);
  element('num-samples-field').hidden = !counts.samples;
  element('noise-field').hidden = !counts.samples;
  element('steps-field').hidden = !counts.steps;
  element('method-note').textContent = methodNote(methodSelect.value);
}

function explainNow(): void {
  explainButton.disabled = true;
  showStatus('running', 'explaining…');
  run()
    .catch((error: unknown) => {
      console.error(error);
      clearMap();
      showStatus('error', error instanceof Error ? error.message : String(error));
    })
    .finally(() => {
      explainButton.disabled = false;
    });
}

addOptions(imageSelect, [...DIGITS.map((d) => [d, d.replace(/^digits\//, '')] as const), [UPLOAD, 'Upload an image…']]);
installSeriesInput(imageSelect);
for (const { group, methods } of groupedMethods()) {
  const optgroup = document.createElement('optgroup');
  optgroup.label = group;
  for (const name of methods) optgroup.append(new Option(name, name));
  methodSelect.append(optgroup);
}
methodSelect.value = 'vargrad';
addOptions(runtimeSelect, Object.entries(RUNTIMES));
modelSelect.addEventListener('change', () => {
  modelFile.hidden = modelSelect.value !== UPLOAD;
  syncRuntimes();
});
/** The new image as the model will see it, the old map gone. */
function previewInput(): void {
  clearMap();
  showInput().catch((error: unknown) => showStatus('error', error instanceof Error ? error.message : String(error)));
}
imageSelect.addEventListener('change', () => {
  imageFile.hidden = imageSelect.value !== UPLOAD;
  if (imageSelect.value !== UPLOAD && imageSelect.value !== SERIES) previewInput();
});
imageFile.addEventListener('change', previewInput);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  explainNow();
});
opacityInput.addEventListener('input', drawOverlay);
methodSelect.addEventListener('change', syncMethod);
targetSelect.addEventListener('change', explainNow);
syncMethod();
numSamplesInput.value = String(DEFAULT_COUNTS.numSamples);
stepsInput.value = String(DEFAULT_COUNTS.steps);
noiseInput.value = String(DEFAULT_COUNTS.noiseScale);

fetch(`${EXAMPLE_URL}preprocess.json`)
  .then(async (response) => {
    if (!response.ok) throw new Error(`${EXAMPLE_URL}preprocess.json: HTTP ${response.status}`);
    presetText.value = JSON.stringify(await response.json(), null, 2);
    // The front page opens with the bundled digit explained.
    explainNow();
  })
  .catch((error: unknown) => showStatus('error', `the bundled example is missing: ${(error as Error).message}`));
