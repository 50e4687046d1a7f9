// Training-mode batch normalisation forward and backward as single passes over the wasm heap (channels last).
import * as tf from '@tensorflow/tfjs-core';
import { heapView, type WasmBackendInternals } from './wasmHeap';
import { nativeKernelsFor } from './nativeKernels';
import { batchNormBackwardNative, batchNormForwardNative } from './nativeBatchNorm';
import { gradientCoefficients, statisticsFromSums } from './batchNormMath';

/** Kernel names (wasm only). Forward: x, gamma, beta → y, mean, variance, invStd. Backward: dy, x, mean, invStd, gamma → dx, dGamma, dBeta. */
export const BATCH_NORM_FORWARD = 'SegScopeBatchNormTrain';
export const BATCH_NORM_BACKWARD = 'SegScopeBatchNormTrainGrad';
/**
 * The same with the ReLU/ReLU6 after it fused in (native kernels only). Forward: x, gamma, beta → act(y), mean, variance,
 * invStd, scale (γ·invStd). Backward: dz (the activation's output gradient), x, mean, invStd, scale, beta, gamma →
 * dx, dGamma, dBeta; y is recomputed from x exactly as the forward computed it, so the masks agree bit for bit.
 */
export const BATCH_NORM_ACT_FORWARD = 'SegScopeBatchNormActTrain';
export const BATCH_NORM_ACT_BACKWARD = 'SegScopeBatchNormActTrainGrad';

// The loops below take four rows (pixels) per step so that each channel's constants and accumulators are loaded
// once per four elements: about 3× faster in V8 than one row per step (measured on [8,64,64,144]).

/**
 * Batch statistics over all axes but the last in one pass (float64 sums of x − k with k each channel's first value,
 * the "shifted data" variance, stable when |μ| ≫ σ), then y = γ·(x − μ)·invStd + β with invStd = 1/√(σ² + ε).
 * σ² is the biased batch variance, as tfjs' moments computes it.
 */
export function batchNormForwardInto(
  x: Float32Array, channels: number, gamma: Float32Array, beta: Float32Array, epsilon: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array, invStd: Float32Array,
): void {
  const C = channels, rows = x.length / C;
  const shift = x.slice(0, C);
  const s1 = new Float64Array(C), s2 = new Float64Array(C);
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const i0 = r * C, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
    for (let c = 0; c < C; c++) {
      const k = shift[c];
      const a = x[i0 + c] - k, b = x[i1 + c] - k, d = x[i2 + c] - k, e = x[i3 + c] - k;
      s1[c] += (a + b) + (d + e);
      s2[c] += (a * a + b * b) + (d * d + e * e);
    }
  }
  for (; r < rows; r++) {
    const i0 = r * C;
    for (let c = 0; c < C; c++) {
      const a = x[i0 + c] - shift[c];
      s1[c] += a;
      s2[c] += a * a;
    }
  }
  const scale = new Float32Array(C);
  statisticsFromSums(s1, s2, rows, shift, gamma, epsilon, mean, variance, invStd, scale);
  // (x − μ)·scale + β, not x·scale + shift: no cancellation when |μ| ≫ σ.
  r = 0;
  for (; r + 3 < rows; r += 4) {
    const i0 = r * C, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
    for (let c = 0; c < C; c++) {
      const m = mean[c], sc = scale[c], b = beta[c];
      y[i0 + c] = (x[i0 + c] - m) * sc + b;
      y[i1 + c] = (x[i1 + c] - m) * sc + b;
      y[i2 + c] = (x[i2 + c] - m) * sc + b;
      y[i3 + c] = (x[i3 + c] - m) * sc + b;
    }
  }
  for (; r < rows; r++) {
    const i0 = r * C;
    for (let c = 0; c < C; c++) y[i0 + c] = (x[i0 + c] - mean[c]) * scale[c] + beta[c];
  }
}

/**
 * The closed-form gradient: x̂ = (x − μ)·invStd, dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/n − x̂·dγ/n).
 */
export function batchNormBackwardInto(
  dy: Float32Array, x: Float32Array, channels: number, mean: Float32Array, invStd: Float32Array, gamma: Float32Array,
  dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array,
): void {
  const C = channels, rows = x.length / C;
  const sumDy = new Float64Array(C), sumDyXc = new Float64Array(C);
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const i0 = r * C, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
    for (let c = 0; c < C; c++) {
      const m = mean[c];
      const a = dy[i0 + c], b = dy[i1 + c], d = dy[i2 + c], e = dy[i3 + c];
      sumDy[c] += (a + b) + (d + e);
      sumDyXc[c] += (a * (x[i0 + c] - m) + b * (x[i1 + c] - m)) + (d * (x[i2 + c] - m) + e * (x[i3 + c] - m));
    }
  }
  for (; r < rows; r++) {
    const i0 = r * C;
    for (let c = 0; c < C; c++) {
      sumDy[c] += dy[i0 + c];
      sumDyXc[c] += dy[i0 + c] * (x[i0 + c] - mean[c]);
    }
  }
  // dx = g·dy − g·dβ/n − g·invStd·(x − μ)·dγ/n with g = γ·invStd, i.e. a·dy + k·(x − μ) + b.
  const A = new Float32Array(C), B = new Float32Array(C), K = new Float32Array(C);
  gradientCoefficients(sumDy, sumDyXc, rows, invStd, gamma, dGamma, dBeta, A, K, B);
  r = 0;
  for (; r + 3 < rows; r += 4) {
    const i0 = r * C, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
    for (let c = 0; c < C; c++) {
      const a = A[c], k = K[c], b = B[c], m = mean[c];
      dx[i0 + c] = a * dy[i0 + c] + k * (x[i0 + c] - m) + b;
      dx[i1 + c] = a * dy[i1 + c] + k * (x[i1 + c] - m) + b;
      dx[i2 + c] = a * dy[i2 + c] + k * (x[i2 + c] - m) + b;
      dx[i3 + c] = a * dy[i3 + c] + k * (x[i3 + c] - m) + b;
    }
  }
  for (; r < rows; r++) {
    const i0 = r * C;
    for (let c = 0; c < C; c++) dx[i0 + c] = A[c] * dy[i0 + c] + K[c] * (x[i0 + c] - mean[c]) + B[c];
  }
}

