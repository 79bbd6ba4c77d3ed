import { AttributionError } from '@saliency/core';
import type { InferenceSession } from 'onnxruntime-common';
import { DeviceInputs } from './device-noise.js';
import type { CapturedBindings } from './graph-capture.js';

/*
 * A least-recently-used cache of built sessions, bounded by their estimated
 * bytes. The backend builds one gradient graph (and one ONNX Runtime session)
 * per input shape and call kind; a model with free spatial dimensions called
 * on many image sizes would otherwise hold every one of them until `dispose`.
 *
 * An entry is released when it is evicted, but never under a run: an entry in
 * use when it is evicted leaves the cache at once and is released when its
 * last user is done. The entry just built always stays, even alone above the
 * bound (one call's graph has to exist to run it).
 */

/** What the cache holds per key: the value, and what releasing it takes. */
export interface CacheableValue {
  /** Estimated bytes the value keeps alive (weights, planned activations). */
  readonly bytes: number;
  release(): Promise<void> | void;
}

interface Entry<V extends CacheableValue> {
  readonly value: Promise<V>;
  /** Known once `value` has resolved; 0 until then. */
  bytes: number;
  users: number;
  evicted: boolean;
  released: boolean;
}

export class SessionCache<V extends CacheableValue> {
  readonly #limitBytes: number;
  /** In order of last use, oldest first (a Map keeps insertion order). */
  readonly #entries = new Map<string, Entry<V>>();
  /** Evicted entries still in use, released when their last user is done. */
  readonly #draining = new Set<Entry<V>>();

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  /** Estimated bytes of the entries held (built ones). */
  get heldBytes(): number {
    let total = 0;
    for (const entry of this.#entries.values()) total += entry.bytes;
    return total;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Runs `use` on the value cached under `key`, building it with `build` if
   * absent; the value is not released while `use` runs. A failed build is
   * not cached.
   */
  async with<T>(key: string, build: () => Promise<V>, use: (value: V) => Promise<T>): Promise<T> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { value: build(), bytes: 0, users: 0, evicted: false, released: false };
      const created = entry;
      created.value.then(
        (value) => {
          created.bytes = value.bytes;
          this.#evictFor(created);
        },
        () => {
          if (this.#entries.get(key) === created) this.#entries.delete(key);
        },
      );
    } else {
      this.#entries.delete(key);
    }
    this.#entries.set(key, entry);
    entry.users++;
    try {
      return await use(await entry.value);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) await this.#release(entry);
    }
  }

  /** Releases every entry once its users are done (callers wait for running calls first). */
  async clear(): Promise<void> {
    const entries = [...this.#entries.values(), ...this.#draining];
    this.#entries.clear();
    this.#draining.clear();
    await Promise.all(entries.map((entry) => this.#release(entry)));
  }

  /** Evicts the least recently used entries other than `keep` until the built ones fit the bound. */
  #evictFor(keep: Entry<V>): void {
    let held = this.heldBytes;
    for (const [key, entry] of this.#entries) {
      if (held <= this.#limitBytes) break;
      if (entry === keep || entry.bytes === 0) continue;
      this.#entries.delete(key);
      held -= entry.bytes;
      entry.evicted = true;
      if (entry.users === 0) void this.#release(entry);
      else this.#draining.add(entry);
    }
  }

  async #release(entry: Entry<V>): Promise<void> {
    this.#draining.delete(entry);
    if (entry.released) return;
    entry.released = true;
    const value = await entry.value.catch(() => undefined);
    await value?.release();
  }
}

/**
 * Default bound: a ResNet-18 at 48², its forward graph and its VarGrad graph
 * at 64 rows (estimated 46 + 224 MiB; 324 MiB of RSS measured), with room to
 * spare, and well within what a browser tab (4 GiB of wasm memory at most)
 * affords.
 */
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

/**
 * What a session costs besides its graph's weights and activations: ONNX
 * Runtime's per-session state (kernels, arenas' first chunks, prepacked
 * weights), measured at a few MiB on onnxruntime-node for small models.
 */
const SESSION_OVERHEAD_BYTES = 2 * 1024 * 1024;

/** A built gradient graph's session, as the backend caches it. */
export interface CachedSession extends CacheableValue {
  readonly session: InferenceSession;
  readonly logitsShape: readonly number[];
  /** The tensor of a `'layer'` graph, as given or chosen. */
  readonly layer?: string;
  /** Where the session is captured (`graph-capture.ts`): the GPU buffers it runs on. */
  readonly bindings?: CapturedBindings;
  /** Where it is not: the buffers of its inputs made on the device (`device-noise.ts`), made at first use. */
  readonly deviceInputs: DeviceInputs;
}

/**
 * The cache entry for a session of a built graph, its bytes estimated from
 * the graph (weights in its bytes, planned activations) and the GPU buffers
 * a captured session is bound to, which are destroyed after the session.
 */
export function cachedSession(
  session: InferenceSession,
  built: { bytes: Uint8Array; activationBytes: number; logitsShape: readonly number[]; layer?: string },
  bindings?: CapturedBindings,
): CachedSession {
  const deviceInputs = new DeviceInputs();
  return {
    session,
    deviceInputs,
    logitsShape: built.logitsShape,
    ...(built.layer === undefined ? {} : { layer: built.layer }),
    ...(bindings === undefined ? {} : { bindings }),
    bytes: built.bytes.byteLength + built.activationBytes + SESSION_OVERHEAD_BYTES + (bindings?.bytes ?? 0),
    release: async () => {
      try {
        await session.release();
      } finally {
        bindings?.release();
        deviceInputs.release();
      }
    },
  };
}

/** The `cacheBytes` option, checked: a non-negative number of bytes (0 keeps only the graph in use). */
export function cacheBytesOption(value: number | undefined): number {
  if (value === undefined) return DEFAULT_CACHE_BYTES;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createOnnxBackend: option cacheBytes must be a non-negative number of bytes, got ${String(value)}`,
    );
  }
  return value;
}
