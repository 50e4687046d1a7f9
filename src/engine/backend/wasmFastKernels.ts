// Replaces wasm kernels that are pathologically slow on training-sized tensors (measured by scripts/bench-kernels.ts).
import * as tf from '@tensorflow/tfjs-core';
import { composedKernel } from './composedKernel';
import { nativeKernelsFor } from './nativeKernels';
import {
  matMulAtBNative, matMulAtBShape, nativeMatMulAtBApplies, nativePointwiseInputGradientApplies, nativeProductApplies,
  pointwiseInputGradientNative, productNative, singleMatrix,
} from './nativeProducts';
import { NATIVE_REPLACED_KERNELS, nativeReplacements, splitLastAxisNative } from './nativeReplacements';
import { heapView, makeOutput, type HeapArray, type WasmBackendInternals } from './wasmHeap';
import { asPair, conv2dInputGradient, type ConvGeometry, type PadSpec } from './convMath';

/**
 * Tile by block copies: each axis, innermost first, writes its input rows once and then doubles the written block with
 * copyWithin. Cost is a memcpy of the output instead of one index computation per element.
 */
function tileInto(input: HeapArray, shape: number[], reps: number[], out: HeapArray): void {
  const rank = shape.length;
  const outShape = shape.map((s, i) => s * reps[i]);
  const inStrides = new Array<number>(rank), outBlock = new Array<number>(rank);
  let inStride = 1, block = 1;
  for (let k = rank - 1; k >= 0; k--) {
    inStrides[k] = inStride;
    outBlock[k] = block; // elements of output per index of axis k
    inStride *= shape[k];
    block *= outShape[k];
  }
  const repeat = (start: number, length: number, times: number) => {
    let filled = length;
    const total = length * times;
    while (filled < total) {
      const n = Math.min(filled, total - filled);
      out.copyWithin(start + filled, start, start + n);
      filled += n;
    }
  };
  const fill = (k: number, inOffset: number, outOffset: number) => {
    if (k === rank - 1) {
      out.set(input.subarray(inOffset, inOffset + shape[k]), outOffset);
    } else {
      for (let i = 0; i < shape[k]; i++) fill(k + 1, inOffset + i * inStrides[k], outOffset + i * outBlock[k]);
    }
    repeat(outOffset, shape[k] * outBlock[k], reps[k]);
  };
  if (rank === 0 || tf.util.sizeFromShape(shape) === 0) {
    if (rank === 0) out[0] = input[0];
    return;
  }
  fill(0, 0, 0);
}

/** 2-D transpose in cache-sized tiles. */
function transpose2dInto(x: HeapArray, rows: number, cols: number, out: HeapArray): void {
  const tile = 32;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(r0 + tile, rows);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(c0 + tile, cols);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = x[base + c];
      }
    }
  }
}

/** Kernel names replaced by registerWasmSpeedKernels, for the backend report. */
export const WASM_SPEED_KERNELS = [
  'Conv2DBackpropInput', 'BatchMatMul', 'Tile', 'Transpose', 'Identity', 'Cast', 'Square', 'Slice', 'SplitV', ...NATIVE_REPLACED_KERNELS,
] as const;

/** Swaps the last two axes. */
function transposeInner(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return tf.transpose(t, perm);
}

/**
 * Aᵀ·B and A·Bᵀ as plain products, which stock wasm runs ~8–10× faster than with transposeA or transposeB (they are
 * what every weight gradient of a 1×1 convolution or dense layer, and every input gradient of a dense layer, asks
 * for). Transpose whichever operand is smaller; when that is the other one, compute the transposed product and
 * transpose the (small) result.
 */
function matMulTransposed(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  if (transposeA && transposeB) return transposeInner(tf.matMul(b, a)); // AᵀBᵀ = (BA)ᵀ
  if (transposeA) {
    if (b.size <= a.size) return transposeInner(tf.matMul(transposeInner(b), a)); // AᵀB = (BᵀA)ᵀ
    return tf.matMul(transposeInner(a), b);
  }
  if (a.size <= b.size) return transposeInner(tf.matMul(b, transposeInner(a))); // ABᵀ = (BAᵀ)ᵀ
  return tf.matMul(a, transposeInner(b));
}

