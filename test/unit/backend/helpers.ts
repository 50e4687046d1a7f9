// Shared test helpers for the backend tests: seeded data, relative error, running a kernel on a chosen backend.
import * as tf from '@tensorflow/tfjs-core';

/** Deterministic uniform values in [-1, 1). */
export function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** max|a-b| / max(1e-6, max|b|): the error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(1e-6, scale);
}

/** Runs `work` with `backend` active and returns the values and shape of its result. */
export async function onBackend(backend: string, work: () => tf.Tensor): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const t = work();
  const values = (await t.data()) as Float32Array;
  const shape = t.shape;
  t.dispose();
  return { values, shape };
}

/** Inserts (d-1) zero taps between the taps of a [kh, kw, a, b] filter, computed on the host: the undilated equivalent. */
export function dilateFilter(values: Float32Array, shape: number[], dh: number, dw: number): { values: Float32Array; shape: number[] } {
  const [kh, kw, a, b] = shape;
  const eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * a * b);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let k = 0; k < a * b; k++) {
    out[((i * dh) * ew + j * dw) * a * b + k] = values[(i * kw + j) * a * b + k];
  }
  return { values: out, shape: [eh, ew, a, b] };
}

/** The taps of a dilated-filter gradient that correspond to the real filter taps. */
export function undilateFilter(values: Float32Array, shape: number[], dh: number, dw: number, kh: number, kw: number): Float32Array {
  const [, ew, a, b] = shape;
  const out = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let k = 0; k < a * b; k++) {
    out[(i * kw + j) * a * b + k] = values[((i * dh) * ew + j * dw) * a * b + k];
  }
  return out;
}
