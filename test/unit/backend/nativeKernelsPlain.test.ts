// With SEGSCOPE_FMA=0 the plain build of the SIMD kernels (separate multiply and add) runs and agrees with cpu; the
// report says fused multiply-adds are off.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import type { BackendReport } from '../../../src/protocol/runFolder';
import { nativeKernelsFor } from '../../../src/engine/backend/nativeKernels';
import { onBackend, relativeError, seeded, size } from './helpers';

process.env.SEGSCOPE_FMA = '0';
let report: BackendReport;

before(async () => {
  await initBackend('cpu');
  report = await initBackend('wasm', { threads: 1 });
});

test('the report says the kernels run without fused multiply-adds', () => {
  assert.equal(nativeKernelsFor(tf.findBackend('wasm'))?.fma, false);
  assert.deepEqual(report.nativeKernels, { threads: 1, fma: false });
});

test('products, depthwise convolution and bilinear resize (the kernels that multiply-add) agree with cpu', async () => {
  const run = () => {
    const x = tf.tensor4d(seeded(size([2, 12, 10, 24]), 1), [2, 12, 10, 24]);
    const w = tf.tensor4d(seeded(24 * 40, 2), [1, 1, 24, 40]);
    const dw = tf.tensor4d(seeded(9 * 24, 3), [3, 3, 24, 1]);
    const y = tf.conv2d(tf.depthwiseConv2d(x, dw, 1, 'same'), w, 1, 'same');
    return tf.concat([tf.reshape(y, [-1]), tf.reshape(tf.image.resizeBilinear(y, [23, 19], true), [-1])]);
  };
  const expected = await onBackend('cpu', () => tf.tidy(run));
  const actual = await onBackend('wasm', () => tf.tidy(run));
  const err = relativeError(actual.values, expected.values);
  assert.ok(err <= 1e-5, `relative error ${err}`);
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  for (const name of ['matmul_a_b', 'depthwise_forward', 'resize_bilinear'] as const) assert.ok((native.counts.get(name)?.calls ?? 0) > 0, `${name} ran`);
});
