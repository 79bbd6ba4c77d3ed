import type { InferenceSession } from 'onnxruntime-common';
import type { OnnxRuntimeModule } from '../../src/index.js';

/** An ONNX Runtime module that counts the sessions made through it and those released. */
export interface CountingOrt {
  readonly module: OnnxRuntimeModule;
  readonly created: () => number;
  readonly released: () => number;
  /** Sessions created and not yet released. */
  readonly open: () => number;
}

/**
 * Wraps the real module: `InferenceSession.create` is the runtime's own, and
 * each session it returns is the runtime's session, with `release` counted.
 * Nothing of the runtime is replaced.
 */
export function countingOrt(ort: OnnxRuntimeModule): CountingOrt {
  let created = 0;
  let released = 0;
  const module: OnnxRuntimeModule = {
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> {
        const session = await ort.InferenceSession.create(model, options);
        created++;
        const release = session.release.bind(session);
        session.release = async () => {
          released++;
          await release();
        };
        return session;
      },
    },
  };
  return { module, created: () => created, released: () => released, open: () => created - released };
}
