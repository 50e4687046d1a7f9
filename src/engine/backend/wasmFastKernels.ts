// Replaces wasm kernels that are pathologically slow on training-sized tensors (measured by scripts/bench-kernels.ts).
import * as tf from '@tensorflow/tfjs-core';
import { composedKernel } from './composedKernel';
import { asPair, conv2dInputGradient, type ConvGeometry, type PadSpec } from './convMath';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** A typed-array view of a tensor's bytes in the wasm heap (taken after any allocation, which may grow the heap). */
function heapView(backend: WasmBackendInternals, info: tf.TensorInfo): HeapArray {
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
  const offset = backend.dataIdMap.get(info.dataId).memoryOffset;
  const n = tf.util.sizeFromShape(info.shape);
  if (info.dtype === 'float32') return new Float32Array(buffer, offset, n);
  if (info.dtype === 'int32') return new Int32Array(buffer, offset, n);
  return new Uint8Array(buffer, offset, n);
}

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

/**
 * Depthwise filter gradient as one pass over dy on the heap: dW[a,b,c,q] = Σ x[n, i·s+a·d−pad, j·s+b·d−pad, c] · dy[n,i,j,c·m+q].
 * The innermost loop runs over contiguous channels; sums are kept in float64.
 */
function depthwiseFilterGradientInto(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo, out: Float32Array): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh,
    filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const m = info.outChannels / c;
  const cm = c * m;
  const top = info.padInfo.top, left = info.padInfo.left;
  const acc = new Float64Array(kh * kw * cm);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let fa = 0; fa < kh; fa++) {
        const xi = i * sh + fa * dh - top;
        if (xi < 0 || xi >= h) continue;
        for (let j = 0; j < ow; j++) {
          const dyBase = ((b * oh + i) * ow + j) * cm;
          for (let fb = 0; fb < kw; fb++) {
            const xj = j * sw + fb * dw - left;
            if (xj < 0 || xj >= w) continue;
            const xBase = ((b * h + xi) * w + xj) * c;
            const wBase = (fa * kw + fb) * cm;
            if (m === 1) {
              for (let k = 0; k < c; k++) acc[wBase + k] += x[xBase + k] * dy[dyBase + k];
            } else {
              for (let k = 0; k < c; k++) {
                const xv = x[xBase + k];
                for (let q = 0; q < m; q++) acc[wBase + k * m + q] += xv * dy[dyBase + k * m + q];
              }
            }
          }
        }
      }
    }
  }
  for (let k = 0; k < acc.length; k++) out[k] = acc[k];
}

/** Column sums of a [rows, cols] float32 view (a sum over leading axes), in float64. */
function sumLeadingInto(x: Float32Array, rows: number, cols: number, out: Float32Array, scale: number): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let k = 0; k < cols; k++) acc[k] += x[base + k];
  }
  for (let k = 0; k < cols; k++) out[k] = acc[k] * scale;
}

/** If `axes` are exactly the leading axes 0..k-1 of `shape`, the number of rows they span; else null. */
function leadingRows(shape: number[], axisAttr: unknown): number | null {
  const axes = tf.util.parseAxisParam(axisAttr as number | number[], shape).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length === shape.length || axes.some((a, i) => a !== i)) return null;
  return tf.util.sizeFromShape(shape.slice(0, axes.length));
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
  'Conv2DBackpropInput', 'Tile', 'DepthwiseConv2dNativeBackpropFilter', 'Sum', 'Mean', 'Transpose',
] as const;

/** Sum or Mean: over leading axes of float32 directly on the heap (stock wasm transposes the whole input first). */
function reduceLeading(kernelName: 'Sum' | 'Mean'): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs = {} } = args;
    const x = inputs.x as tf.TensorInfo;
    const rows = x.dtype === 'float32' ? leadingRows(x.shape, attrs.axis) : null;
    if (rows == null || rows === 0) return stock.get(kernelName)!.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackendInternals;
    const reduced = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).length;
    const keep = x.shape.slice(reduced);
    const outShape = attrs.keepDims ? [...x.shape.slice(0, reduced).map(() => 1), ...keep] : keep;
    const out = backend.makeOutput(outShape, 'float32');
    sumLeadingInto(heapView(backend, x) as Float32Array, rows, tf.util.sizeFromShape(keep), heapView(backend, out) as Float32Array,
      kernelName === 'Mean' ? 1 / rows : 1);
    return out;
  };
}

const stock = new Map<string, tf.KernelConfig>();

const replacements: tf.KernelConfig[] = [
  {
    // Stock: a scalar C loop. Here: the equivalent stride-1 convolution, which XNNPACK runs.
    kernelName: 'Conv2DBackpropInput', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return stock.get('Conv2DBackpropInput')!.kernelFunc(args);
      const g: ConvGeometry = {
        strides: asPair(attrs.strides as number | number[]), dilations: [1, 1], pad: attrs.pad as PadSpec,
        dimRoundingMode: attrs.dimRoundingMode as ConvGeometry['dimRoundingMode'],
      };
      return composedKernel(inputs, ({ dy, filter }) => conv2dInputGradient(attrs.inputShape as number[], dy, filter, g));
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
    // Replaces our own composed version (a depthwise convolution with a dy-sized filter, which XNNPACK runs slowly).
    kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const backend = args.backend as unknown as WasmBackendInternals;
      const x = inputs.x as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const filterShape = attrs.filterShape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
        asPair(attrs.strides as number | number[]), asPair(attrs.dilations as number | number[] | undefined),
        attrs.pad as PadSpec, attrs.dimRoundingMode as ConvGeometry['dimRoundingMode'], true);
      const out = backend.makeOutput(filterShape, 'float32');
      depthwiseFilterGradientInto(heapView(backend, x) as Float32Array, heapView(backend, dy) as Float32Array, info,
        heapView(backend, out) as Float32Array);
      return out;
    },
  },
  { kernelName: 'Sum', backendName: 'wasm', kernelFunc: reduceLeading('Sum') },
  { kernelName: 'Mean', backendName: 'wasm', kernelFunc: reduceLeading('Mean') },
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
      transpose2dInto(heapView(backend, x), x.shape[0], x.shape[1], heapView(backend, out));
      return out;
    },
  },
];

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
