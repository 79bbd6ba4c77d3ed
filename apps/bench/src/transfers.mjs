// Bytes our backends hand to a runtime and read back from it, counted where
// the runtime's API lets us see them, not estimated: on a GPU engine that is
// what crosses between host and device; on a CPU engine what is copied
// between JavaScript and the runtime (the wasm heap, the native session).
//
// - ONNX Runtime: every `session.run` of every session the backend creates.
//   Uploads: the feeds that live in host memory (a feed already bound as a
//   GPU buffer crosses nothing). Downloads: the outputs returned in host
//   memory, and those left on the device when their data is read.
// - TF.js: the engine's `makeTensor` (every tensor made from values: inputs,
//   one-hot rows, constants made by ops and their gradients) and `read` /
//   `readSync` (every tensor read back). Transfers a TF.js backend makes on
//   its own inside a kernel (a WebGL backend packing or falling back to the
//   CPU) are not seen.
//
// - WebGPU, for ONNX Runtime's WebGPU EPs: `GPUQueue.writeBuffer` outside
//   the session runs, i.e. what our backend uploads to ONNX Runtime's device
//   itself: with device noise, the clean examples, σ and the noise pass's
//   parameters (packages/backend-onnx/src/device-noise/noise-passes.ts);
//   with graph capture every input of a captured session
//   (packages/backend-onnx/src/runtime/graph-capture.ts). Inside a run the
//   writes are ONNX Runtime's uploads of its feeds, counted as feeds above.
//   And `GPUBuffer.mapAsync` for reading outside the runs and outside an
//   output's `getData` (counted as an output above): what our backend reads
//   back from ONNX Runtime's device itself, the packed output of a captured
//   session.
//
// Counting is off until `counter.start()` and is cheap, so timed calls can
// stay uncounted.

/** The byte size of a typed array, an array of strings (UTF-8), or a plain number array (4 bytes each). */
function byteSize(values) {
  if (ArrayBuffer.isView(values)) return values.byteLength;
  if (Array.isArray(values)) {
    return values.reduce(
      (sum, v) => sum + (typeof v === 'string' ? new TextEncoder().encode(v).length : ArrayBuffer.isView(v) ? v.byteLength : 4),
      0,
    );
  }
  return 0;
}

/** Upload and download totals, counted only between `start()` and `stop()`. */
export function createTransferCounter() {
  let counting = false;
  const totals = { uploadBytes: 0, uploads: 0, downloadBytes: 0, downloads: 0 };
  const add = (kind, bytes) => {
    if (!counting) return;
    totals[`${kind}Bytes`] += bytes;
    totals[`${kind}s`] += 1;
  };
  let runtimeRuns = 0;
  return {
    upload: (bytes) => add('upload', bytes),
    download: (bytes) => add('download', bytes),
    /** Runs `call`, a runtime's own run whose transfers are counted at its API, marked as such (`withinRuntimeRun`). */
    async runtimeRun(call) {
      runtimeRuns += 1;
      try {
        return await call();
      } finally {
        runtimeRuns -= 1;
      }
    },
    /** True while a `runtimeRun` is under way. */
    get withinRuntimeRun() {
      return runtimeRuns > 0;
    },
    /** Zeroes the totals and starts counting. */
    start() {
      for (const key of Object.keys(totals)) totals[key] = 0;
      counting = true;
    },
    /** Stops counting; returns the totals since `start()`. */
    stop() {
      counting = false;
      return { ...totals };
    },
  };
}

/** Where ONNX Runtime keeps a tensor in host memory (pageable or pinned). */
const HOST_LOCATIONS = new Set(['cpu', 'cpu-pinned']);

/** An ONNX Runtime tensor's bytes when it lives in host memory, else undefined. */
function hostBytes(tensor) {
  return HOST_LOCATIONS.has(tensor.location ?? 'cpu') ? byteSize(tensor.data) : undefined;
}

