// Pooling and resize gradients on wasm against the cpu backend, an independent reference and the adjoint identity.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, WASM_CORRECTED_KERNELS } from '../../../src/engine/backend';
import { onBackend, relativeError, seeded, size } from './helpers';

const TOLERANCE = 1e-5;

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm', { threads: 1 });
});

test('the corrected kernels are in effect on wasm', async () => {
  const report = await initBackend('wasm', { threads: 1 });
  for (const k of WASM_CORRECTED_KERNELS) assert.ok(report.kernels?.includes(`${k} (corrected)`), k);
});

/** Values rounded to thirds so that many windows hold tied maxima. */
const withTies = (values: Float32Array) => Float32Array.from(values, (v) => Math.round(v * 3) / 3);

/** Max-pool gradient written out directly from its definition: dy of each window to its first maximum. */
function referenceMaxPoolGrad(x: Float32Array, shape: number[], k: number, s: number, pad: 'same' | 'valid', dy: Float32Array): Float32Array {
  const [n, h, w, c] = shape;
  const info = tf.backend_util.computePool2DInfo(shape as [number, number, number, number], k, s, 1, pad);
  const dx = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let oh = 0; oh < info.outHeight; oh++) for (let ow = 0; ow < info.outWidth; ow++) {
    for (let ch = 0; ch < c; ch++) {
      let best = -Infinity, at = -1;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const r = oh * s - info.padInfo.top + i, col = ow * s - info.padInfo.left + j;
        if (r < 0 || r >= h || col < 0 || col >= w) continue;
        const idx = ((b * h + r) * w + col) * c + ch;
        if (x[idx] > best) { best = x[idx]; at = idx; }
      }
      dx[at] += dy[((b * info.outHeight + oh) * info.outWidth + ow) * c + ch];
    }
  }
  return dx;
}

interface PoolCase { x: number[]; k: number; s: number; pad: 'same' | 'valid' }
const poolCases: PoolCase[] = [
  { x: [1, 4, 4, 2], k: 2, s: 2, pad: 'valid' },
  { x: [2, 8, 8, 3], k: 2, s: 2, pad: 'valid' },
  { x: [2, 7, 7, 3], k: 2, s: 2, pad: 'same' },
  { x: [2, 7, 7, 3], k: 3, s: 2, pad: 'same' },
  { x: [1, 6, 6, 2], k: 3, s: 1, pad: 'same' },
  { x: [2, 9, 9, 4], k: 3, s: 2, pad: 'valid' },
  { x: [2, 5, 6, 3], k: 2, s: 1, pad: 'valid' },
  { x: [1, 16, 12, 5], k: 2, s: 2, pad: 'same' },
];

describe('max/avg pooling gradients on wasm', () => {
  for (const c of poolCases) {
    for (const ties of [false, true]) {
      test(`maxPool x ${c.x} k ${c.k} s ${c.s} ${c.pad}${ties ? ' with ties' : ''}`, async () => {
        const xv = ties ? withTies(seeded(size(c.x), 3)) : seeded(size(c.x), 3);
        const info = tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.k, c.s, 1, c.pad);
        const dyv = seeded(size(info.outShape), 5);
        const grad = () => tf.tidy(() => tf.grad((x: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad), tf.tensor(dyv, info.outShape))))(tf.tensor4d(xv, c.x as [number, number, number, number])));
        const reference = referenceMaxPoolGrad(xv, c.x, c.k, c.s, c.pad, dyv);
        const cpu = await onBackend('cpu', grad);
        const wasm = await onBackend('wasm', grad);
        assert.ok(relativeError(cpu.values, reference) <= TOLERANCE, 'cpu vs reference');
        const err = relativeError(wasm.values, cpu.values);
        assert.ok(err <= TOLERANCE, `wasm vs cpu: relative error ${err}`);
      });
    }
    test(`avgPool x ${c.x} k ${c.k} s ${c.s} ${c.pad}`, async () => {
      const xv = seeded(size(c.x), 3);
      const info = tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.k, c.s, 1, c.pad);
      const dyv = seeded(size(info.outShape), 5);
      const grad = () => tf.tidy(() => tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad), tf.tensor(dyv, info.outShape))))(tf.tensor4d(xv, c.x as [number, number, number, number])));
      const err = relativeError((await onBackend('wasm', grad)).values, (await onBackend('cpu', grad)).values);
      assert.ok(err <= TOLERANCE, `relative error ${err}`);
    });
  }
});

