// The tests every GradientBackend passes, whatever runs the model: calls
// after dispose, dispose during a run, abort, concurrent calls, refused
// shapes, targets and group sizes, modified backward passes, and nothing
// left allocated. Each backend's test suite calls `backendConformance` once
// per runtime it supports.

import { describe, expect, it } from 'vitest';
import { AttributionError, explain } from '@saliency/core';
import { referenceAttribution } from '@saliency/core/reference';

/** Runs with a large N take many calls on a busy 2-core machine. */
const TIMEOUT = { timeout: 180_000 };

/** The AttributionError `promise` rejects with. */
async function rejectionOf(promise) {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionError);
    return error;
  }
  throw new Error('expected a rejection with an AttributionError, but the promise resolved');
}

/** The example's elements, with one more on the last axis: a shape the model does not take. */
function widened(x) {
  const shape = [...x.shape];
  shape[shape.length - 1] += 1;
  return { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape };
}

function maxRelativeError(actual, expected) {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
  }
  return scale === 0 ? error : error / scale;
}

/**
 * Registers the conformance tests of one backend under `label`.
 * `subject()` is called once, before the tests (after the runtime is set up).
 */
export function backendConformance(label, subject) {
  describe(`GradientBackend conformance: ${label}`, () => {
    /** @type {Awaited<ReturnType<typeof subject>>} */
    let s;
    const setUp = async () => {
      s ??= await subject();
      return s;
    };

    it('calls after dispose are DISPOSED, for every call and for explain', TIMEOUT, async () => {
      const { create, input } = await setUp();
      const backend = await create();
      const name = backend.name;
      await backend.logits(input);
      await backend.dispose?.();
      const rows = input.shape[0];
      const targets = Int32Array.from({ length: rows }, () => 0);
      const calls = [backend.logits(input), backend.gradients(input, targets), explain(backend, 'vargrad', input)];
      if (backend.gradientMoments) calls.push(backend.gradientMoments(input, targets, rows));
      for (const call of calls) {
        const error = await rejectionOf(call);
        expect(error.code).toBe('DISPOSED');
        expect(error.message).toBe(`${name}: the backend was disposed`);
      }
    });

    it('dispose during a run: the run is refused at its next call and nothing is left', TIMEOUT, async () => {
      const { create, input, resources } = await setUp();
      const before = resources();
      const backend = await create();
      let disposing;
      const error = await rejectionOf(
        explain(backend, 'vargrad', input, {
          numSamples: 8,
          batchSize: 8,
          onProgress: () => {
            disposing ??= Promise.resolve(backend.dispose?.());
          },
        }),
      );
      expect(error.code).toBe('DISPOSED');
      await disposing;
      expect(resources()).toBe(before);
    });

    it('an AbortSignal stops a run between calls; the backend works on, and leaves nothing once disposed', TIMEOUT, async () => {
      const { create, input, resources } = await setUp();
      const before = resources();
      const backend = await create();
      const controller = new AbortController();
      let calls = 0;
      const rows = input.shape[0];
      const error = await rejectionOf(
        explain(backend, 'vargrad', input, {
          numSamples: 4096,
          batchSize: 64,
          signal: controller.signal,
          onProgress: () => {
            if (++calls === 3) controller.abort(new Error('took too long'));
          },
        }),
      );
      expect(error.code).toBe('ABORTED');
      expect(error.message).toBe(`the run was aborted after 192 of ${rows * 4096} model rows: took too long`);
      expect(error.cause).toEqual(new Error('took too long'));
      expect(calls).toBe(3);
      const again = await explain(backend, 'vargrad', input, { numSamples: 4, target: 0 });
      expect(again.shape).toEqual(input.shape);
      await backend.dispose?.();
      expect(resources()).toBe(before);
    });

    it('concurrent explain calls give what sequential calls give, and the float64 reference', TIMEOUT, async () => {
      const { create, input, reference } = await setUp();
      const backend = await create();
      try {
        const methods = ['vargrad', 'smoothgrad_x_input', 'integrated_gradients', 'gradient_x_sign'];
        const options = { numSamples: 6, steps: 6, batchSize: 4, seed: 5, target: 1 };
        const sequential = [];
        for (const method of methods) sequential.push(await explain(backend, method, input, options));
        const concurrent = await Promise.all(methods.map((method) => explain(backend, method, input, options)));
        concurrent.forEach((map, i) => {
          expect(map.data, methods[i]).toEqual(sequential[i].data);
          expect(maxRelativeError(map.data, referenceAttribution(methods[i], reference, input, options)), methods[i]).toBeLessThan(2e-4);
        });
      } finally {
        await backend.dispose?.();
      }
    });

    it('refuses a shape, a target count, a target and a group size it cannot take, with core’s codes', TIMEOUT, async () => {
      const { create, input } = await setUp();
      const backend = await create();
      try {
        const rows = input.shape[0];
        const shapeError = await rejectionOf(explain(backend, 'gradient', widened(input)));
        expect(shapeError.code).toBe('INVALID_SHAPE');
        const countError = await rejectionOf(
          backend.gradients(
            input,
            Int32Array.from({ length: rows + 1 }, () => 0),
          ),
        );
        expect(countError.code).toBe('INVALID_TARGET');
        expect(countError.message).toBe(`${backend.name}: ${rows + 1} targets for ${rows} rows; expected one target per row`);
        const classes = (await backend.logits(input)).shape[1];
        const outOfRange = Int32Array.from({ length: rows }, (_, r) => (r === 1 ? classes : 0));
        const rangeError = await rejectionOf(backend.gradients(input, outOfRange));
        expect(rangeError.code).toBe('INVALID_TARGET');
        expect(rangeError.message).toBe(`target ${classes} of row 1 is not a class of the model's ${classes} logits (0 to ${classes - 1})`);
        const explainError = await rejectionOf(explain(backend, 'gradient', input, { target: classes }));
        expect(explainError.code).toBe('INVALID_TARGET');
        if (backend.gradientMoments) {
          const groupError = await rejectionOf(
            backend.gradientMoments(
              input,
              Int32Array.from({ length: rows }, () => 0),
              rows + 1,
            ),
          );
          expect(groupError.code).toBe('INVALID_OPTION');
          expect(groupError.message).toBe(
            `gradientMoments: groupSize must be a positive integer dividing the ${rows} rows, got ${rows + 1}`,
          );
        }
      } finally {
        await backend.dispose?.();
      }
    });

    it(
      'runs each modified backward pass it lists, leaves the ordinary gradient as it was, refuses an unknown pass, and leaves nothing',
      TIMEOUT,
      async () => {
        const { create, input, resources } = await setUp();
        const before = resources();
        const backend = await create();
        const passes = backend.backwardRuleSets ?? [];
        try {
          const targets = Int32Array.from({ length: input.shape[0] }, (_, r) => r % 2);
          const plain = await backend.gradients(input, targets);
          // `lrp` names a family of rule sets (docs/methods.md, "LRP"), run by the LRP tests on models its rules cover.
          for (const backward of passes.filter((pass) => pass !== 'lrp')) {
            const modified = await backend.gradients(input, targets, { backward });
            expect(modified.shape).toEqual(input.shape);
            expect(modified.data.every(Number.isFinite)).toBe(true);
          }
          expect(Array.from((await backend.gradients(input, targets)).data)).toEqual(Array.from(plain.data));
          if (passes.length > 0) {
            const unknown = await rejectionOf(backend.gradients(input, targets, { backward: 'no_such_pass' }));
            expect(unknown.code).toBe('INVALID_OPTION');
            expect(unknown.message).toContain(passes.join(', '));
          }
        } finally {
          await backend.dispose?.();
        }
        expect(resources()).toBe(before);
      },
    );

    it('leaves nothing allocated: 20 runs of every kind of call, then dispose', TIMEOUT, async () => {
      const { create, input, resources } = await setUp();
      const before = resources();
      const backend = await create();
      const rows = input.shape[0];
      const targets = Int32Array.from({ length: rows }, (_, r) => r % 2);
      for (let i = 0; i < 20; i++) {
        await backend.logits(input);
        await backend.gradients(input, targets);
        if (backend.gradientMoments) await backend.gradientMoments(input, targets, rows);
        await explain(backend, i % 2 === 0 ? 'vargrad' : 'integrated_gradients', input, { numSamples: 4, steps: 4, seed: i });
        await rejectionOf(
          backend.gradients(
            input,
            Int32Array.from({ length: rows }, () => -1),
          ),
        );
      }
      await backend.dispose?.();
      expect(resources()).toBe(before);
    });
  });
}