/**
 * Slice by copying contiguous runs between heap views. Stock wasm copies the whole input out of the heap first
 * (once per output in SplitV), then gathers element by element.
 */
function sliceInto(x: HeapArray, shape: number[], begin: number[], size: number[], out: HeapArray): void {
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape);
  // Axes after `inner` are taken whole, so each run spans size[inner] * stride[inner] elements.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner]) inner--;
  const run = size[inner] * (inner < rank - 1 ? strides[inner] : 1);
  const outer = size.slice(0, inner);
  const count = tf.util.sizeFromShape(outer);
  const index = new Array<number>(inner).fill(0);
  for (let r = 0; r < count; r++) {
    let offset = begin[inner] * (inner < rank - 1 ? strides[inner] : 1);
    for (let k = 0; k < inner; k++) offset += (begin[k] + index[k]) * strides[k];
    out.set(x.subarray(offset, offset + run), r * run);
    for (let k = inner - 1; k >= 0; k--) {
      if (++index[k] < outer[k]) break;
      index[k] = 0;
    }
  }
}

function sliceKernel(backend: WasmBackendInternals, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) > 0) sliceInto(heapView(backend, x), x.shape, begin, size, heapView(backend, out));
  return out;
}

const stock = new Map<string, tf.KernelConfig>();

