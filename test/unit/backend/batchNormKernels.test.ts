// The fused wasm BatchNorm training kernels against the op-by-op path on the cpu backend: output, statistics, gradients.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { BATCH_NORM_FORWARD } from '../../../src/engine/backend/batchNormKernels';
import * as tfl from '@tensorflow/tfjs-layers';
import { MOVING_AVERAGES, updatedMovingAverages } from '../../../src/engine/backend/movingAverageKernel';
import { BatchNorm, batchNormTraining } from '../../../src/engine/models';
import { relativeError, seeded, size } from './helpers';

const TOLERANCE = 1e-4;

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm', { threads: 1 });
});

interface Result { y: Float32Array; mean: Float32Array; variance: Float32Array; dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array }

async function run(backend: string, shape: number[], offset: number): Promise<Result> {
  await tf.setBackend(backend);
  const C = shape[shape.length - 1];
  let kernelRuns = 0;
  return tf.tidy(() => {
    const x = tf.add(tf.mul(tf.tensor(seeded(size(shape), 1), shape), 3), offset);
    const dy = tf.tensor(seeded(size(shape), 2), shape);
    const gamma = tf.tensor1d(Float32Array.from(seeded(C, 3), (v) => v + 1.2));
    const beta = tf.tensor1d(seeded(C, 4));
    const stats: Float32Array[] = [];
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5,
      (m, v) => { stats.push(m.dataSync() as Float32Array, v.dataSync() as Float32Array); kernelRuns++; }), dy));
    const y = batchNormTraining(x, gamma, beta, 1e-5, () => undefined);
    const [dx, dGamma, dBeta] = tf.grads(f)([x, gamma, beta]);
    assert.ok(kernelRuns > 0);
    return {
      y: y.dataSync() as Float32Array, mean: stats[0], variance: stats[1],
      dx: dx.dataSync() as Float32Array, dGamma: dGamma.dataSync() as Float32Array, dBeta: dBeta.dataSync() as Float32Array,
    };
  });
}

for (const [shape, offset] of [[[2, 3, 4, 5], 0], [[4, 8, 8, 16], 0.7], [[3, 5, 7], 40], [[8, 6], -2], [[3, 1, 1, 3], 0]] as [number[], number][]) {
  test(`wasm fused BatchNorm = cpu op-by-op: shape ${shape}, mean offset ${offset}`, async () => {
    await tf.setBackend('wasm');
    assert.ok(tf.getKernel(BATCH_NORM_FORWARD, 'wasm'), 'fused kernel registered');
    const wasm = await run('wasm', shape, offset);
    const cpu = await run('cpu', shape, offset);
    for (const key of ['y', 'mean', 'variance', 'dx', 'dGamma', 'dBeta'] as const) {
      const err = relativeError(wasm[key], cpu[key]);
      assert.ok(err <= TOLERANCE, `${key}: relative error ${err}`);
    }
    assert.ok(wasm.dx.some((v) => Math.abs(v) > 1e-3), 'dx not trivially zero');
  });
}

test('fused BatchNorm leaks no tensors on wasm', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const x = tf.tensor(seeded(2 * 3 * 3 * 4, 9), [2, 3, 3, 4]);
  const g = tf.ones([4]) as tf.Tensor1D, b = tf.zeros([4]) as tf.Tensor1D;
  const grads = tf.grads((a: tf.Tensor) => tf.sum(tf.square(batchNormTraining(a, g, b, 1e-5, () => undefined))))([x]);
  tf.dispose([x, g, b, ...grads]);
  assert.equal(tf.memory().numTensors, before);
});

test('moving averages: one wasm kernel, bit for bit the op-by-op update, and the same in the layer as stock tfjs BatchNormalization', async () => {
  await tf.setBackend('wasm');
  const C = 37;
  for (const momentum of [0.99, 0.9, 0.1]) {
    const moving = [tf.tensor1d(seeded(C, 51)), tf.tensor1d(Float32Array.from(seeded(C, 52), (v) => v + 1.5))];
    const batch = [tf.tensor1d(Float32Array.from(seeded(C, 53), (v) => v * 40)), tf.tensor1d(Float32Array.from(seeded(C, 54), (v) => v * v))];
    const expected = moving.map((m, i) => tf.sub(m, tf.mul(tf.sub(m, batch[i]), 1 - momentum)).dataSync());
    const profile = await tf.profile(() => updatedMovingAverages(moving[0], moving[1], batch[0], batch[1], momentum));
    assert.deepEqual(profile.kernelNames, [MOVING_AVERAGES]);
    const actual = updatedMovingAverages(moving[0], moving[1], batch[0], batch[1], momentum);
    actual.forEach((t, i) => assert.deepEqual(t.dataSync(), expected[i], `momentum ${momentum}, ${i === 0 ? 'mean' : 'variance'}`));
    tf.dispose([...moving, ...batch, ...actual]);
  }
  const x = tf.tensor(Float32Array.from(seeded(4 * 5 * 6 * 7, 55), (v) => v * 3 + 2), [4, 5, 6, 7]);
  const stats = (layer: tfl.layers.Layer) => {
    for (let i = 0; i < 3; i++) tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
    return layer.getWeights().slice(2).map((w) => w.dataSync());
  };
  const ours = stats(new BatchNorm({ momentum: 0.9 }));
  const stock = stats(tfl.layers.batchNormalization({ momentum: 0.9 }));
  ours.forEach((s, i) => assert.ok(relativeError(s, stock[i]) < 1e-6, `moving ${i === 0 ? 'mean' : 'variance'} after 3 steps`));
  x.dispose();
});
