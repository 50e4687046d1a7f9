// The fused wasm softmax cross-entropy against the op-by-op loss on the cpu backend: value and gradient w.r.t. logits.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { SOFTMAX_CROSS_ENTROPY } from '../../../src/engine/backend/softmaxCrossEntropyKernel';
import { makeLoss } from '../../../src/engine/losses';
import type { ResolvedConfig } from '../../../src/config/resolve';
import { relativeError, seeded } from '../backend/helpers';

const VOID = 255;

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm', { threads: 1 });
});

function labelsFor(n: number, classes: number, seed: number, allVoid: boolean): Int32Array {
  return Int32Array.from(seeded(n, seed), (v, i) => {
    if (allVoid) return VOID;
    if (i % 7 === 3) return VOID;
    if (i % 11 === 5) return classes + 2; // out of range: void too
    return Math.floor((v + 1) / 2 * classes) % classes;
  });
}

async function lossAndGrad(backend: string, cfg: ResolvedConfig['loss'], shape: number[], labels: Int32Array, weights?: number[], scale = 4) {
  await tf.setBackend(backend);
  let kernelCalls = 0;
  const original = tf.getKernel(SOFTMAX_CROSS_ENTROPY, 'wasm');
  const loss = makeLoss({ ...cfg, classWeights: weights }, { numClasses: shape[3], ignoreLabel: VOID });
  const logits = tf.mul(tf.tensor4d(seeded(shape.reduce((a, b) => a * b), 5), shape as [number, number, number, number]), scale);
  const y = tf.tensor3d(labels, shape.slice(0, 3) as [number, number, number], 'int32');
  const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => { kernelCalls++; return loss(y, x as tf.Tensor4D); })([logits]);
  const result = { value: value.dataSync()[0], grad: grads[0].dataSync() as Float32Array, fused: Boolean(original) && backend === 'wasm' };
  tf.dispose([logits, y, value, ...grads]);
  assert.equal(kernelCalls, 1);
  return result;
}

const base: ResolvedConfig['loss'] = { type: 'ce', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2 };
const cases: { name: string; cfg: ResolvedConfig['loss']; shape: number[]; weights?: number[]; allVoid?: boolean; scale?: number }[] = [
  { name: 'ce, index targets', cfg: base, shape: [2, 5, 6, 4] },
  { name: 'weighted-ce', cfg: { ...base, type: 'weighted-ce' }, shape: [2, 4, 4, 3], weights: [0.5, 2, 1.25] },
  { name: 'ce with one-hot targets, void rows zero', cfg: { ...base, target: 'onehot' }, shape: [1, 7, 5, 21] },
  { name: 'ce, a batch with only void pixels', cfg: base, shape: [1, 3, 3, 3], allVoid: true },
  { name: 'ce, logits so large that float32 probabilities underflow', cfg: base, shape: [1, 4, 4, 5], scale: 300 },
];

for (const c of cases) {
  test(`fused softmax cross-entropy on wasm = op-by-op on cpu: ${c.name}`, async () => {
    const labels = labelsFor(c.shape[0] * c.shape[1] * c.shape[2], c.shape[3], 9, Boolean(c.allVoid));
    const wasm = await lossAndGrad('wasm', c.cfg, c.shape, labels, c.weights, c.scale);
    const cpu = await lossAndGrad('cpu', c.cfg, c.shape, labels, c.weights, c.scale);
    assert.ok(Number.isFinite(wasm.value));
    assert.ok(wasm.fused, 'the fused kernel is registered on wasm');
    assert.ok(Math.abs(wasm.value - cpu.value) <= 1e-5 * Math.max(1, Math.abs(cpu.value)), `loss ${wasm.value} vs ${cpu.value}`);
    if (c.allVoid) {
      assert.equal(wasm.value, 0);
      assert.ok(wasm.grad.every((v) => v === 0));
    } else {
      const err = relativeError(wasm.grad, cpu.grad);
      assert.ok(err <= 1e-5, `gradient relative error ${err}`);
    }
  });
}

test('fused softmax cross-entropy: the gradient of a multiple of the loss is that multiple of the gradient, without leaks', async () => {
  await tf.setBackend('wasm');
  const shape: [number, number, number, number] = [1, 5, 7, 21];
  const logits = tf.tensor4d(seeded(5 * 7 * 21, 12), shape);
  const y = tf.tensor3d(labelsFor(35, 21, 13, false), [1, 5, 7], 'int32');
  const loss = makeLoss(base, { numClasses: 21, ignoreLabel: VOID });
  const before = tf.memory().numTensors;
  const once = tf.grad((x: tf.Tensor) => loss(y, x as tf.Tensor4D))(logits);
  const scaled = tf.grad((x: tf.Tensor) => tf.mul(loss(y, x as tf.Tensor4D), 2.5))(logits);
  assert.equal(tf.memory().numTensors, before + 2);
  const expected = tf.mul(once, 2.5);
  assert.deepEqual(scaled.dataSync(), expected.dataSync());
  tf.dispose([logits, y, once, scaled, expected]);
});
