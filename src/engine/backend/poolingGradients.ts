// Correct gradients for max pooling (wasm) and nearest-neighbour resizing (wasm and cpu): tfjs 4.22's drop or misplace entries.
import * as tf from '@tensorflow/tfjs-core';
import { heapView, type WasmBackendInternals } from './wasmHeap';

/**
 * dx of max pooling, NHWC: each window's dy goes to the first maximum of the window in row-major order (strict `>`,
 * as tfjs-backend-cpu and PyTorch pick it), so ties get the gradient once, not once per tied element.
 * Windows overlap when the stride is below the filter size; their contributions add up.
 */
export function maxPoolGradInto(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const effH = info.effectiveFilterHeight, effW = info.effectiveFilterWidth;
  const dilH = info.dilationHeight, dilW = info.dilationWidth;
  const padTop = info.padInfo.top, padLeft = info.padInfo.left;
  dx.fill(0);
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowCorner = oh * strideHeight - padTop;
      let rowStart = rowCorner;
      while (rowStart < 0) rowStart += dilH;
      const rowEnd = Math.min(H, rowCorner + effH);
      for (let ow = 0; ow < outWidth; ow++) {
        const colCorner = ow * strideWidth - padLeft;
        let colStart = colCorner;
        while (colStart < 0) colStart += dilW;
        const colEnd = Math.min(W, colCorner + effW);
        best.fill(-Infinity);
        where.fill(-1);
        for (let r = rowStart; r < rowEnd; r += dilH) {
          for (let c = colStart; c < colEnd; c += dilW) {
            const base = ((b * H + r) * W + c) * C;
            for (let ch = 0; ch < C; ch++) {
              const v = x[base + ch];
              if (v > best[ch]) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const outBase = ((b * outHeight + oh) * outWidth + ow) * C;
        for (let ch = 0; ch < C; ch++) if (where[ch] >= 0) dx[where[ch]] += dy[outBase + ch];
      }
    }
  }
}

/**
 * dx of nearest-neighbour resizing, NHWC: each output pixel's dy goes to the input pixel its forward pass read, with
 * the source index of tfjs' ResizeNearestNeighbor (align-corners rounds, otherwise floor; half-pixel centres shift by
 * ½), so the gradient is exactly the transpose of the forward op.
 */
export function resizeNearestGradInto(
  dy: Float32Array, dyShape: number[], inHeight: number, inWidth: number,
  alignCorners: boolean, halfPixelCenters: boolean, dx: Float32Array,
): void {
  const [batch, outHeight, outWidth, C] = dyShape;
  dx.fill(0);
  const scale = (inSize: number, outSize: number) =>
    alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const source = (o: number, s: number, inSize: number) => {
    const v = halfPixelCenters ? (o + 0.5) * s : o * s;
    const i = alignCorners ? Math.round(v) : Math.floor(v);
    return Math.min(inSize - 1, Math.max(0, i));
  };
  const sh = scale(inHeight, outHeight), sw = scale(inWidth, outWidth);
  const cols = new Int32Array(outWidth);
  for (let ow = 0; ow < outWidth; ow++) cols[ow] = source(ow, sw, inWidth);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const r = source(oh, sh, inHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const to = ((b * inHeight + r) * inWidth + cols[ow]) * C;
        const from = ((b * outHeight + oh) * outWidth + ow) * C;
        for (let ch = 0; ch < C; ch++) dx[to + ch] += dy[from + ch];
      }
    }
  }
}

const floatView = (backend: WasmBackendInternals, info: tf.TensorInfo) => heapView(backend, info) as Float32Array;

/** Kernels that replace stock wasm ones whose results are wrong. */
export const correctedKernels: tf.KernelConfig[] = [
  {
    kernelName: 'MaxPoolGrad', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const wasm = backend as unknown as WasmBackendInternals;
      const input = inputs.input as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number],
        attrs.filterSize as [number, number] | number, attrs.strides as [number, number] | number, 1,
        attrs.pad as 'same' | 'valid' | number, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
      const dx = wasm.makeOutput(input.shape, 'float32');
      maxPoolGradInto(floatView(wasm, input), floatView(wasm, dy), info, floatView(wasm, dx));
      return dx;
    },
  },
  {
    kernelName: 'ResizeNearestNeighborGrad', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const wasm = backend as unknown as WasmBackendInternals;
      const images = inputs.images as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const dx = wasm.makeOutput(images.shape, 'float32');
      resizeNearestGradInto(floatView(wasm, dy), dy.shape, images.shape[1], images.shape[2],
        Boolean(attrs.alignCorners), Boolean(attrs.halfPixelCenters), floatView(wasm, dx));
      return dx;
    },
  },
];

/** The parts of tfjs-backend-cpu's MathBackendCPU a JavaScript kernel uses. */
interface CpuBackendInternals {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad fails the adjoint identity too; same replacement. */
export const correctedCpuKernels: tf.KernelConfig[] = [
  {
    kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const cpu = backend as unknown as CpuBackendInternals;
      const images = inputs.images as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const dx = new Float32Array(tf.util.sizeFromShape(images.shape));
      resizeNearestGradInto(Float32Array.from(cpu.data.get(dy.dataId).values), dy.shape, images.shape[1], images.shape[2],
        Boolean(attrs.alignCorners), Boolean(attrs.halfPixelCenters), dx);
      return cpu.makeTensorInfo(images.shape, 'float32', dx);
    },
  },
];

const cpuOurs = new Set<tf.KernelFunc>(correctedCpuKernels.map((k) => k.kernelFunc));

/** Replaces the wrong cpu kernels. Idempotent; call after the cpu backend is registered. */
export function registerCorrectedCpuKernels(): void {
  for (const config of correctedCpuKernels) {
    const existing = tf.getKernel(config.kernelName, 'cpu');
    if (existing && cpuOurs.has(existing.kernelFunc)) continue;
    if (existing) tf.unregisterKernel(config.kernelName, 'cpu');
    tf.registerKernel(config);
  }
}
