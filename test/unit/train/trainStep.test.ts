// One training step: L2 weight decay on kernels only, per-layer gradient norms and update ratios checked against
// independent computations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { isDecayedWeight, trainStep, type TrainStepContext } from '../../../src/engine/train/trainStep';

const S = 4, B = 2, C = 3;

function tinySegmenter(): tfl.LayersModel {
  const input = tfl.input({ shape: [S, S, 3] });
  const a = tfl.layers.conv2d({ name: 'first', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }).apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers.conv2d({ name: 'logits', filters: C, kernelSize: 1,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(a) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Mean squared distance of the logits to a one-hot of the labels: a simple differentiable stand-in loss. */
const loss = (labels: tf.Tensor, output: tf.Tensor) => tf.tidy(() =>
  tf.mean(tf.square(tf.sub(output, tf.oneHot(tf.cast(labels, 'int32'), C)))) as tf.Scalar);

function batch() {
  const images = Float32Array.from({ length: B * S * S * 3 }, (_, i) => Math.sin(i));
  const masks = Int32Array.from({ length: B * S * S }, (_, i) => i % C);
  return { images, masks, batchSize: B, size: S };
}

function context(model: tfl.LayersModel, weightDecay: number, lr = 0.1): TrainStepContext {
  const pairs = model.layers.flatMap((l) => l.trainableWeights.map((w) => ({ w, layer: l.name })));
  return {
    model, optimizer: tf.train.sgd(lr), loss, weightDecay,
    variables: pairs.map((p) => p.w.read() as tf.Variable),
    variableLayers: pairs.map((p) => p.layer),
    decayed: pairs.map((p, i) => (isDecayedWeight(p.w.originalName) ? i : -1)).filter((i) => i >= 0),
  };
}

test('isDecayedWeight picks kernels, not biases or BatchNorm parameters', () => {
  assert.ok(isDecayedWeight('first/kernel'));
  assert.ok(isDecayedWeight('block/dw/depthwise_kernel'));
  assert.ok(isDecayedWeight('x/kernel_1'));
  for (const n of ['first/bias', 'bn/gamma', 'bn/beta', 'bn/moving_mean']) assert.equal(isDecayedWeight(n), false, n);
});

test('weight decay adds 2·wd·w to kernel gradients only (SGD step compared with and without decay)', async () => {
  await tf.setBackend('cpu');
  const wd = 0.01, lr = 0.1;
  const plain = tinySegmenter();
  const decayed = tinySegmenter();
  const before = plain.getWeights().map((w) => w.arraySync());
  const c1 = context(plain, 0, lr), c2 = context(decayed, wd, lr);
  const r1 = trainStep(c1, batch(), false);
  const r2 = trainStep(c2, batch(), false);
  const w1 = plain.getWeights(), w2 = decayed.getWeights();
  plain.weights.forEach((w, i) => {
    const diff = tf.sub(w2[i], w1[i]).dataSync();
    const expected = tf.mul(tf.tensor(before[i] as number[]), -lr * 2 * wd).dataSync();
    const isKernel = w.originalName.endsWith('kernel');
    diff.forEach((d, k) => assert.ok(Math.abs(d - (isKernel ? expected[k] : 0)) < 1e-6, `${w.originalName}[${k}]: ${d}`));
  });
  // the reported loss includes the L2 term
  const l2 = plain.weights.reduce((sum, w, i) => (w.originalName.endsWith('kernel')
    ? sum + (before[i] as number[]).flat(4 as 1).reduce((a: number, v) => a + (v as number) ** 2, 0) : sum), 0);
  assert.ok(Math.abs(r2.loss - (r1.loss + wd * l2)) < 1e-5, `${r2.loss} vs ${r1.loss} + ${wd * l2}`);
  assert.equal(r1.predictions.length, B * S * S);
  plain.dispose(); decayed.dispose(); c1.optimizer.dispose(); c2.optimizer.dispose();
});

test('measured gradient norms and update ratios match an independent computation; no tensors leak', async () => {
  await tf.setBackend('cpu');
  const model = tinySegmenter();
  const ctx = context(model, 0, 0.1);
  const { images, masks } = batch();
  // independent: tf.grads of the same loss, per layer ‖g‖; SGD update Δw = −lr·g
  const x = tf.tensor4d(images, [B, S, S, 3]);
  const y = tf.tensor3d(masks, [B, S, S], 'int32');
  const { grads } = tf.variableGrads(() => loss(y, model.apply(x, { training: true }) as tf.Tensor), ctx.variables);
  const expectNorm: Record<string, number> = {};
  const expectRatio: Record<string, number> = {};
  for (const layer of ['first', 'logits']) {
    const idx = ctx.variableLayers.map((l, i) => (l === layer ? i : -1)).filter((i) => i >= 0);
    const g2 = idx.reduce((s, i) => s + tf.sum(tf.square(grads[ctx.variables[i].name])).dataSync()[0], 0);
    const w2 = idx.reduce((s, i) => s + tf.sum(tf.square(tf.sub(ctx.variables[i], tf.mul(grads[ctx.variables[i].name], 0.1)))).dataSync()[0], 0);
    expectNorm[layer] = Math.sqrt(g2);
    expectRatio[layer] = (0.1 * Math.sqrt(g2)) / Math.sqrt(w2);
  }
  tf.dispose([x, y, ...Object.values(grads)]);
  const count = tf.memory().numTensors;
  const r = trainStep(ctx, { images, masks, batchSize: B, size: S }, true);
  assert.equal(tf.memory().numTensors, count);
  for (const layer of ['first', 'logits']) {
    assert.ok(Math.abs(r.gradNorms![layer] - expectNorm[layer]) < 1e-5 * Math.max(1, expectNorm[layer]), `${layer} grad ${r.gradNorms![layer]} vs ${expectNorm[layer]}`);
    assert.ok(Math.abs(r.updateRatios![layer] - expectRatio[layer]) < 1e-5, `${layer} ratio ${r.updateRatios![layer]} vs ${expectRatio[layer]}`);
  }
  model.dispose(); ctx.optimizer.dispose();
});
