// With SEGSCOPE_NATIVE_KERNELS=0 (or a runtime where they cannot load) the JavaScript and composed kernels take over,
// and still agree with the cpu backend; the backend report says the SIMD kernels are off and why.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import type { BackendReport } from '../../../src/protocol/runFolder';
import { nativeKernelsFor } from '../../../src/engine/backend/nativeKernels';
import { batchNormTraining } from '../../../src/engine/models';
import { onBackend, relativeError, seeded, size } from './helpers';

process.env.SEGSCOPE_NATIVE_KERNELS = '0';
let report: BackendReport;

before(async () => {
  await initBackend('cpu');
  report = await initBackend('wasm', { threads: 1 });
});

test('the report says the SIMD kernels are off, and why', () => {
  assert.equal(nativeKernelsFor(tf.findBackend('wasm')), null);
  assert.deepEqual(report.nativeKernels, { off: 'SEGSCOPE_NATIVE_KERNELS=0' });
});

test('BatchNorm, activation, depthwise, transpose and Aᵀ·B fallbacks agree with cpu', async () => {
  const shape = [2, 9, 7, 6], C = 6;
  const run = () => {
    const x = tf.tensor(seeded(size(shape), 1), shape), dy = tf.tensor(seeded(size(shape), 2), shape);
    const gamma = tf.tensor1d(seeded(C, 3)), beta = tf.tensor1d(seeded(C, 4));
    const filter = tf.tensor4d(seeded(9 * C, 5), [3, 3, C, 1]);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.relu6(tf.depthwiseConv2d(
      tf.relu(batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, () => undefined)) as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')),
    tf.ones([2, 5, 4, C])));
    const grads = tf.grads(f)([x, gamma, beta, filter]);
    const product = tf.matMul(tf.reshape(x, [-1, C]), tf.reshape(dy, [-1, C]), true, false);
    return tf.concat([...grads.map((g) => tf.reshape(g, [-1])), tf.reshape(product, [-1]), tf.reshape(tf.transpose(tf.reshape(x, [-1, C])), [-1])]);
  };
  const expected = await onBackend('cpu', () => tf.tidy(run));
  const actual = await onBackend('wasm', () => tf.tidy(run));
  const err = relativeError(actual.values, expected.values);
  assert.ok(err <= 1e-4, `relative error ${err}`);
});
