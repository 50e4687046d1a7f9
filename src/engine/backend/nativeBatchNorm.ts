// Training-mode batch normalisation forward and backward on the native SIMD kernels (same maths as batchNormKernels.ts).
import type * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';
import { gradientCoefficients, statisticsFromSums } from './batchNormMath';

/** An activation fused into the BatchNorm: its kind, and the per-channel scale γ·invStd of the forward pass (float32). */
export interface FusedActivation {
  kind: 'relu' | 'relu6';
  scale: tf.TensorInfo;
}

const ACTIVATION_CODES = { relu: 1, relu6: 2 } as const;

/**
 * Per-call scratch in the heap: `constants` float32 values (shift and scale, or the gradient's coefficients), then one
 * slot per chunk of the reduction (2·C float64 sums, which the kernels overwrite, and 2·C float32 block accumulators);
 * the slot count comes from NativeKernels.reductionSlots. Free `base` after use.
 */
function reductionScratch(native: NativeKernels, rows: number, C: number, constants: number) {
  const slotBytes = Math.ceil(24 * C / 16) * 16, constantBytes = Math.ceil(4 * constants / 16) * 16;
  const slots = native.reductionSlots(rows, C, slotBytes);
  const base = native.malloc(constantBytes + slots * slotBytes + 16);
  const start = Math.ceil(base / 16) * 16;
  const slot0 = start + constantBytes;
  return {
    base, slots, slotBytes, constants: start,
    /** Kernel arguments of slot 0 (the threads move them by chunk·slotBytes): sums s1, s2 (float64), accumulators. */
    sumArgs: [slot0, slot0 + 8 * C, slot0 + 16 * C],
  };
}

/** Adds the slots' float64 sums in slot order (the same order on every run). */
function totals(native: NativeKernels, mem: ReturnType<typeof reductionScratch>, C: number): [Float64Array, Float64Array] {
  const s1 = new Float64Array(C), s2 = new Float64Array(C);
  for (let i = 0; i < mem.slots; i++) {
    const v = new Float64Array(native.buffer, mem.sumArgs[0] + i * mem.slotBytes, 2 * C);
    for (let c = 0; c < C; c++) { s1[c] += v[c]; s2[c] += v[C + c]; }
  }
  return [s1, s2];
}

/**
 * y = γ·(x − μ)·invStd + β with the batch statistics over all axes but the last; writes y, mean, variance and invStd
 * (biased variance, as tfjs' moments). Statistics are shifted by each channel's first value (stable when |μ| ≫ σ).
 */
export function batchNormForwardNative(
  native: NativeKernels, x: tf.TensorInfo, C: number, gamma: tf.TensorInfo, beta: tf.TensorInfo, epsilon: number,
  y: tf.TensorInfo, mean: tf.TensorInfo, variance: tf.TensorInfo, invStd: tf.TensorInfo, rows: number,
  activation?: FusedActivation,
): void {
  // Constants: the shift and the scale (2·C floats).
  const mem = reductionScratch(native, rows, C, 2 * C);
  try {
    const shift = mem.constants;
    // With a fused activation the scale is an output (the gradient recomputes y from it); else scratch.
    const scale = activation ? native.offset(activation.scale) : shift + 4 * C;
    const xOff = native.offset(x);
    new Float32Array(native.buffer, shift, C).set(new Float32Array(native.buffer, xOff, C));
    native.runReduction('bn_sums', rows, mem.slots, mem.slotBytes, (r0, r1, slot) => [xOff, C, shift, ...mem.sumArgs.map((a) => a + slot), r0, r1]);
    const [s1, s2] = totals(native, mem, C);
    const buffer = native.buffer;
    const shiftV = new Float32Array(buffer, shift, C), scaleV = new Float32Array(buffer, scale, C);
    const meanV = new Float32Array(buffer, native.offset(mean), C), varV = new Float32Array(buffer, native.offset(variance), C);
    const invV = new Float32Array(buffer, native.offset(invStd), C), gammaV = new Float32Array(buffer, native.offset(gamma), C);
    statisticsFromSums(s1, s2, rows, shiftV, gammaV, epsilon, meanV, varV, invV, scaleV);
    const meanOff = native.offset(mean), betaOff = native.offset(beta), yOff = native.offset(y);
    if (activation) {
      const act = ACTIVATION_CODES[activation.kind];
      native.run('bn_apply_act', rows, C, (r0, r1) => [xOff, C, meanOff, scale, betaOff, act, yOff, r0, r1]);
    } else {
      native.run('bn_apply', rows, C, (r0, r1) => [xOff, C, meanOff, scale, betaOff, yOff, r0, r1]);
    }
  } finally {
    native.free(mem.base);
  }
}

