// Training behaviour on cpu: a few steps reduce CE (U-Net; dilated DeepLab), and freezing with either BatchNorm mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BatchNorm, buildDeepLabV3Plus, buildModel, setFrozen } from '../../../src/engine/models';
import { makeLoss } from '../../../src/engine/losses';
import { registerDilatedConvGradients } from '../../../src/engine/backend';
import type { ResolvedConfig } from '../../../src/config/resolve';

const base: ResolvedConfig['model'] = {
  arch: 'unet', backbone: 'mobilenetv2', width: 0.25, depth: 1, outputStride: 16, asppRates: [6, 12], finalSoftmax: false, strict: false,
};
const ce = makeLoss({ type: 'ce', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2 }, { numClasses: 3, ignoreLabel: 255 });

/** Images whose label is a function of the pixel colour, with a void border. */
function batch(size: number): { x: tf.Tensor4D; y: tf.Tensor3D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    let y = tf.cast(tf.argMax(x, -1), 'int32');
    const border = tf.pad(tf.zeros([2, size - 2, size - 2], 'bool'), [[0, 0], [1, 1], [1, 1]], 1);
    y = tf.where(tf.cast(border, 'bool'), tf.fill(y.shape, 255, 'int32'), y);
    return { x, y: y as tf.Tensor3D };
  });
}

function trainSteps(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor3D, steps: number, lr: number): number[] {
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = optimizer.minimize(() => ce(y, model.apply(x, { training: true }) as tf.Tensor4D), true)!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  optimizer.dispose();
  return losses;
}

const evalLoss = (model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor3D) =>
  tf.tidy(() => ce(y, model.apply(x, { training: true }) as tf.Tensor4D).dataSync()[0]);

test('setup', async () => {
  await tf.setBackend('cpu');
  registerDilatedConvGradients();
});

test('a few Adam steps on the U-Net reduce cross-entropy and leak no tensors', () => {
  const model = buildModel(base, { numClasses: 3, inputSize: 16, seed: 1 });
  const { x, y } = batch(16);
  const before = evalLoss(model, x, y);
  const tensors = tf.memory().numTensors;
  trainSteps(model, x, y, 8, 0.01);
  assert.equal(tf.memory().numTensors, tensors, 'no tensors leaked per step (optimizer slots disposed)');
  const after = evalLoss(model, x, y);
  assert.ok(after < 0.8 * before, `CE ${before} → ${after}`);
  tf.dispose([x, y]);
  model.dispose();
});

test('dilated DeepLab (MobileNetV2, output stride 8): finite gradients everywhere and a step reduces CE', () => {
  // cpu's Conv2DBackpropFilter is slow, so narrow ASPP/decoder and one gradient for both checks.
  const model = buildDeepLabV3Plus({
    numClasses: 3, inputSize: 32, backbone: 'mobilenetv2', width: 0.35, outputStride: 8, asppRates: [2, 3],
    asppChannels: 16, decoderChannels: 16, lowLevelChannels: 8, seed: 3,
  });
  const { x, y } = batch(32);
  const { value, grads } = tf.variableGrads(() => ce(y, model.apply(x, { training: true }) as tf.Tensor4D));
  const names = Object.keys(grads);
  assert.equal(names.length, model.trainableWeights.length);
  for (const n of names) assert.ok(grads[n].dataSync().every(Number.isFinite), n);
  const dilatedKernel = names.find((n) => n.startsWith('aspp/rate3/depthwise'))!;
  assert.ok(grads[dilatedKernel].dataSync().some((v) => v !== 0), 'dilated ASPP branch receives gradient');
  const before = value.dataSync()[0];
  const optimizer = tf.train.adam(0.01);
  optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
  const after = evalLoss(model, x, y);
  assert.ok(after < before, `CE ${before} → ${after}`);
  tf.dispose([value, x, y, ...Object.values(grads)]);
  optimizer.dispose();
  model.dispose();
});

function bnStats(model: tfl.LayersModel, name: string): number[][] {
  return model.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
}

test('setFrozen(firstN) marks the first N layers, sets their BatchNorm mode, returns their names', () => {
  const model = buildModel(base, { numClasses: 3, inputSize: 16, seed: 1 });
  const frozen = setFrozen(model, { firstN: 4 }, 'inference');
  assert.deepEqual(frozen, model.layers.slice(0, 4).map((l) => l.name));
  assert.deepEqual(frozen, ['input', 'encoder/level1/conv1', 'encoder/level1/conv1_bn', 'encoder/level1/conv1_relu']);
  model.layers.forEach((l, i) => assert.equal(l.trainable, i >= 4, l.name));
  assert.equal((model.getLayer('encoder/level1/conv1_bn') as BatchNorm).inferenceMode, true);
  assert.equal((model.getLayer('encoder/level1/conv2_bn') as BatchNorm).inferenceMode, false);
  const byPattern = setFrozen(model, { pattern: '^decoder/level1/' }, 'train');
  assert.ok(byPattern.length > 0 && byPattern.every((n) => n.startsWith('decoder/level1/')));
  assert.equal((model.getLayer('decoder/level1/conv1_bn') as BatchNorm).inferenceMode, false);
  assert.equal(model.getLayer('decoder/level1/conv1').trainable, false);
  model.dispose();
});

test('frozen layers: weights fixed; BatchNorm moving stats fixed with "inference", drifting with "train" (Keras trap)', () => {
  const { x, y } = batch(16);
  for (const mode of ['inference', 'train'] as const) {
    const model = buildModel(base, { numClasses: 3, inputSize: 16, seed: 1 });
    setFrozen(model, { pattern: '^encoder/level1/' }, mode);
    const frozenBn = bnStats(model, 'encoder/level1/conv1_bn');
    const frozenConv = bnStats(model, 'encoder/level1/conv1');
    const liveBn = bnStats(model, 'encoder/level2/conv1_bn');
    trainSteps(model, x, y, 2, 0.01);
    const [gamma, beta, mean, variance] = bnStats(model, 'encoder/level1/conv1_bn');
    assert.deepEqual([gamma, beta], frozenBn.slice(0, 2), 'frozen gamma/beta unchanged');
    assert.deepEqual(bnStats(model, 'encoder/level1/conv1'), frozenConv, 'frozen kernel unchanged');
    if (mode === 'inference') assert.deepEqual([mean, variance], frozenBn.slice(2), 'moving stats unchanged');
    else assert.notDeepEqual(mean, frozenBn[2], 'moving mean drifts in the trap mode');
    assert.notDeepEqual(bnStats(model, 'encoder/level2/conv1_bn'), liveBn, 'trainable layers still train');
    model.dispose();
  }
  tf.dispose([x, y]);
});