function countingSession(session, counter) {
  const run = async (feeds, ...rest) => {
    for (const tensor of Object.values(feeds)) {
      const bytes = hostBytes(tensor);
      if (bytes !== undefined) counter.upload(bytes);
    }
    const outputs = await counter.runtimeRun(() => session.run(feeds, ...rest));
    for (const tensor of Object.values(outputs)) {
      const bytes = hostBytes(tensor);
      if (bytes !== undefined) {
        counter.download(bytes);
      } else {
        const getData = tensor.getData.bind(tensor);
        tensor.getData = async (...args) => {
          // the runtime's own read, counted here and not by countGpuReadbacks
          const data = await counter.runtimeRun(() => getData(...args));
          counter.download(byteSize(data));
          return data;
        };
      }
    }
    return outputs;
  };
  return new Proxy(session, {
    get(target, key) {
      if (key === 'run') return run;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `ort` with `InferenceSession.create` returning sessions whose runs `counter` counts; the rest is `ort`'s own. */
export function countOrtTransfers(ort, counter) {
  const create = async (...args) => countingSession(await ort.InferenceSession.create(...args), counter);
  return { ...ort, InferenceSession: new Proxy(ort.InferenceSession, { get: (target, key) => (key === 'create' ? create : target[key]) }) };
}

/** Counts, into `counter`, what TF.js's engine uploads (`makeTensor`) and reads back (`read`, `readSync`); returns the undo. */
export function countTfjsTransfers(tf, counter) {
  const engine = tf.engine();
  const { makeTensor, read, readSync } = engine;
  const sizeOf = (dataId) => engine.state.tensorInfo.get(dataId)?.bytes ?? 0;
  engine.makeTensor = function (values, ...rest) {
    counter.upload(byteSize(values));
    return makeTensor.call(this, values, ...rest);
  };
  engine.read = function (dataId) {
    counter.download(sizeOf(dataId));
    return read.call(this, dataId);
  };
  engine.readSync = function (dataId) {
    counter.download(sizeOf(dataId));
    return readSync.call(this, dataId);
  };
  return () => {
    // the engine's own methods live on its prototype
    delete engine.makeTensor;
    delete engine.read;
    delete engine.readSync;
  };
}

/**
 * Counts, into `counter`, the bytes written with WebGPU's
 * `queue.writeBuffer` (Dawn's `GPUQueue` class) outside the runtime's own
 * runs; returns the undo. `data` is a typed array or an ArrayBuffer,
 * `dataOffset` and `size` in its elements (bytes for an ArrayBuffer).
 */
export function countGpuQueueWrites(GPUQueue, counter) {
  const had = Object.hasOwn(GPUQueue.prototype, 'writeBuffer');
  const writeBuffer = GPUQueue.prototype.writeBuffer;
  GPUQueue.prototype.writeBuffer = function (...args) {
    const [, , data, dataOffset = 0, size] = args;
    if (!counter.withinRuntimeRun) {
      const elementBytes = data.BYTES_PER_ELEMENT ?? 1;
      const elements = (data.byteLength ?? 0) / elementBytes;
      counter.upload((size ?? elements - dataOffset) * elementBytes);
    }
    return writeBuffer.apply(this, args);
  };
  return () => {
    if (had) GPUQueue.prototype.writeBuffer = writeBuffer;
    else delete GPUQueue.prototype.writeBuffer;
  };
}

/** WebGPU's GPUMapMode.READ. */
const MAP_READ = 1;

/**
 * Counts, into `counter`, the bytes mapped for reading with WebGPU's
 * `GPUBuffer.mapAsync` (Dawn's `GPUBuffer` class) outside the runtime's own
 * runs and reads; returns the undo. The range is `offset` and `size` in
 * bytes, by default the rest of the buffer.
 */
export function countGpuReadbacks(GPUBuffer, counter) {
  const had = Object.hasOwn(GPUBuffer.prototype, 'mapAsync');
  const mapAsync = GPUBuffer.prototype.mapAsync;
  GPUBuffer.prototype.mapAsync = function (...args) {
    const [mode, offset = 0, size] = args;
    if ((mode & MAP_READ) !== 0 && !counter.withinRuntimeRun) counter.download(size ?? this.size - offset);
    return mapAsync.apply(this, args);
  };
  return () => {
    if (had) GPUBuffer.prototype.mapAsync = mapAsync;
    else delete GPUBuffer.prototype.mapAsync;
  };
}