/** The closed-form gradient: dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/n − x̂·dγ/n). */
export function batchNormBackwardNative(
  native: NativeKernels, dy: tf.TensorInfo, x: tf.TensorInfo, C: number, mean: tf.TensorInfo, invStd: tf.TensorInfo,
  gamma: tf.TensorInfo, dx: tf.TensorInfo, dGamma: tf.TensorInfo, dBeta: tf.TensorInfo, rows: number,
  activation?: FusedActivation & { beta: tf.TensorInfo },
): void {
  // Constants: the coefficients A, K, B (3·C floats).
  const mem = reductionScratch(native, rows, C, 3 * C);
  try {
    const dyOff = native.offset(dy), xOff = native.offset(x), meanOff = native.offset(mean);
    const fused = activation && { scale: native.offset(activation.scale), beta: native.offset(activation.beta), act: ACTIVATION_CODES[activation.kind] };
    const sums = (slot: number) => mem.sumArgs.map((a) => a + slot);
    if (fused) {
      native.runReduction('bn_act_grad_sums', rows, mem.slots, mem.slotBytes,
        (r0, r1, slot) => [dyOff, xOff, C, meanOff, fused.scale, fused.beta, fused.act, ...sums(slot), r0, r1]);
    } else {
      native.runReduction('bn_grad_sums', rows, mem.slots, mem.slotBytes, (r0, r1, slot) => [dyOff, xOff, C, meanOff, ...sums(slot), r0, r1]);
    }
    const [sumDy, sumDyXc] = totals(native, mem, C);
    const a = mem.constants, k = a + 4 * C, b = k + 4 * C;
    const buffer = native.buffer;
    const A = new Float32Array(buffer, a, C), K = new Float32Array(buffer, k, C), B = new Float32Array(buffer, b, C);
    const view = (info: tf.TensorInfo) => new Float32Array(buffer, native.offset(info), C);
    gradientCoefficients(sumDy, sumDyXc, rows, view(invStd), view(gamma), view(dGamma), view(dBeta), A, K, B);
    const dxOff = native.offset(dx);
    if (fused) {
      native.run('bn_act_grad_apply', rows, C, (r0, r1) => [dyOff, xOff, C, meanOff, fused.scale, fused.beta, fused.act, a, k, b, dxOff, r0, r1]);
    } else {
      native.run('bn_grad_apply', rows, C, (r0, r1) => [dyOff, xOff, C, meanOff, a, k, b, dxOff, r0, r1]);
    }
  } finally {
    native.free(mem.base);
  }
}

/** Whether FusedBatchNorm (inference: moving statistics) can run natively: float32, per-channel parameters. */
export function nativeBatchNormInferenceApplies(x: tf.TensorInfo, params: (tf.TensorInfo | undefined)[]): boolean {
  const C = x.shape[x.shape.length - 1];
  return x.dtype === 'float32' && x.shape.length > 0 && C > 0 &&
    params.every((p) => p === undefined || (p.dtype === 'float32' && p.shape.reduce((a, b) => a * b, 1) === C && p.shape[p.shape.length - 1] === C));
}

/** y = (x − mean)·scale/√(variance + ε) + offset with per-channel parameters (scale 1 and offset 0 when absent). */
export function batchNormInferenceNative(
  native: NativeKernels, x: tf.TensorInfo, mean: tf.TensorInfo, variance: tf.TensorInfo, offset: tf.TensorInfo | undefined,
  scale: tf.TensorInfo | undefined, epsilon: number, y: tf.TensorInfo,
): void {
  const C = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / C;
  const raw = native.malloc(8 * C + 16);
  const factor = Math.ceil(raw / 16) * 16, zeros = factor + 4 * C;
  try {
    const buffer = native.buffer;
    const view = (info: tf.TensorInfo) => new Float32Array(buffer, native.offset(info), C);
    const factorV = new Float32Array(buffer, factor, C), varV = view(variance), scaleV = scale ? view(scale) : null;
    for (let c = 0; c < C; c++) factorV[c] = (scaleV ? scaleV[c] : 1) / Math.sqrt(varV[c] + epsilon);
    if (!offset) new Float32Array(buffer, zeros, C).fill(0);
    const xOff = native.offset(x), meanOff = native.offset(mean), yOff = native.offset(y);
    const offsetOff = offset ? native.offset(offset) : zeros;
    native.run('bn_apply', rows, C, (r0, r1) => [xOff, C, meanOff, factor, offsetOff, yOff, r0, r1]);
  } finally {
    native.free(raw);
  }
}
