import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { AttributionError } from '@saliency/core';
import { feedFlags, integer, number, oneOf, positive } from './args.js';
import { readFeeds } from './attributed-input.js';
import { CliError, cliErrorOf } from './errors.js';
import { chooseInputs, feedTensors, type ReadFeed } from './model-inputs.js';
import { describeModelFile } from './onnx-model-flags.js';
import { outputPositionFlag } from './output-position-flag.js';
import { readUserFile } from './user-file.js';

export const EXPORT_USAGE = `Usage: saliency export MODEL --method NAME --out FILE [options]

Writes the attribution method on an ONNX model as one standalone ONNX model
that any ONNX Runtime runs (Python, C++, C#, Java, JavaScript): it takes the
input (and, for SmoothGrad and VarGrad, the noise) and returns the map, the
logits and the explained class. Every built-in method exports: the gradient
family, Integrated Gradients, Guided Backprop, DeconvNet, Grad-CAM (++,
timeseries) and LRP. See @saliency/backend-onnx's README.

  MODEL                  the .onnx model
  --out PATH             the exported .onnx file
  --method NAME          e.g. vargrad (default), smoothgrad_x_input, integrated_gradients_x_sign_mu_neg_0_5,
                         grad_cam, lrp_epsilon_0_1, lrpsign_z
  --layer NAME           grad_cam, grad_cam_plus_plus, grad_cam_timeseries: the tensor whose activation is
                         explained (default: the last feature map before global pooling or flattening)
  --input-shape DIMS     the input shape, batch first, e.g. 1,3,224,224 (default: the model's, batch 1)
  --num-samples N        noisy samples per example (default 16); --samples N also works
  --noise SOURCE         input (default): an input saliency/noise of shape [B, N, ...], added as it is;
                         in-graph: σ · RandomNormal(seed) inside the graph (not core's noise generator)
  --noise-scale S        σ of in-graph noise (default 1)
  --noise-level L        σ of in-graph noise relative to each example's range, instead of --noise-scale
  --seed N               seed of in-graph noise (default 0)
  --unbiased             VarGrad divides by N − 1
  --steps N              Integrated Gradients steps (default 50)
  --baseline B           Integrated Gradients baseline, one number (default 0)
  --mu M                 threshold of the _x_sign methods (default 0, or the name's _mu_)
  --target SOURCE        argmax (default): the clean input's top class; input: an int64 input saliency/target [B]
  --input-name NAME      which model input is explained, when it has several
  --feed NAME=FILE.npy   the value of another model input, held fixed in the exported graph (repeatable), as the
                         main command takes it; NAME=NUMBER for a scalar input, e.g. --feed sr=16000, folded into
                         the graph (the If nodes on it decided). An input not fed stays an input of the exported model
  --output-name NAME     which model output holds the logits, when it has several
  --softmax S            strip (default): a final Softmax/LogSoftmax/Sigmoid is left out; keep
  --output-position P    the position of a sequence or dense output explained: one entry per axis
                         after the batch axis, an index, a range a:b (averaged) or : for the class
                         axis, e.g. 3,: for [B, T, K]

  -h, --help             this text
`;

