import { PHILOX_CONSTANTS } from './noise-constants.js';
import { philox4x32Words } from './philox.js';

/**
 * Philox4x32-10 words of many consecutive blocks at once: counters
 * [first + q, c1, c2, 0] for q < count under key [k0, k1], the four words of
 * block q at `words[4q .. 4q + 3]`. At most `capacity` blocks a call.
 */
export interface PhiloxBlocks {
  /** Where the rounds run. */
  readonly engine: 'webassembly' | 'javascript';
  readonly capacity: number;
  readonly words: Uint32Array;
  fill(first: number, count: number, c1: number, c2: number, k0: number, k1: number): void;
}

/** Blocks a call fills: 64 KiB of words, one WebAssembly page. */
const CAPACITY = 4096;

/**
 * The rounds in WebAssembly, where a 32×32 → 64-bit product is one i64.mul:
 * about six times the speed of the float64 arithmetic JavaScript needs for
 * the high word (philox.ts). The module is a few hundred bytes, assembled
 * here; the JavaScript rounds are used where WebAssembly is missing or may
 * not be compiled (a Content-Security-Policy without 'wasm-unsafe-eval').
 */
export function philoxBlocks(): PhiloxBlocks {
  cached ??= webAssemblyBlocks() ?? javaScriptBlocks();
  return cached;
}

let cached: PhiloxBlocks | undefined;

export function javaScriptBlocks(): PhiloxBlocks {
  const words = new Uint32Array(4 * CAPACITY);
  const block = new Uint32Array(4);
  return {
    engine: 'javascript',
    capacity: CAPACITY,
    words,
    fill(first, count, c1, c2, k0, k1) {
      for (let q = 0; q < count; q++) {
        philox4x32Words(first + q, c1, c2, 0, k0, k1, block);
        words.set(block, 4 * q);
      }
    },
  };
}

function webAssemblyBlocks(): PhiloxBlocks | undefined {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(philoxModule()));
    const exports = instance.exports as {
      memory: WebAssembly.Memory;
      philox: (first: number, count: number, c1: number, c2: number, k0: number, k1: number, at: number) => void;
    };
    const words = new Uint32Array(exports.memory.buffer, 0, 4 * CAPACITY);
    return {
      engine: 'webassembly',
      capacity: CAPACITY,
      words,
      fill: (first, count, c1, c2, k0, k1) => exports.philox(first, count, c1, c2, k0, k1, 0),
    };
  } catch {
    return undefined;
  }
}

// WebAssembly opcodes used below.
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const GET = 0x20;
const SET = 0x21;
const TEE = 0x22;
const I32_STORE = 0x36;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I64_MUL = 0x7e;
const I64_SHR_U = 0x88;
const I32_WRAP_I64 = 0xa7;
const I64_EXTEND_I32_U = 0xad;
const I32 = 0x7f;
const I64 = 0x7e;

/** Signed LEB128 of an integer (below 2⁵³ in magnitude). */
function sleb(value: number): number[] {
  const bytes: number[] = [];
  let v = BigInt(value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

/** A section: its id, its byte length, its contents. */
const section = (id: number, contents: number[]): number[] => [id, ...uleb(contents.length), ...contents];

/** Unsigned LEB128 of a uint32. */
function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    const byte = value & 0x7f;
    value >>>= 7;
    bytes.push(value === 0 ? byte : byte | 0x80);
  } while (value !== 0);
  return bytes;
}

const name = (text: string): number[] => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];

/**
 * philox(first, count, c1, c2, k0, k1, at): for q < count, the ten rounds of
 * block [first + q, c1, c2, 0] under [k0, k1], stored as four i32 at at + 16q.
 * Each round: p0 = M0·c0, p1 = M1·c2 (64-bit), then
 * c0, c1, c2, c3 = hi(p1) ⊕ c1 ⊕ k0, lo(p1), hi(p0) ⊕ c3 ⊕ k1, lo(p0),
 * k0 += W0, k1 += W1 (mod 2³²), as in philox.ts.
 */
function philoxModule(): Uint8Array<ArrayBuffer> {
  // Parameters 0–6, then locals: q, the state a0–a3, the key b0–b1, r (rounds left, then the address), p0, p1.
  const [first, count, c1, c2, k0, k1, at] = [0, 1, 2, 3, 4, 5, 6];
  const [q, a0, a1, a2, a3, b0, b1, r, p0, p1] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const hi = (p: number) => [GET, p, I64_CONST, 32, I64_SHR_U, I32_WRAP_I64];
  // biome-ignore format: one WebAssembly instruction group per line
  const body = [
    BLOCK, VOID,
    LOOP, VOID,
    GET, q, GET, count, I32_GE_U, BR_IF, 1,
    GET, first, GET, q, I32_ADD, SET, a0,
    GET, c1, SET, a1,
    GET, c2, SET, a2,
    I32_CONST, 0, SET, a3,
    GET, k0, SET, b0,
    GET, k1, SET, b1,
    I32_CONST, 10, SET, r,
    LOOP, VOID,
    GET, a0, I64_EXTEND_I32_U, I64_CONST, ...sleb(PHILOX_CONSTANTS.M0), I64_MUL, SET, p0,
    GET, a2, I64_EXTEND_I32_U, I64_CONST, ...sleb(PHILOX_CONSTANTS.M1), I64_MUL, SET, p1,
    ...hi(p1), GET, a1, I32_XOR, GET, b0, I32_XOR, SET, a0,
    GET, p1, I32_WRAP_I64, SET, a1,
    ...hi(p0), GET, a3, I32_XOR, GET, b1, I32_XOR, SET, a2,
    GET, p0, I32_WRAP_I64, SET, a3,
    GET, b0, I32_CONST, ...sleb(PHILOX_CONSTANTS.W0 | 0), I32_ADD, SET, b0,
    GET, b1, I32_CONST, ...sleb(PHILOX_CONSTANTS.W1 | 0), I32_ADD, SET, b1,
    GET, r, I32_CONST, 1, I32_SUB, TEE, r, BR_IF, 0,
    END,
    GET, at, GET, q, I32_CONST, 4, I32_SHL, I32_ADD, SET, r,
    GET, r, GET, a0, I32_STORE, 2, 0,
    GET, r, GET, a1, I32_STORE, 2, 4,
    GET, r, GET, a2, I32_STORE, 2, 8,
    GET, r, GET, a3, I32_STORE, 2, 12,
    GET, q, I32_CONST, 1, I32_ADD, SET, q,
    BR, 0,
    END,
    END,
    END,
  ];
  const locals = [2, 8, I32, 2, I64];
  const code = [...locals, ...body];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 7, I32, I32, I32, I32, I32, I32, I32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('philox'), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}
