import { AttributionError, explain, type AttributionOptions, type GradientBackend } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '@saliency/backend-onnx';
import type { LoadedFixture } from './fixture.js';
import { isApplicable, referenceMaps } from './methods.js';
import { relativeMaxError } from './metrics.js';

/*
 * The float16 cells (docs/methods.md, "Precision"): on ONNX Runtime's WebGPU
 * EP, each fixture's map computed with `precision: 'float16'` against the
 * same map in float32 and against PyTorch's float64 reference. They measure;
 * no tolerance is asserted (the unit tests of backend-onnx bound the pass's
 * rounding). Two methods keep them cheap: the gradient, and VarGrad, whose
 * moments are reduced in float32 inside the float16 graph. Where the adapter
 * lacks shader-f16 (SwiftShader) every cell is `n/a` with the backend's
 * refusal as the reason, found by the first call before any graph is built.
 */

const METHODS = ['gradient', 'vargrad'] as const;

export interface Float16Cell {
  readonly fixture: string;
  readonly method: (typeof METHODS)[number];
  readonly status: 'measured' | 'n/a' | 'error';
  /** Relative max error (of the float32 map's largest magnitude) of the float16 map against the float32 map. */
  readonly againstFloat32?: number;
  /** The same against PyTorch's float64 reference. */
  readonly againstPyTorch?: number;
  readonly reason?: string;
}

export interface Float16Result {
  readonly column: string;
  readonly cells: Float16Cell[];
}

/** What the browser page (browser/float16-page.ts) puts on `window` for src/node/float16-browser.ts. */
export interface Float16Page {
  runFloat16(fixtureNames: string[]): Promise<Float16Result>;
}

/** The float16 cells on `ort` (onnxruntime-web's `/webgpu` entry) for `fixtures`. */
export async function runFloat16Cells(ort: OnnxRuntimeModule, fixtures: readonly LoadedFixture[]): Promise<Float16Result> {
  const cells: Float16Cell[] = [];
  let unavailable: string | undefined;
  for (const fixture of fixtures) {
    const references = referenceMaps(fixture);
    for (const method of METHODS) {
      if (unavailable !== undefined) {
        cells.push({ fixture: fixture.name, method, status: 'n/a', reason: unavailable });
        continue;
      }
      const { noise } = fixture.reference;
      const options: AttributionOptions = {
        target: fixture.reference.targets,
        ...(method === 'vargrad' ? { numSamples: noise.numSamples, seed: noise.seed, noiseScale: noise.sigma } : {}),
      };
      const mapOf = async (precision: 'float32' | 'float16') => {
        const backend: GradientBackend & { dispose(): Promise<void> } = createOnnxBackend(ort, fixture.onnx, {
          sessionOptions: { executionProviders: ['webgpu'] },
          precision,
        });
        try {
          return (await explain(backend, method, fixture.input, options)).data;
        } finally {
          await backend.dispose();
        }
      };
      try {
        const half = await mapOf('float16');
        const full = await mapOf('float32');
        const reference = references[method];
        if (!isApplicable(reference)) throw new Error(`${fixture.name} has no ${method} reference: ${reference.notApplicable}`);
        cells.push({
          fixture: fixture.name,
          method,
          status: 'measured',
          againstFloat32: relativeMaxError(half, full),
          againstPyTorch: relativeMaxError(half, reference.values),
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof AttributionError && error.code === 'INVALID_OPTION' && message.includes('shader-f16')) {
          unavailable = message;
          cells.push({ fixture: fixture.name, method, status: 'n/a', reason: message });
        } else {
          cells.push({ fixture: fixture.name, method, status: 'error', reason: message });
        }
      }
    }
  }
  return { column: 'onnx-webgpu@chromium', cells };
}

/** The cells as lines of text: one per cell, or one for all where every cell is n/a for the same reason. */
export function formatFloat16(result: Float16Result): string {
  const reasons = new Set(result.cells.map((cell) => (cell.status === 'n/a' ? cell.reason : undefined)));
  if (result.cells.length > 0 && reasons.size === 1 && !reasons.has(undefined)) {
    return `${result.column}: n/a for every fixture and method — ${[...reasons][0]}`;
  }
  const lines = [`${result.column}: float16 map against the float32 map and against PyTorch (relative max error)`];
  for (const cell of result.cells) {
    const figure =
      cell.status === 'measured'
        ? `${cell.againstFloat32!.toExponential(2)} to float32, ${cell.againstPyTorch!.toExponential(2)} to PyTorch`
        : `${cell.status} — ${cell.reason}`;
    lines.push(`  ${cell.fixture}/${cell.method}: ${figure}`);
  }
  return lines.join('\n');
}