const replacements: tf.KernelConfig[] = [
  {
    // Stock: a scalar C loop. Here: 1×1 stride 1 as one native product dy·Wᵀ; the rest as the equivalent stride-1
    // convolution, which XNNPACK runs.
    kernelName: 'Conv2DBackpropInput', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return stock.get('Conv2DBackpropInput')!.kernelFunc(args);
      const native = nativeKernelsFor(args.backend);
      const dy = inputs.dy as tf.TensorInfo, filter = inputs.filter as tf.TensorInfo;
      if (native && nativePointwiseInputGradientApplies(dy, filter, attrs)) {
        // 1×1 stride 1: one product dy·Wᵀ straight into dx (no reshapes, no transposed copy of W).
        const dx = makeOutput(args.backend, attrs.inputShape as number[], 'float32');
        if (tf.util.sizeFromShape(dx.shape) > 0) pointwiseInputGradientNative(native, dy, filter, dx);
        return dx;
      }
      const g: ConvGeometry = {
        strides: asPair(attrs.strides as number | number[]), dilations: [1, 1], pad: attrs.pad as PadSpec,
        dimRoundingMode: attrs.dimRoundingMode as ConvGeometry['dimRoundingMode'],
      };
      return composedKernel(inputs, ({ dy, filter }) => conv2dInputGradient(attrs.inputShape as number[], dy, filter, g));
    },
  },
  {
    kernelName: 'BatchMatMul', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
      const native = nativeKernelsFor(args.backend);
      const transposeA = Boolean(attrs.transposeA), transposeB = Boolean(attrs.transposeB);
      if (native && nativeProductApplies(a, b, transposeA, transposeB)) {
        const rows = singleMatrix(a)![0], cols = transposeB ? singleMatrix(b)![0] : singleMatrix(b)![1];
        const out = makeOutput(args.backend, a.shape.length === 2 ? [rows, cols] : [1, rows, cols], 'float32');
        productNative(native, a, b, transposeB, out);
        return out;
      }
      if (!transposeA && !transposeB) return stock.get('BatchMatMul')!.kernelFunc(args);
      if (native && nativeMatMulAtBApplies(a, b, Boolean(attrs.transposeA), Boolean(attrs.transposeB))) {
        const out = makeOutput(args.backend, matMulAtBShape(a, b), 'float32');
        matMulAtBNative(native, a, b, out);
        return out;
      }
      return composedKernel(inputs, ({ a, b }) => matMulTransposed(a, b, Boolean(attrs.transposeA), Boolean(attrs.transposeB)));
    },
  },
  {
    kernelName: 'Tile', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return stock.get('Tile')!.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const reps = attrs.reps as number[];
      const out = backend.makeOutput(x.shape.map((s, i) => s * reps[i]), x.dtype);
      tileInto(heapView(backend, x), x.shape, reps, heapView(backend, out));
      return out;
    },
  },
  {
    kernelName: 'Transpose', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const x = inputs.x as tf.TensorInfo;
      const perm = attrs.perm as number[];
      if (x.shape.length !== 2 || perm[0] !== 1 || x.dtype === 'string' || x.shape[0] === 1 || x.shape[1] === 1) {
        return stock.get('Transpose')!.kernelFunc(args);
      }
      const backend = args.backend as unknown as WasmBackendInternals;
      const out = backend.makeOutput([x.shape[1], x.shape[0]], x.dtype);
      const native = nativeKernelsFor(args.backend);
      if (native && (x.dtype === 'float32' || x.dtype === 'int32')) {
        const [rows, cols] = x.shape, xOff = native.offset(x), outOff = native.offset(out);
        native.run('transpose2d', rows, cols, (r0, r1) => [xOff, rows, cols, outOff, r0, r1]);
        return out;
      }
      transpose2dInto(heapView(backend, x), x.shape[0], x.shape[1], heapView(backend, out));
      return out;
    },
  },
  {
    // Stock wasm copies the data; every tensor the gradient tape saves (a clone) was duplicated. Share it instead, as
    // tfjs-backend-cpu does: wasm kernels always write into fresh outputs, so shared data is never overwritten.
    kernelName: 'Identity', backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return stock.get('Identity')!.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  },
  {
    // A cast to the tensor's own dtype (the gradient of every clone is one) shares the data like Identity above.
    kernelName: 'Cast', backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string' || x.dtype !== args.attrs?.dtype) return stock.get('Cast')!.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  },
  {
    // Stock wasm Square costs ~40× a Multiply of the same size (Adam squares every gradient on every step).
    kernelName: 'Square', backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype !== 'float32') return stock.get('Square')!.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const out = backend.makeOutput(x.shape, 'float32');
      const xs = heapView(backend, x), ys = heapView(backend, out);
      for (let i = 0; i < ys.length; i++) ys[i] = xs[i] * xs[i];
      return out;
    },
  },
  {
    kernelName: 'Slice', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype === 'string' || x.shape.length === 0) return stock.get('Slice')!.kernelFunc(args);
      const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
      return sliceKernel(args.backend as unknown as WasmBackendInternals, x, begin, size);
    },
  },
  {
    kernelName: 'SplitV', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return stock.get('SplitV')!.kernelFunc(args);
      const axis = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
      const native = axis === x.shape.length - 1 ? splitLastAxisNative(args.backend, x, sizes) : null;
      if (native) return native;
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((s) => {
        const size = x.shape.slice();
        size[axis] = s;
        const out = sliceKernel(args.backend as unknown as WasmBackendInternals, x, begin.slice(), size);
        begin[axis] += s;
        return out;
      });
    },
  },
];

replacements.push(...nativeReplacements((name) => stock.get(name)!));

const ours = new Set<tf.KernelFunc>(replacements.map((k) => k.kernelFunc));

/** Swaps in the faster wasm kernels (keeping the stock ones for the cases they still handle). Idempotent. */
export function registerWasmSpeedKernels(): void {
  for (const config of replacements) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) {
      stock.set(config.kernelName, existing);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
}

/** Puts back the kernels that registerWasmSpeedKernels replaced (for A/B benchmarks). */
export function restoreStockWasmKernels(): void {
  for (const [name, config] of stock) {
    if (ours.has(tf.getKernel(name, 'wasm')?.kernelFunc as tf.KernelFunc)) tf.unregisterKernel(name, 'wasm');
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel(config);
  }
}

/** Which replacements are in effect (for the backend report). */
export function registeredWasmSpeedKernels(): string[] {
  return replacements.filter((k) => ours.has(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc as tf.KernelFunc))
    .map((k) => k.kernelName);
}