const OPTIONS = {
  out: { type: 'string' },
  method: { type: 'string' },
  'input-shape': { type: 'string' },
  'num-samples': { type: 'string' },
  samples: { type: 'string' },
  noise: { type: 'string' },
  'noise-scale': { type: 'string' },
  'noise-level': { type: 'string' },
  seed: { type: 'string' },
  unbiased: { type: 'boolean' },
  steps: { type: 'string' },
  baseline: { type: 'string' },
  mu: { type: 'string' },
  target: { type: 'string' },
  'input-name': { type: 'string' },
  feed: { type: 'string', multiple: true },
  'output-name': { type: 'string' },
  softmax: { type: 'string' },
  'output-position': { type: 'string' },
  layer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `saliency export MODEL ...`: parses the flags, exports with
 * `exportAttributionModel` and writes the file; says on `stderr` what the
 * exported model takes and returns. Refusals are `CliError`s (exit code 2).
 */
export async function exportCommand(
  args: readonly string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]} (see saliency export --help)`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.stdout.write(EXPORT_USAGE);
    return;
  }
  if (positionals.length !== 1)
    throw new CliError(`saliency export takes one MODEL (an .onnx file); got ${positionals.length} (see saliency export --help)`);
  const modelPath = positionals[0]!;
  if (!modelPath.endsWith('.onnx')) throw new CliError(`MODEL: ${modelPath} is not an .onnx file; only ONNX models are exported`);
  if (v.out === undefined) throw new CliError('--out is required: the .onnx file to write');
  if (v['num-samples'] !== undefined && v.samples !== undefined) {
    throw new CliError('--num-samples and --samples were both given; --samples is another name for --num-samples');
  }
  if (v['noise-scale'] !== undefined && v['noise-level'] !== undefined) {
    throw new CliError('--noise-scale and --noise-level were both given; choose an absolute σ or one relative to the input range');
  }
  if (v.layer !== undefined && v.layer.trim() === '') throw new CliError('--layer needs a tensor name; got ""');
  const feedList = feedFlags(v.feed ?? []);
  const samples = v['num-samples'] ?? v.samples;
  const options = {
    method: v.method ?? 'vargrad',
    ...(v['input-shape'] === undefined ? {} : { inputShape: v['input-shape'].split(',').map((d) => integer('input-shape', d, 1)) }),
    ...(samples === undefined ? {} : { numSamples: integer(v.samples === undefined ? 'num-samples' : 'samples', samples, 1) }),
    ...(v.noise === undefined ? {} : { noiseSource: oneOf('noise', v.noise, ['input', 'in-graph'] as const) }),
    ...(v['noise-scale'] === undefined ? {} : { noiseScale: positive('noise-scale', v['noise-scale']) }),
    ...(v['noise-level'] === undefined ? {} : { noiseLevel: positive('noise-level', v['noise-level']) }),
    ...(v.seed === undefined ? {} : { seed: integer('seed', v.seed, 0) }),
    ...(v.unbiased === undefined ? {} : { unbiased: v.unbiased }),
    ...(v.steps === undefined ? {} : { steps: integer('steps', v.steps, 1) }),
    ...(v.baseline === undefined ? {} : { baseline: number('baseline', v.baseline) }),
    ...(v.mu === undefined ? {} : { mu: number('mu', v.mu) }),
    ...(v.target === undefined ? {} : { targetSource: oneOf('target', v.target, ['argmax', 'input'] as const) }),
    ...(v['input-name'] === undefined ? {} : { inputName: v['input-name'] }),
    ...(v['output-name'] === undefined ? {} : { outputName: v['output-name'] }),
    ...(v.softmax === undefined ? {} : { softmax: oneOf('softmax', v.softmax, ['strip', 'keep'] as const) }),
    ...(v.layer === undefined ? {} : { layer: v.layer }),
    ...(v['output-position'] === undefined ? {} : { outputPosition: outputPositionFlag(v['output-position']) }),
  };
  const bytes = await readUserFile('MODEL', modelPath);
  const model = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Read and converted for their inputs as the main command's --feed; the explained input is the one they leave, or --input-name.
  const fed = feedList.length === 0 ? {} : await feedOptions(modelPath, model, v['input-name'], await readFeeds(feedList));
  const { exportAttributionModel } = await import('@saliency/backend-onnx');
  let exported: ReturnType<typeof exportAttributionModel>;
  try {
    exported = exportAttributionModel(model, { ...options, ...fed });
  } catch (error) {
    if (error instanceof AttributionError) throw cliErrorOf(error, `cannot export: ${error.message}`);
    throw error;
  }
  await mkdir(dirname(v.out), { recursive: true });
  await writeFile(v.out, exported.bytes);
  const describe = (list: typeof exported.inputs) => list.map((t) => `${t.name} ${t.type} [${t.shape.join(', ')}]`).join(', ');
  io.stderr.write(
    `${options.method} of ${exported.description}${exported.layer === undefined ? '' : ` at layer "${exported.layer}"`} ` +
      `written to ${v.out} (${exported.bytes.byteLength} bytes)\n` +
      `  inputs:  ${describe(exported.inputs)}\n  outputs: ${describe(exported.outputs)}\n`,
  );
}

/** The export options `--feed` gives: the values by input, and the input they leave explained. */
async function feedOptions(modelPath: string, model: Uint8Array, inputName: string | undefined, feeds: readonly ReadFeed[]) {
  const { inputs } = await describeModelFile(modelPath, model);
  return { inputName: chooseInputs(inputs, inputName, feeds).name, feeds: feedTensors(feeds, inputs) };
}
