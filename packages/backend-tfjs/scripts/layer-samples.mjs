/*
 * One small instance of every layer class tfjs-layers registers, for the
 * gradient table: how to make it, what it is applied to, and, where the
 * gradient table alone would mislead, a note. The generator runs each once
 * on tfjs-cpu and records the kernels its forward pass runs (in inference
 * mode), so a row holds the kernels of that configuration; another
 * configuration (padding, strides, an activation) may run others. The
 * activations a layer may apply have rows of their own (`Activation`).
 */

/** The activation names of tfjs-layers (its `activations.js`). */
export const ACTIVATIONS = [
  'elu',
  'gelu',
  'gelu_new',
  'hardSigmoid',
  'linear',
  'logSoftmax',
  'mish',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'swish',
  'tanh',
];

/** Containers, not layers that compute: their rows would be those of the layers they hold. */
export const CONTAINERS = ['InputLayer', 'Model', 'Functional', 'Sequential'];

const INTEGER_INPUT = 'integer input: attribute at the layer output (`layer` option)';
const INFERENCE_IDENTITY = 'identity in inference mode';
const onlyThrough = (kernel) => `the input reaches the output only through ${kernel}, which has no gradient: no input gradient`;

/** `make(tfl)` builds the layer; `inputs` are the shapes (with batch) it is applied to. */
export function layerSamples(tfl) {
  const L = tfl.layers;
  const image = [[1, 5, 5, 2]];
  const sequence = [[1, 4, 2]];
  const vector = [[2, 4]];
  const pair = [
    [2, 3],
    [2, 3],
  ];
  const rnnCell = (cell) => () => L.rnn({ cell });
  return [
    { className: 'ReLU', make: () => L.reLU({}), inputs: vector },
    { className: 'LeakyReLU', make: () => L.leakyReLU({}), inputs: vector },
    { className: 'PReLU', make: () => L.prelu({}), inputs: vector },
    { className: 'ELU', make: () => L.elu({}), inputs: vector },
    { className: 'ThresholdedReLU', make: () => L.thresholdedReLU({}), inputs: vector },
    { className: 'Softmax', make: () => L.softmax({}), inputs: vector },
    { className: 'Conv1D', make: () => L.conv1d({ filters: 2, kernelSize: 3 }), inputs: sequence },
    { className: 'Conv2D', make: () => L.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), inputs: image },
    { className: 'Conv3D', make: () => L.conv3d({ filters: 2, kernelSize: 2 }), inputs: [[1, 3, 3, 3, 2]] },
    { className: 'Conv2DTranspose', make: () => L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 }), inputs: [[1, 3, 3, 2]] },
    {
      className: 'Conv3DTranspose',
      make: () => L.conv3dTranspose({ filters: 2, kernelSize: 2 }),
      inputs: [[1, 3, 3, 3, 2]],
      note: onlyThrough('Conv3DBackpropInputV2'),
    },
    { className: 'SeparableConv2D', make: () => L.separableConv2d({ filters: 2, kernelSize: 3 }), inputs: image },
    { className: 'DepthwiseConv2D', make: () => L.depthwiseConv2d({ kernelSize: 3 }), inputs: image },
    { className: 'Cropping2D', make: () => L.cropping2D({ cropping: 1 }), inputs: image },
    { className: 'UpSampling2D', make: () => L.upSampling2d({ size: [2, 2] }), inputs: image },
    { className: 'RNN', make: rnnCell(L.simpleRNNCell({ units: 3 })), inputs: sequence },
    { className: 'SimpleRNNCell', make: rnnCell(L.simpleRNNCell({ units: 3 })), inputs: sequence },
    { className: 'SimpleRNN', make: () => L.simpleRNN({ units: 3 }), inputs: sequence },
    { className: 'GRUCell', make: rnnCell(L.gruCell({ units: 3 })), inputs: sequence },
    { className: 'GRU', make: () => L.gru({ units: 3 }), inputs: sequence },
    { className: 'LSTMCell', make: rnnCell(L.lstmCell({ units: 3 })), inputs: sequence },
    { className: 'LSTM', make: () => L.lstm({ units: 3 }), inputs: sequence },
    {
      className: 'StackedRNNCells',
      make: () => L.rnn({ cell: L.stackedRNNCells({ cells: [L.simpleRNNCell({ units: 3 }), L.simpleRNNCell({ units: 2 })] }) }),
      inputs: sequence,
    },
    { className: 'ConvLSTM2D', make: () => L.convLstm2d({ filters: 2, kernelSize: 3, padding: 'same' }), inputs: [[1, 2, 4, 4, 2]] },
    {
      className: 'ConvLSTM2DCell',
      make: () => L.convLstm2d({ filters: 2, kernelSize: 3, padding: 'same' }),
      inputs: [[1, 2, 4, 4, 2]],
      note: 'runs inside ConvLSTM2D',
    },
    { className: 'Dropout', make: () => L.dropout({ rate: 0.5 }), inputs: vector, note: INFERENCE_IDENTITY },
    { className: 'SpatialDropout1D', make: () => L.spatialDropout1d({ rate: 0.5 }), inputs: sequence, note: INFERENCE_IDENTITY },
    { className: 'Dense', make: () => L.dense({ units: 3 }), inputs: vector },
    { className: 'Flatten', make: () => L.flatten({}), inputs: image },
    { className: 'RepeatVector', make: () => L.repeatVector({ n: 2 }), inputs: vector },
    { className: 'Reshape', make: () => L.reshape({ targetShape: [8] }), inputs: [[1, 2, 4]] },
    { className: 'Permute', make: () => L.permute({ dims: [2, 1] }), inputs: [[1, 2, 4]] },
    { className: 'Masking', make: () => L.masking({}), inputs: sequence },
    {
      className: 'Embedding',
      make: () => L.embedding({ inputDim: 5, outputDim: 2 }),
      inputs: [[2, 3]],
      dtype: 'int32',
      note: INTEGER_INPUT,
    },
    { className: 'Add', make: () => L.add({}), inputs: pair },
    { className: 'Multiply', make: () => L.multiply({}), inputs: pair },
    { className: 'Average', make: () => L.average({}), inputs: pair },
    { className: 'Maximum', make: () => L.maximum({}), inputs: pair },
    { className: 'Minimum', make: () => L.minimum({}), inputs: pair },
    { className: 'Concatenate', make: () => L.concatenate({}), inputs: pair },
    { className: 'Dot', make: () => L.dot({ axes: 1 }), inputs: pair },
    { className: 'GaussianNoise', make: () => L.gaussianNoise({ stddev: 0.1 }), inputs: vector, note: INFERENCE_IDENTITY },
    { className: 'GaussianDropout', make: () => L.gaussianDropout({ rate: 0.1 }), inputs: vector, note: INFERENCE_IDENTITY },
    { className: 'AlphaDropout', make: () => L.alphaDropout({ rate: 0.1 }), inputs: vector, note: INFERENCE_IDENTITY },
    { className: 'BatchNormalization', make: () => L.batchNormalization({}), inputs: image },
    { className: 'LayerNormalization', make: () => L.layerNormalization({}), inputs: vector },
    { className: 'ZeroPadding2D', make: () => L.zeroPadding2d({}), inputs: image },
    { className: 'MaxPooling1D', make: () => L.maxPooling1d({ poolSize: 2 }), inputs: sequence },
    { className: 'AveragePooling1D', make: () => L.averagePooling1d({ poolSize: 2 }), inputs: sequence },
    { className: 'MaxPooling2D', make: () => L.maxPooling2d({ poolSize: 2 }), inputs: image },
    { className: 'AveragePooling2D', make: () => L.averagePooling2d({ poolSize: 2 }), inputs: image },
    { className: 'MaxPooling3D', make: () => L.maxPooling3d({ poolSize: 2 }), inputs: [[1, 2, 2, 2, 2]] },
    { className: 'AveragePooling3D', make: () => L.averagePooling3d({ poolSize: 2 }), inputs: [[1, 2, 2, 2, 2]] },
    { className: 'GlobalAveragePooling1D', make: () => L.globalAveragePooling1d({}), inputs: sequence },
    { className: 'GlobalMaxPooling1D', make: () => L.globalMaxPooling1d({}), inputs: sequence },
    { className: 'GlobalAveragePooling2D', make: () => L.globalAveragePooling2d({}), inputs: image },
    { className: 'GlobalMaxPooling2D', make: () => L.globalMaxPooling2d({}), inputs: image },
    { className: 'TimeDistributed', make: () => L.timeDistributed({ layer: L.dense({ units: 2 }) }), inputs: sequence },
    { className: 'Bidirectional', make: () => L.bidirectional({ layer: L.simpleRNN({ units: 2 }) }), inputs: sequence },
    { className: 'Rescaling', make: () => L.rescaling({ scale: 1 / 255 }), inputs: image },
    { className: 'CenterCrop', make: () => L.centerCrop({ height: 3, width: 3 }), inputs: image, note: onlyThrough('CropAndResize') },
    {
      className: 'CategoryEncoding',
      make: () => L.categoryEncoding({ numTokens: 5, outputMode: 'multiHot' }),
      inputs: [[2, 3]],
      dtype: 'int32',
      note: INTEGER_INPUT,
    },
    { className: 'Resizing', make: () => L.resizing({ height: 3, width: 3 }), inputs: image },
    { className: 'RandomWidth', make: () => L.randomWidth({ factor: 0.2 }), inputs: image },
    ...ACTIVATIONS.map((activation) => ({
      className: 'Activation',
      label: `Activation (${activation})`,
      make: () => L.activation({ activation }),
      inputs: vector,
    })),
  ];
}
