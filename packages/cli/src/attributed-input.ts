import { AttributionError, hostTensor, isIntegerDtype, type FeedTensor, type HostTensor, type NpyTensor } from '@saliency/core';
import { cliErrorOf, CliError, namesLayer } from './errors.js';
import type { LoadedModel } from './load-model.js';
import { batchShape, elementsFor, type FeedFlag, type ReadFeed } from './model-inputs.js';
import { readNpyTensor } from './npy.js';
import { readUserFile } from './user-file.js';

/** Reads every `--feed` file (before any model work), its element type kept; a number (`sr=16000`) is a scalar, int64 or float64 as written. */
export async function readFeeds(flags: readonly FeedFlag[]): Promise<ReadFeed[]> {
  const feeds: ReadFeed[] = [];
  for (const feed of flags) {
    const what = `--feed ${feed.name}=${feed.path}`;
    if (!feed.path.toLowerCase().endsWith('.npy')) {
      const integer = /^[+-]?\d+$/.test(feed.path);
      const data = integer ? new BigInt64Array([BigInt(feed.path)]) : new Float64Array([Number(feed.path)]);
      feeds.push({ ...feed, tensor: { data, shape: [], dtype: integer ? '<i8' : '<f8' } });
      continue;
    }
    feeds.push({ ...feed, tensor: readNpyTensor(await readUserFile(`--feed ${feed.name}`, feed.path), what) });
  }
  return feeds;
}

/**
 * A `.npy` `--input` as the model input, a batch of one: floats as float32
 * (a `HostTensor`), integers (token ids) in the element type the model's
 * input takes. A float file for an integer input, or integers for a float
 * input (unless `--layer` names where they are attributed), is refused
 * naming both (`elementsFor`).
 */
export function modelInput(tensor: NpyTensor, path: string, model: LoadedModel, attributeAt: string | undefined): FeedTensor | HostTensor {
  const what = `--input ${path}`;
  // The model input's own rank: with attribution at a tensor, the backend's inputShape may be that tensor's.
  const declared = model.input !== undefined && model.input.shape.length > 0 ? model.input.shape : model.inputShape;
  const shape = batchShape(tensor.shape, declared);
  // Token ids into a float input (a Keras Embedding casts them) are fine where --layer names the layer attributed at.
  const idsAsFloats = attributeAt !== undefined && isIntegerDtype(tensor.dtype) && model.input?.type?.startsWith('float') === true;
  const data =
    model.input === undefined ? tensor.data : idsAsFloats ? Float32Array.from(tensor.data, Number) : elementsFor(what, tensor, model.input);
  if (isIntegerDtype(tensor.dtype)) return { data, shape };
  return hostTensor(data instanceof Float32Array ? data : Float32Array.from(data as Float64Array), shape);
}

/**
 * The value that `explain` takes as `x` when the backend attributes at a
 * tensor inside the model: the embeddings of token ids, or the tensor
 * `--layer` names (docs/methods.md, "Attribution at a tensor"), computed by
 * the backend's `attributedInput` from the model input `u`.
 */
export async function attributedInput(
  model: LoadedModel,
  u: FeedTensor,
  input: string,
  attributeAt: string | undefined,
): Promise<HostTensor> {
  const backend = model.backend;
  if (backend.attributedInput === undefined) {
    throw new CliError(
      attributeAt === undefined
        ? `--input ${input} holds token ids, but the ${backend.name} backend cannot attribute at the embeddings they select; give float values`
        : `--layer: the ${backend.name} backend cannot attribute at a tensor inside the model; leave --layer out`,
    );
  }
  let x: HostTensor;
  try {
    x = await backend.attributedInput(u);
  } catch (error) {
    if (!(error instanceof AttributionError)) throw error;
    throw cliErrorOf(error, namesLayer(error, attributeAt) ? `--layer: ${error.message}` : `--input ${input}: ${error.message}`);
  }
  // A backend without a default embedding (TF.js) gives the ids back as they are: no gradient exists there.
  if (attributeAt === undefined && x.shape.length === u.shape.length) {
    throw new CliError(
      `--input ${input} holds token ids, which the ${backend.name} backend would attribute at as they are, where no gradient exists: ` +
        'give --layer with the embedding layer (saliency inspect MODEL lists the layers)',
    );
  }
  return x;
}

/** Token ids of the shape of `ids`, every one `token`: a baseline sequence (e.g. all [PAD]). */
export function sameToken(ids: FeedTensor, token: number): FeedTensor {
  const data = ids.data instanceof BigInt64Array ? new BigInt64Array(ids.data.length).fill(BigInt(token)) : ids.data.slice().fill(token);
  return { data, shape: ids.shape };
}
