import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import type { GradientContext, NodeContext, OpDefinition } from './op-definition.js';
import { broadcastIndex, broadcastShapes, sameShape } from './tensor-math.js';

/** Swaps the last two axes; a reshape where one of them is 1, since the layout then does not change. */
function transposeLast(g: GradientContext, name: string, shape: readonly number[]): string {
  const rank = shape.length;
  const swapped = [...shape.slice(0, -2), shape[rank - 1]!, shape[rank - 2]!];
  if (shape[rank - 1] === 1 || shape[rank - 2] === 1) return g.reshape(name, swapped);
  const perm = Array.from({ length: rank }, (_, i) => (i < rank - 2 ? i : 2 * rank - 3 - i));
  return g.op('Transpose', [name], { perm: { ints: perm } });
}

/** NumPy matmul shapes: 1-D operands promoted to [1, k] and [k, 1], batch axes broadcast. */
interface MatMulShapes {
  readonly a2: readonly number[];
  readonly b2: readonly number[];
  readonly batch: readonly number[];
  /** The product before the 1-D promotions are dropped: [...batch, n, m]. */
  readonly y2: readonly number[];
  readonly out: readonly number[];
}

function matmulShapes(ctx: NodeContext): MatMulShapes {
  const a = ctx.input(0).shape;
  const b = ctx.input(1).shape;
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul operands must have rank ≥ 1');
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  const k = a2[a2.length - 1]!;
  if (batch === undefined || k !== b2[b2.length - 2]) ctx.fail(`cannot multiply [${a.join(', ')}] by [${b.join(', ')}]`);
  const n = a2[a2.length - 2]!;
  const m = b2[b2.length - 1]!;
  const y2 = [...batch!, n, m];
  const out = [...batch!, ...(a.length === 1 ? [] : [n]), ...(b.length === 1 ? [] : [m])];
  return { a2, b2, batch: batch!, y2, out };
}

function evaluateMatMul(ctx: NodeContext): ConstTensor[] | undefined {
  const a = ctx.constant(0);
  const b = ctx.constant(1);
  if (a === undefined || b === undefined) return undefined;
  const { a2, b2, batch, out } = matmulShapes(ctx);
  const [n, k, m] = [a2[a2.length - 2]!, a2[a2.length - 1]!, b2[b2.length - 1]!];
  const aBatch = broadcastIndex(a2.slice(0, -2), batch);
  const bBatch = broadcastIndex(b2.slice(0, -2), batch);
  const values = new Float64Array(sizeOf(batch) * n * m);
  for (let p = 0; p < sizeOf(batch); p++) {
    const aBase = aBatch[p]! * n * k;
    const bBase = bBatch[p]! * k * m;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.values[aBase + i * k + t]! * b.values[bBase + t * m + j]!;
        values[(p * n + i) * m + j] = s;
      }
    }
  }
  return [constTensor(a.dataType, out, values)];
}

/** Gemm's operands: A′ = op(A) of [M, K], B′ = op(B) of [K, N], and C broadcast to [M, N]. */
function gemmShapes(ctx: NodeContext) {
  const transA = ctx.attributes.int('transA', 0) === 1;
  const transB = ctx.attributes.int('transB', 0) === 1;
  const a = ctx.input(0).shape;
  const b = ctx.input(1).shape;
  if (a.length !== 2 || b.length !== 2) ctx.fail(`A and B must be 2-D, not [${a.join(', ')}] and [${b.join(', ')}]`);
  const [M, K] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [K2, N] = transB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (K !== K2) ctx.fail(`A′ [${M}, ${K}] and B′ [${K2}, ${N}] do not multiply (transA=${+transA}, transB=${+transB})`);
  if (!ctx.hasInput(2) && ctx.opset < 11) ctx.fail(`C is required before opset 11 (the model imports opset ${ctx.opset})`);
  const c = ctx.hasInput(2) ? ctx.input(2).shape : undefined;
  if (c !== undefined && !sameShape(broadcastShapes(c, [M, N]) ?? [], [M, N])) {
    ctx.fail(`C [${c.join(', ')}] does not broadcast to [${M}, ${N}]`);
  }
  return { transA, transB, M, K, N, c, alpha: ctx.attributes.float('alpha', 1), beta: ctx.attributes.float('beta', 1) };
}

