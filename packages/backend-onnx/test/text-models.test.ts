import { describe, expect, it } from 'vitest';
import { AttributionError, explain, perTokenMaps, type HostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxBackend } from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { PRECISION_RUNTIMES as RUNTIMES } from './helpers/precision-fixtures.js';
import { readTextFixture } from './helpers/text-fixtures.js';
import { thrown } from './helpers/thrown.js';

/*
 * A BERT-style text classifier (scripts/make-text-fixtures.py) with
 * input_ids, attention_mask and token_type_ids, explained at its word
 * embeddings (the default for token ids: docs/methods.md, "Attribution at a
 * tensor"), the mask and the token types fed; and its dynamically quantized
 * version (DynamicQuantizeLinear + MatMulInteger), whose reference is the
 * model on the dequantized weights. Reference: PyTorch autograd in float64
 * at the embeddings, with the library's seeded noise.
 */

interface TextReference {
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  idsShape: number[];
  embeddingShape: number[];
  embeddings: number[];
  pad: number;
  targets: number[];
  logits: number[];
  noise: { numSamples: number; noiseScale: number; seed: number };
  steps: number;
  maps: Record<'gradient' | 'gradient_x_input' | 'smoothgrad' | 'vargrad' | 'integrated_gradients' | 'integrated_gradients_pad', number[]>;
  tokenMaps: Record<'gradient_x_input' | 'integrated_gradients' | 'integrated_gradients_pad', { sum: number[]; l2: number[] }>;
}

const TOLERANCE = 1e-4;
const WORD_EMBEDDINGS = '/word/Gather_output_0';
const ids = (values: number[], shape: number[]) => ({ data: BigInt64Array.from(values, (v) => BigInt(v)), shape });

function textBackend(
  name: string,
  ort: (typeof RUNTIMES)[number][1],
  sessionOptions: object,
): { backend: OnnxBackend; reference: TextReference } {
  const { bytes, reference } = readTextFixture<TextReference>(name);
  const feeds = {
    attention_mask: ids(reference.attentionMask, reference.idsShape),
    // An Int32Array for an int64 input is converted.
    token_type_ids: { data: Int32Array.from(reference.tokenTypeIds), shape: reference.idsShape },
  };
  return { backend: createOnnxBackend(ort, bytes, { inputName: 'input_ids', feeds, sessionOptions }), reference };
}

describe.each(['bert', 'bert_int8_dynamic'])('%s', (name) => {
  describe.each(RUNTIMES)('on %s', (_, ort, sessionOptions) => {
    it('gives every method at the word embeddings, and per-token maps, within 1e-4 of PyTorch autograd', async () => {
      const { backend, reference } = textBackend(name, ort, sessionOptions);
      try {
        expect(backend.attributedTensor).toBe(WORD_EMBEDDINGS);
        const a = await backend.attributedInput(ids(reference.inputIds, reference.idsShape));
        expect(a.shape).toEqual(reference.embeddingShape);
        expectClose(a.data, reference.embeddings, 1e-7, 'embeddings');
        expectClose((await backend.logits(a)).data, reference.logits, TOLERANCE, 'logits');
        const target = reference.targets;
        const { numSamples, noiseScale, seed } = reference.noise;
        const steps = reference.steps;
        const pad = await backend.attributedInput(
          ids(
            reference.inputIds.map(() => reference.pad),
            reference.idsShape,
          ),
        );
        const maps: Record<keyof TextReference['maps'], HostTensor> = {
          gradient: await explain(backend, 'gradient', a, { target }),
          gradient_x_input: await explain(backend, 'gradient_x_input', a, { target }),
          // batchSize 4 < numSamples: each example's rows span calls, with the feeds' rows following them.
          smoothgrad: await explain(backend, 'smoothgrad', a, { target, numSamples, noiseScale, seed, batchSize: 4 }),
          vargrad: await explain(backend, 'vargrad', a, { target, numSamples, noiseScale, seed }),
          integrated_gradients: await explain(backend, 'integrated_gradients', a, { target, steps, baseline: 0 }),
          integrated_gradients_pad: await explain(backend, 'integrated_gradients', a, { target, steps, baseline: pad }),
        };
        for (const [method, map] of Object.entries(maps)) {
          expect(map.shape, method).toEqual(reference.embeddingShape);
          expectClose(map.data, reference.maps[method as keyof TextReference['maps']], TOLERANCE, method);
        }
        for (const [method, tokens] of Object.entries(reference.tokenMaps)) {
          const map = maps[method as keyof TextReference['tokenMaps']];
          expectClose(perTokenMaps(map, 'sum').data, tokens.sum, TOLERANCE, `${method}, summed per token`);
          expectClose(perTokenMaps(map, 'l2').data, tokens.l2, TOLERANCE, `${method}, L2 per token`);
        }
      } finally {
        await backend.dispose();
      }
    }, 240_000);
  });
});

