import { AttributionError } from '@saliency/core';
import { graphModelLogits } from './graph-model-logits.js';
import { layersModelLogits } from './layers-model-logits.js';
import { isGraphModel, isLayersModel, type TfjsModel } from './model-types.js';
import { atOutputPosition } from './output-position.js';
import type { LogitsFunction, ModelParts } from './model-run.js';

export type { LayerSplit, LogitsFunction, ModelParts, SoftmaxHandling } from './model-run.js';

/**
 * Builds the function the backend differentiates from any accepted model.
 * `inputName`, `outputName` and `layer` pick the attributed input, the output
 * explained and the tensor attributed at, with the ONNX backend's meanings:
 * a LayersModel's input, output tensor or layer names; a GraphModel's input
 * names and any node of its graph. `outputPosition` selects a position of the
 * output (`output-position.ts`).
 */
export function logitsFunction(model: TfjsModel, parts: ModelParts): LogitsFunction {
  const logits = modelLogits(model, parts);
  return parts.outputPosition === undefined ? logits : atOutputPosition(logits, parts.outputPosition);
}

function modelLogits(model: TfjsModel, parts: ModelParts): LogitsFunction {
  if (typeof model === 'function') {
    for (const option of ['inputName', 'outputName', 'layer'] as const) {
      if (parts[option] !== undefined) {
        throw new AttributionError(
          'INVALID_OPTION',
          `createTfjsBackend: ${option} applies to a LayersModel or GraphModel, not to a function`,
        );
      }
    }
    return {
      run: (x) => model(x),
      inputShape: undefined,
      description: 'function',
      inputs: [],
      attributedInputName: undefined,
      layerSplit: () => {
        throw new AttributionError(
          'UNSUPPORTED_MODEL',
          'layer methods (Grad-CAM) need the layers of a tf.LayersModel or the nodes of a tf.GraphModel, not a function',
        );
      },
    };
  }
  if (isLayersModel(model)) return layersModelLogits(model, parts);
  if (isGraphModel(model)) return graphModelLogits(model, parts);
  throw new TypeError('createTfjsBackend: the model must be a tf.LayersModel, a tf.GraphModel or a function (x: tf.Tensor) => tf.Tensor');
}