function evaluateGemm(ctx: NodeContext): ConstTensor[] | undefined {
  const a = ctx.constant(0);
  const b = ctx.constant(1);
  const c = ctx.hasInput(2) ? ctx.constant(2) : undefined;
  if (a === undefined || b === undefined || (ctx.hasInput(2) && c === undefined)) return undefined;
  const { transA, transB, M, K, N, alpha, beta } = gemmShapes(ctx);
  const aAt = (i: number, t: number) => a.values[transA ? t * M + i : i * K + t]!;
  const bAt = (t: number, j: number) => b.values[transB ? j * K + t : t * N + j]!;
  const cIndex = c === undefined ? undefined : broadcastIndex(c.dims, [M, N]);
  const values = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let t = 0; t < K; t++) s += aAt(i, t) * bAt(t, j);
      values[i * N + j] = alpha * s + (c === undefined ? 0 : beta * c.values[cIndex![i * N + j]!]!);
    }
  }
  return [constTensor(a.dataType, [M, N], values)];
}

/**
 * Gemm(x, y) = alpha · op(x) · op(y), with a zero C where opsets before 11
 * require one or the execution provider fails without it (WebGL).
 */
function gemm(g: GradientContext, x: string, y: string, alpha: number, transX: boolean, transY: boolean): string {
  const withoutC = g.opset >= 11 && g.supports('gemmWithoutC');
  const inputs = withoutC ? [x, y] : [x, y, g.literal([0], [1], g.input(0).dataType)];
  return g.op('Gemm', inputs, { alpha: { float: alpha }, transA: { int: transX ? 1 : 0 }, transB: { int: transY ? 1 : 0 } });
}

/**
 * MatMul and Gemm.
 * - MatMul, Y = A·B (NumPy semantics): Ā = unbroadcast(Ȳ·Bᵀ), B̄ = unbroadcast(Aᵀ·Ȳ),
 *   over the batch axes, with 1-D operands promoted to [1, k] and [k, 1] by reshapes.
 * - Gemm, Y = α·A′·B′ + β·C with A′ = op(A), B′ = op(B): Ā′ = α·Ȳ·B′ᵀ, B̄′ = α·A′ᵀ·Ȳ
 *   (transposed back where transA/transB), C̄ = β·unbroadcast(Ȳ); each written as a Gemm.
 */
export const LINEAR_ALGEBRA_OPS: readonly OpDefinition[] = [
  {
    opType: 'MatMul',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: matmulShapes(ctx).out }],
    evaluate: evaluateMatMul,
    gradient: (g) => {
      const { a2, b2, batch, y2, out } = matmulShapes(g);
      const [n, k, m] = [a2[a2.length - 2]!, a2[a2.length - 1]!, b2[b2.length - 1]!];
      const dy = g.reshape(g.dy(0)!, y2, out);
      const grads: Array<string | undefined> = [undefined, undefined];
      if (g.needsGradient(0)) {
        const b = g.reshape(g.inputName(1), b2, g.input(1).shape);
        const da = g.op('MatMul', [dy, transposeLast(g, b, b2)]);
        grads[0] = g.reshape(g.unbroadcast(da, [...batch, n, k], a2), g.input(0).shape, a2);
      }
      if (g.needsGradient(1)) {
        const a = g.reshape(g.inputName(0), a2, g.input(0).shape);
        const db = g.op('MatMul', [transposeLast(g, a, a2), dy]);
        grads[1] = g.reshape(g.unbroadcast(db, [...batch, k, m], b2), g.input(1).shape, b2);
      }
      return grads;
    },
  },
  {
    opType: 'Gemm',
    inferTypes: (ctx) => {
      const { M, N } = gemmShapes(ctx);
      return [{ dataType: ctx.input(0).dataType, shape: [M, N] }];
    },
    evaluate: evaluateGemm,
    gradient: (g) => {
      const { transA, transB, M, N, c, alpha, beta } = gemmShapes(g);
      const dy = g.dy(0)!;
      const a = g.inputName(0);
      const b = g.inputName(1);
      return [
        // Ā = α·Ȳ·B′ᵀ, or its transpose α·B′·Ȳᵀ where A is transposed.
        g.needsGradient(0) ? (transA ? gemm(g, b, dy, alpha, transB, true) : gemm(g, dy, b, alpha, false, !transB)) : undefined,
        // B̄ = α·A′ᵀ·Ȳ, or its transpose α·Ȳᵀ·A′ where B is transposed.
        g.needsGradient(1) ? (transB ? gemm(g, dy, a, alpha, true, transA) : gemm(g, a, dy, alpha, !transA, false)) : undefined,
        c !== undefined && g.needsGradient(2)
          ? g.unbroadcast(beta === 1 ? dy : g.op('Mul', [dy, g.literal([beta], [], g.input(2).dataType)]), [M, N], c)
          : undefined,
      ];
    },
  },
];