const floatView = (backend: WasmBackendInternals, info: tf.TensorInfo) => heapView(backend, info) as Float32Array;

export const batchNormKernels: tf.KernelConfig[] = [
  {
    kernelName: BATCH_NORM_FORWARD, backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const wasm = backend as unknown as WasmBackendInternals;
      const x = inputs.x as tf.TensorInfo, gamma = inputs.gamma as tf.TensorInfo, beta = inputs.beta as tf.TensorInfo;
      const C = x.shape[x.shape.length - 1];
      const y = wasm.makeOutput(x.shape, 'float32');
      const stats = [0, 1, 2].map(() => wasm.makeOutput([C], 'float32'));
      const native = nativeKernelsFor(backend);
      if (native) {
        batchNormForwardNative(native, x, C, gamma, beta, attrs.epsilon as number, y, stats[0], stats[1], stats[2], tf.util.sizeFromShape(x.shape) / C);
        return [y, ...stats];
      }
      batchNormForwardInto(floatView(wasm, x), C, floatView(wasm, gamma), floatView(wasm, beta), attrs.epsilon as number,
        floatView(wasm, y), floatView(wasm, stats[0]), floatView(wasm, stats[1]), floatView(wasm, stats[2]));
      return [y, ...stats];
    },
  },
  {
    kernelName: BATCH_NORM_BACKWARD, backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const wasm = backend as unknown as WasmBackendInternals;
      const x = inputs.x as tf.TensorInfo;
      const C = x.shape[x.shape.length - 1];
      const dx = wasm.makeOutput(x.shape, 'float32');
      const dGamma = wasm.makeOutput([C], 'float32'), dBeta = wasm.makeOutput([C], 'float32');
      const native = nativeKernelsFor(backend);
      if (native) {
        const t = (name: string) => inputs[name] as tf.TensorInfo;
        batchNormBackwardNative(native, t('dy'), x, C, t('mean'), t('invStd'), t('gamma'), dx, dGamma, dBeta, tf.util.sizeFromShape(x.shape) / C);
        return [dx, dGamma, dBeta];
      }
      const v = (name: string) => floatView(wasm, inputs[name] as tf.TensorInfo);
      batchNormBackwardInto(v('dy'), v('x'), C, v('mean'), v('invStd'), v('gamma'),
        floatView(wasm, dx), floatView(wasm, dGamma), floatView(wasm, dBeta));
      return [dx, dGamma, dBeta];
    },
  },
];

function requireNative(backend: unknown, kernel: string) {
  const native = nativeKernelsFor(backend);
  if (!native) throw new Error(`${kernel} needs SegScope's native kernels (see canFuseActivation)`);
  return native;
}

batchNormKernels.push(
  {
    kernelName: BATCH_NORM_ACT_FORWARD, backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const native = requireNative(backend, BATCH_NORM_ACT_FORWARD);
      const wasm = backend as unknown as WasmBackendInternals;
      const x = inputs.x as tf.TensorInfo;
      const C = x.shape[x.shape.length - 1];
      const z = wasm.makeOutput(x.shape, 'float32');
      const stats = [0, 1, 2, 3].map(() => wasm.makeOutput([C], 'float32'));
      batchNormForwardNative(native, x, C, inputs.gamma as tf.TensorInfo, inputs.beta as tf.TensorInfo, attrs.epsilon as number,
        z, stats[0], stats[1], stats[2], tf.util.sizeFromShape(x.shape) / C, { kind: attrs.activation as 'relu' | 'relu6', scale: stats[3] });
      return [z, ...stats];
    },
  },
  {
    kernelName: BATCH_NORM_ACT_BACKWARD, backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const native = requireNative(backend, BATCH_NORM_ACT_BACKWARD);
      const wasm = backend as unknown as WasmBackendInternals;
      const t = (name: string) => inputs[name] as tf.TensorInfo;
      const x = t('x');
      const C = x.shape[x.shape.length - 1];
      const dx = wasm.makeOutput(x.shape, 'float32');
      const dGamma = wasm.makeOutput([C], 'float32'), dBeta = wasm.makeOutput([C], 'float32');
      batchNormBackwardNative(native, t('dz'), x, C, t('mean'), t('invStd'), t('gamma'), dx, dGamma, dBeta,
        tf.util.sizeFromShape(x.shape) / C, { kind: attrs.activation as 'relu' | 'relu6', scale: t('scale'), beta: t('beta') });
      return [dx, dGamma, dBeta];
    },
  },
);

/** Whether BatchNorm and the activation after it can run as one op here (wasm with SegScope's native kernels). */
export function canFuseActivation(x: tf.Tensor): boolean {
  return canUseBatchNormKernels(x) && nativeKernelsFor(tf.backend()) !== null;
}

/** Whether the fused kernels can run these tensors (wasm, float32, channels last with at least one element). */
export function canUseBatchNormKernels(x: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && x.dtype === 'float32' && x.size > 0 &&
    tf.getKernel(BATCH_NORM_FORWARD, 'wasm') !== undefined;
}

/** Registers the fused kernels for wasm. Idempotent. */
export function registerBatchNormKernels(): void {
  for (const k of batchNormKernels) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
}
