import type { GradientBackend, HostTensor } from '@saliency/core';
import type { ReferenceModel } from '@saliency/core/reference';

/** What the conformance tests run on: one backend kind over one model. */
export interface ConformanceSubject {
  /** A new backend over the model; each test disposes the ones it makes. */
  create(): GradientBackend | Promise<GradientBackend>;
  /** A batch of 3 or more examples the model takes. */
  readonly input: HostTensor;
  /** The same model in float64 (its logits before any softmax head). */
  readonly reference: ReferenceModel;
  /** What the runtime holds now (tensors, open sessions): equal before a backend is made and after it is disposed. */
  resources(): number;
}

/** Registers the conformance tests of one backend; `subject` is called once, before the first test. */
export declare function backendConformance(label: string, subject: () => ConformanceSubject | Promise<ConformanceSubject>): void;
