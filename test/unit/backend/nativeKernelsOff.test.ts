// With SEGSCOPE_NATIVE_KERNELS=0 (or a runtime where they cannot load) the JavaScript and composed kernels take over,
// and still agree with the cpu backend; the backend report says the SIMD kernels are off and why.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import type { BackendReport } from '../../../src/protocol/runFolder';
import { nativeKernelsFor } from '../../../src/engine/backend/nativeKernels';
import { batchNormTraining } from '../../../src/engine/models';
import { fusedSoftmaxCrossEntropy } from '../../../src/engine/losses/softmaxCrossEntropy';
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

test('fused softmax cross-entropy falls back to wasm Softmax and the JavaScript loss, and agrees with cpu', async () => {
  const [N, H, W, C] = [2, 9, 7, 21];
  const logits = Float32Array.from(seeded(N * H * W * C, 6), (v) => v * 40);
  const labels = Int32Array.from(seeded(N * H * W, 7), (v, i) => (i % 5 === 0 ? 255 : i % 9 === 0 ? C : Math.floor((v + 1) / 2 * C) % C));
  const weights = Array.from({ length: C }, (_, k) => 0.5 + k / C);
  const run = (fused: boolean) => () => tf.tidy(() => {
    const y = tf.tensor3d(labels, [N, H, W], 'int32');
    const loss = (z: tf.Tensor) => {
      if (fused) return fusedSoftmaxCrossEntropy(y, z as tf.Tensor4D, 255, weights);
      const valid = tf.logicalAnd(tf.notEqual(y, 255), tf.less(y, C));
      const safe = tf.where(valid, y, tf.zerosLike(y));
      const w = tf.mul(tf.gather(tf.tensor1d(weights), safe), tf.cast(valid, 'float32'));
      return tf.div(tf.neg(tf.sum(tf.mul(w, tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(safe, C)), -1)))), tf.sum(w)) as tf.Scalar;
    };
    const { value, grad } = tf.valueAndGrad(loss)(tf.tensor4d(logits, [N, H, W, C]));
    return tf.concat([tf.reshape(value, [1]), tf.reshape(grad, [-1])]);
  });
  const expected = await onBackend('cpu', run(false));
  const actual = await onBackend('wasm', run(true));
  assert.ok(Math.abs(actual.values[0] - expected.values[0]) <= 1e-5 * Math.abs(expected.values[0]), `loss ${actual.values[0]} vs ${expected.values[0]}`);
  const err = relativeError(actual.values.subarray(1), expected.values.subarray(1));
  assert.ok(err <= 1e-4, `gradient: relative error ${err}`);
});
