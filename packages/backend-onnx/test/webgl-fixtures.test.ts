import { readdirSync, readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { describe, expect, it } from 'vitest';
import { checkRunsOnWebgl } from '../src/execution-provider/webgl-ops.js';
import { defaultOpset } from '../src/model/onnx-model.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { buildFixtureGraph, PARITY_MODELS } from './helpers/export-fixtures.js';

/*
 * Every fixture model of this package and of apps/parity, built for the WebGL
 * EP: either the gradient graph passes the EP's op/opset/attribute table
 * (webgl-ops.ts, read from onnxruntime-web's own resolve rules and kernels),
 * or the refusal names a node of the model itself, one whose forward the EP
 * cannot run. A refusal of a node the gradient rules emitted would be one we
 * cause ourselves (issue: the Concat rule's opset-13 Split on WebGL).
 */

const folders = [new URL('./fixtures/models/', import.meta.url), PARITY_MODELS];
const fixtures = folders.flatMap((folder) =>
  readdirSync(folder)
    .filter((file) => file.endsWith('.onnx') && !file.includes('.static-'))
    .map((file) => ({
      name: `${folder.pathname.includes('apps/parity') ? 'parity/' : ''}${file.slice(0, -5)}`,
      url: new URL(file, folder),
    })),
);

const decode = (bytes: Uint8Array) => fromBinary(ModelProtoSchema, bytes);

/** What the EP genuinely lacks in a fixture's own forward nodes, as the README's WebGL table lists it. */
const FORWARD_LIMITS: Record<string, RegExp> = {
  cnn1d: /op 'Conv' of Conv node .* over 1 spatial axes/,
  'parity/cnn1d': /op 'Conv' of Conv node .* over 1 spatial axes/,
  mobilenet_v3_small: /op 'Hard(Sigmoid|Swish)' .* the EP has no such op/,
  vit_tiny: /op '(Erf|LayerNormalization|Where|Expand)' .* the EP has no such op/,
};

describe.each(fixtures)('$name built for webgl', ({ name, url }) => {
  it('passes the EP table, or is refused for a node of the model itself', () => {
    const model = decode(readFileSync(url));
    const build = () => buildFixtureGraph(model, { result: 'gradient', executionProvider: 'webgl' }).built;
    const limit = FORWARD_LIMITS[name];
    if (limit !== undefined) {
      expect(build).toThrow(AttributionError);
      expect(build).toThrow(limit);
      expect(build).toThrow(/It is a node of the model itself, so the EP cannot run even its forward pass/);
      return;
    }
    const built = decode(build().bytes);
    // The build checked it already; checked again here so that a build that stopped checking fails.
    expect(() => checkRunsOnWebgl(built.graph!, defaultOpset(built), name)).not.toThrow();
  });
});
