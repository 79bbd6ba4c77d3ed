export { referenceAttribution, centralDifferenceGradient, type ReferenceModel } from './reference-attribution.js';
