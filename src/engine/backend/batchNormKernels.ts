// Training-mode batch normalisation forward and backward as single passes over the wasm heap (channels last).
import * as tf from '@tensorflow/tfjs-core';
import { heapView, type WasmBackendInternals } from './wasmHeap';

/** Kernel names (wasm only). Forward: x, gamma, beta → y, mean, variance, invStd. Backward: dy, x, mean, invStd, gamma → dx, dGamma, dBeta. */
export const BATCH_NORM_FORWARD = 'SegScopeBatchNormTrain';
export const BATCH_NORM_BACKWARD = 'SegScopeBatchNormTrainGrad';

/**
 * Batch statistics over all axes but the last (two passes, float64 sums: the mean, then Σ(x − μ)², as tfjs' moments
 * computes them), then y = γ·(x − μ)·invStd + β with invStd = 1/√(σ² + ε).
 */
export function batchNormForwardInto(
  x: Float32Array, channels: number, gamma: Float32Array, beta: Float32Array, epsilon: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array, invStd: Float32Array,
): void {
  const C = channels, size = x.length, n = size / C;
  const sum = new Float64Array(C);
  for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) sum[c] += x[i + c];
  const mu = new Float64Array(C);
  for (let c = 0; c < C; c++) mu[c] = sum[c] / n;
  const sq = new Float64Array(C);
  for (let i = 0; i < size; i += C) {
    for (let c = 0; c < C; c++) {
      const d = x[i + c] - mu[c];
      sq[c] += d * d;
    }
  }
  const scale = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const v = sq[c] / n;
    const inv = 1 / Math.sqrt(v + epsilon);
    mean[c] = mu[c];
    variance[c] = v;
    invStd[c] = inv;
    scale[c] = gamma[c] * inv;
  }
  // (x − μ)·scale + β, not x·scale + shift: no cancellation when |μ| ≫ σ.
  for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) y[i + c] = (x[i + c] - mean[c]) * scale[c] + beta[c];
}

/**
 * The closed-form gradient: x̂ = (x − μ)·invStd, dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/n − x̂·dγ/n).
 */
export function batchNormBackwardInto(
  dy: Float32Array, x: Float32Array, channels: number, mean: Float32Array, invStd: Float32Array, gamma: Float32Array,
  dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array,
): void {
  const C = channels, size = x.length, n = size / C;
  const sumDy = new Float64Array(C), sumDyX = new Float64Array(C);
  for (let i = 0; i < size; i += C) {
    for (let c = 0; c < C; c++) {
      const d = dy[i + c];
      sumDy[c] += d;
      sumDyX[c] += d * x[i + c];
    }
  }
  // Σ dy·x̂ = invStd·(Σ dy·x − μ·Σ dy).
  const a = new Float32Array(C), b = new Float32Array(C), k = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const dg = invStd[c] * (sumDyX[c] - mean[c] * sumDy[c]);
    dGamma[c] = dg;
    dBeta[c] = sumDy[c];
    // dx = g·dy − g·dβ/n − g·invStd·(x − μ)·dγ/n with g = γ·invStd, i.e. a·dy + k·(x − μ) + b.
    const g = gamma[c] * invStd[c];
    a[c] = g;
    k[c] = -g * invStd[c] * dg / n;
    b[c] = -g * sumDy[c] / n;
  }
  for (let i = 0; i < size; i += C) {
    for (let c = 0; c < C; c++) dx[i + c] = a[c] * dy[i + c] + k[c] * (x[i + c] - mean[c]) + b[c];
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
      const v = (name: string) => floatView(wasm, inputs[name] as tf.TensorInfo);
      batchNormBackwardInto(v('dy'), v('x'), C, v('mean'), v('invStd'), v('gamma'),
        floatView(wasm, dx), floatView(wasm, dGamma), floatView(wasm, dBeta));
      return [dx, dGamma, dBeta];
    },
  },
];

/** Whether the fused kernels can run these tensors (wasm, float32, channels last with at least one element). */
export function canUseBatchNormKernels(x: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && x.dtype === 'float32' && x.size > 0 &&
    tf.getKernel(BATCH_NORM_FORWARD, 'wasm') !== undefined;
}

/** Registers the fused kernels for wasm. Idempotent. */
export function registerBatchNormKernels(): void {
  for (const k of batchNormKernels) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
}