const resizeCases: { x: number[]; out: [number, number]; alignCorners: boolean; halfPixel: boolean }[] = [
  { x: [2, 4, 4, 3], out: [8, 8], alignCorners: true, halfPixel: false },
  { x: [2, 3, 5, 2], out: [7, 9], alignCorners: true, halfPixel: false },
  { x: [1, 8, 8, 2], out: [32, 32], alignCorners: true, halfPixel: false },
  { x: [2, 3, 5, 2], out: [7, 9], alignCorners: false, halfPixel: false },
  { x: [2, 4, 6, 2], out: [8, 12], alignCorners: false, halfPixel: true },
  { x: [1, 6, 6, 2], out: [4, 3], alignCorners: false, halfPixel: false },
];

/** ⟨R x, dy⟩ − ⟨x, Rᵀ dy⟩ relative to the terms' size, on the active backend: a gradient must be the forward's adjoint. */
function adjointGap(forward: (x: tf.Tensor4D) => tf.Tensor4D, kernel: string, c: typeof resizeCases[number]): number {
  return tf.tidy(() => {
    const x = tf.tensor4d(seeded(size(c.x), 4), c.x as [number, number, number, number]);
    const dyShape = [c.x[0], c.out[0], c.out[1], c.x[3]];
    const dy = tf.tensor(seeded(size(dyShape), 6), dyShape);
    const dx = tf.engine().runKernel(kernel, { images: x, dy },
      { alignCorners: c.alignCorners, halfPixelCenters: c.halfPixel }) as tf.Tensor;
    const left = tf.sum(tf.mul(forward(x), dy)).dataSync()[0];
    const right = tf.sum(tf.mul(x, tf.reshape(dx, x.shape))).dataSync()[0];
    const scale = tf.sum(tf.abs(tf.mul(forward(x), dy))).dataSync()[0];
    return Math.abs(left - right) / scale;
  });
}

describe('resize gradients on wasm', () => {
  for (const c of resizeCases) {
    const label = `x ${c.x} → ${c.out} alignCorners ${c.alignCorners} halfPixel ${c.halfPixel}`;
    test(`nearest, adjoint of the forward op: ${label}`, async () => {
      await tf.setBackend('wasm');
      const gap = adjointGap((x) => tf.image.resizeNearestNeighbor(x, c.out, c.alignCorners, c.halfPixel),
        'ResizeNearestNeighborGrad', c);
      assert.ok(gap <= 1e-5, `gap ${gap}`);
    });
    test(`nearest on cpu, adjoint of the forward op: ${label}`, async () => {
      await tf.setBackend('cpu');
      const gap = adjointGap((x) => tf.image.resizeNearestNeighbor(x, c.out, c.alignCorners, c.halfPixel),
        'ResizeNearestNeighborGrad', c);
      assert.ok(gap <= 1e-5, `gap ${gap}`);
    });
    if (!c.halfPixel) {
      test(`bilinear vs cpu: ${label}`, async () => {
        const dyShape = [c.x[0], c.out[0], c.out[1], c.x[3]];
        const run = () => tf.tidy(() => tf.engine().runKernel('ResizeBilinearGrad',
          { images: tf.tensor4d(seeded(size(c.x), 4), c.x as [number, number, number, number]), dy: tf.tensor(seeded(size(dyShape), 6), dyShape) },
          { alignCorners: c.alignCorners, halfPixelCenters: false }) as tf.Tensor);
        const err = relativeError((await onBackend('wasm', run)).values, (await onBackend('cpu', run)).values);
        assert.ok(err <= TOLERANCE, `relative error ${err}`);
      });
    }
  }
});
