// 1×1 convolutions that also sum their output per channel while it is in cache, for the training BatchNorm after them.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';

/** Shifted per-channel sums of a tensor over all rows: s1 = Σ (x − shift), s2 = Σ (x − shift)² (float64). */
export interface ChannelSums {
  rows: number;
  shift: Float32Array;
  s1: Float64Array;
  s2: Float64Array;
}

/** Sums made by a convolution, keyed by its output's data; taken (and forgotten) by the BatchNorm that reads it. */
const precomputed = new WeakMap<object, ChannelSums>();

/**
 * y = x·W for a 1×1 stride-1 convolution without bias or activation (x [N, H, W, K], y [N, H, W, C]), and the
 * BatchNorm sums of y computed in the same pass, tile by tile (native `matmul_a_b_sums`): each chunk of rows sums
 * relative to its own first row; the chunks are brought to one shift (chunk 0's, i.e. y's first row, as bn_sums uses)
 * exactly in float64 and added in chunk order, so the result does not depend on which thread ran which chunk.
 */
export function pointwiseConvWithSums(native: NativeKernels, x: tf.TensorInfo, filter: tf.TensorInfo, y: tf.TensorInfo): void {
  const K = x.shape[3], C = filter.shape[3];
  const M = tf.util.sizeFromShape(x.shape) / K;
  // A slot: s1, s2 (C doubles each), the shift (C floats), float32 block accumulators (2·C floats).
  const slotBytes = Math.ceil(28 * C / 16) * 16;
  const slots = native.reductionSlots(M, K * C, slotBytes);
  const base = native.malloc(slots * slotBytes + 16);
  try {
    const slot0 = Math.ceil(base / 16) * 16;
    const xOff = native.offset(x), wOff = native.offset(filter), yOff = native.offset(y);
    native.runReduction('matmul_a_b_sums', M, slots, slotBytes, (r0, r1, slot) => {
      const s = slot0 + slot;
      return [xOff, wOff, K, C, yOff, s + 16 * C, s, s + 8 * C, s + 20 * C, r0, r1];
    });
    const units = Math.ceil(M / slots);
    const at = (i: number) => slot0 + i * slotBytes;
    const shift = new Float32Array(native.buffer, at(0) + 16 * C, C).slice();
    const s1 = new Float64Array(C), s2 = new Float64Array(C);
    for (let i = 0; i < slots; i++) {
      const n = Math.min(M, (i + 1) * units) - i * units;
      const part1 = new Float64Array(native.buffer, at(i), C), part2 = new Float64Array(native.buffer, at(i) + 8 * C, C);
      const partShift = new Float32Array(native.buffer, at(i) + 16 * C, C);
      for (let c = 0; c < C; c++) {
        // Σ (v − K) = Σ (v − k) + n·(k − K);  Σ (v − K)² = Σ (v − k)² + 2·(k − K)·Σ (v − k) + n·(k − K)².
        const d = partShift[c] - shift[c];
        s1[c] += part1[c] + n * d;
        s2[c] += part2[c] + 2 * d * part1[c] + n * d * d;
      }
    }
    precomputed.set(y.dataId, { rows: M, shift, s1, s2 });
  } finally {
    native.free(base);
  }
}

/** The sums a convolution left for `x` (C channels over `rows` rows), once; undefined when there are none. */
export function takeChannelSums(x: tf.TensorInfo, C: number, rows: number): ChannelSums | undefined {
  const sums = precomputed.get(x.dataId);
  if (!sums) return undefined;
  precomputed.delete(x.dataId);
  return sums.rows === rows && sums.s1.length === C ? sums : undefined;
}
