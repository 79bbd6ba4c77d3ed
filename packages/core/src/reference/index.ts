export { referenceAttribution, referenceMethodNames, centralDifferenceGradient, type ReferenceModel } from './reference-attribution.js';