describe('attribution at a tensor: refusals', () => {
  const [, ort] = RUNTIMES[0]!;
  const { bytes, reference } = readTextFixture<TextReference>('bert');
  const feeds = {
    attention_mask: ids(reference.attentionMask, reference.idsShape),
    token_type_ids: ids(reference.tokenTypeIds, reference.idsShape),
  };

  it('token ids passed as x instead of their embeddings name attributedInput', async () => {
    const backend = createOnnxBackend(ort, bytes, { inputName: 'input_ids', feeds });
    try {
      const x = { data: Float32Array.from(reference.inputIds), shape: reference.idsShape };
      const error = thrown(() => backend.checkInputShape(x.shape));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain(`no value of tensor "${WORD_EMBEDDINGS}" (rank 3)`);
      expect(error.message).toContain('Pass backend.attributedInput(input_ids) as x');
      const direct = await backend.gradients(x, Int32Array.from(reference.targets)).catch((e: unknown) => e);
      expect(direct).toBeInstanceOf(AttributionError);
      expect((direct as AttributionError).message).toContain('attributedInput');
    } finally {
      await backend.dispose();
    }
  });

  it('a layer that is no tensor, or not computed from the input', () => {
    const missing = thrown(() => createOnnxBackend(ort, bytes, { inputName: 'input_ids', feeds, layer: 'nope' }));
    expect(missing.code).toBe('INVALID_OPTION');
    expect(missing.message).toContain('option layer "nope" is no tensor of the model');
    expect(missing.message).toContain(`"${WORD_EMBEDDINGS}"`);
    const types = thrown(() => createOnnxBackend(ort, bytes, { inputName: 'input_ids', feeds, layer: '/token_type/Gather_output_0' }));
    expect(types.message).toContain('is not computed from input "input_ids"');
  });

  it('feeds missing for a text model list every input with its type and shape', () => {
    const error = thrown(() => createOnnxBackend(ort, bytes, { inputName: 'input_ids' }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('inputs "attention_mask", "token_type_ids"');
    expect(error.message).toContain('"input_ids" int64 [?, ?], "attention_mask" int64 [?, ?], "token_type_ids" int64 [?, ?]');
  });

  it('a named layer later in the model: the remainder after it is differentiated', async () => {
    // The first LayerNorm's output: the gradient there, against the full-model gradient through the embeddings' chain rule is
    // not available here, so check the layer's own map against central differences of the logits at that tensor.
    const layer = '/ln/Add_1_output_0';
    const backend = createOnnxBackend(ort, bytes, { inputName: 'input_ids', feeds, layer });
    try {
      expect(backend.attributedTensor).toBe(layer);
      const a = await backend.attributedInput(ids(reference.inputIds, reference.idsShape));
      const target = Int32Array.from(reference.targets);
      const gradient = await backend.gradients(a, target, { examples: Int32Array.from([0, 1]) });
      const h = 1e-2;
      for (const index of [3, 40, 200]) {
        const plus = Float32Array.from(a.data);
        const minus = Float32Array.from(a.data);
        plus[index]! += h;
        minus[index]! -= h;
        const lp = (await backend.logits({ data: plus, shape: a.shape })).data;
        const lm = (await backend.logits({ data: minus, shape: a.shape })).data;
        const example = Math.floor(index / (a.data.length / 2));
        const classes = lp.length / 2;
        const difference = (lp[example * classes + target[example]!]! - lm[example * classes + target[example]!]!) / (2 * h);
        expect(Math.abs(difference - gradient.data[index]!), `element ${index}`).toBeLessThan(2e-3);
      }
    } finally {
      await backend.dispose();
    }
  });
});
