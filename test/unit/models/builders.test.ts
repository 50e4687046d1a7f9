// Every architecture builds, outputs [B,H,W,C] at input size, has unique readable names; the bench model's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  BENCH_TORCH_PARAMS, buildBenchModel, buildModel, countTrainableLikeTorch, isBatchNorm, mobileNetV2Spec, summarizeModel,
} from '../../../src/engine/models';
import type { ResolvedConfig } from '../../../src/config/resolve';

type ModelCfg = ResolvedConfig['model'];
const base: ModelCfg = {
  arch: 'deeplabv3plus', backbone: 'mobilenetv2', width: 0.35, depth: 0.125, outputStride: 16, asppRates: [6, 12, 18],
  finalSoftmax: false, strict: false,
};
const VALID_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;

function checkNames(model: tfl.LayersModel): void {
  const names = model.layers.map((l) => l.name);
  assert.equal(new Set(names).size, names.length, 'layer names are unique');
  for (const n of names) assert.match(n, VALID_NAME);
  const weightNames = model.weights.map((w) => w.originalName);
  assert.equal(new Set(weightNames).size, weightNames.length, 'weight names are unique');
}

function runShape(model: tfl.LayersModel, batch: number, size: number): number[] {
  return tf.tidy(() => (model.predict(tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 1)) as tf.Tensor).shape);
}

/** Spatial size of a layer's output, to read off the effective output stride. */
const spatial = (model: tfl.LayersModel, name: string) => (model.getLayer(name).outputShape as number[])[1];

test('setup', async () => {
  await tf.setBackend('cpu');
});

test('bench model = deeplab_ref.py DeepLabV3Plus(width=0.75): 1,337,365 PyTorch-counted parameters', () => {
  const model = buildBenchModel(21, 64, 1);
  assert.equal(countTrainableLikeTorch(model), BENCH_TORCH_PARAMS);
  assert.equal(BENCH_TORCH_PARAMS, 1_337_365);
  // tfjs' own count adds exactly the moving mean and variance of every BatchNorm.
  const movingStats = model.layers.filter(isBatchNorm).reduce((n, l) => n + 2 * (l.outputShape as number[])[3], 0);
  assert.equal(model.countParams(), BENCH_TORCH_PARAMS + movingStats);
  // The reference's block list for width 0.75: stem 24, low-level after block 2 (24·0.75 → 24 ch), 320·0.75 → 240.
  const spec = mobileNetV2Spec(0.75, 16);
  assert.equal(spec.stem, 24);
  assert.equal(spec.blocks.length, 17);
  assert.equal(spec.lowIndex, 2);
  assert.equal(spec.highChannels, 240);
  // Lists printed by the reference's arch() (python, deeplab_ref.py) for width 0.75 / os 16 and width 0.5 / os 8.
  assert.deepEqual(spec.blocks.map((b) => b.dilation), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual(spec.blocks.map((b) => b.stride), [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(spec.blocks.map((b) => b.oup), [16, 24, 24, 24, 24, 24, 48, 48, 48, 48, 72, 72, 72, 120, 120, 120, 240]);
  const os8 = mobileNetV2Spec(0.5, 8);
  assert.deepEqual(os8.blocks.map((b) => b.dilation), [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4]);
  assert.deepEqual(os8.blocks.map((b) => b.stride), [1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(runShape(model, 1, 64), [1, 64, 64, 21]);
  checkNames(model);
  for (const n of ['backbone/stem', 'backbone/block3/expand', 'backbone/block3/depthwise', 'backbone/block3/depthwise_bn',
    'backbone/block4/add', 'aspp/conv1x1', 'aspp/rate6/depthwise', 'aspp/rate18/pointwise_bn', 'aspp/pool/upsample',
    'aspp/projection', 'decoder/lowlevel', 'decoder/conv1/depthwise', 'decoder/conv2/pointwise', 'head/logits', 'head/upsample']) {
    assert.ok(model.getLayer(n), n);
  }
  assert.equal(model.layers[model.layers.length - 1].name, 'head/upsample');
  model.dispose();
});

test('DeepLab v3+ MobileNetV2: output stride 16 and 8 at 64² and 128²', () => {
  for (const outputStride of [16, 8] as const) {
    for (const size of [64, 128]) {
      const model = buildModel({ ...base, outputStride, asppRates: outputStride === 8 ? [12, 24] : [6, 12] }, { numClasses: 4, inputSize: size, seed: 2 });
      assert.deepEqual(runShape(model, 2, size), [2, size, size, 4]);
      assert.equal(spatial(model, 'aspp/concat'), size / outputStride);
      assert.equal(spatial(model, 'decoder/concat'), size / 4);
      checkNames(model);
      model.dispose();
    }
  }
});

test('DeepLab v3+ Xception: width and depth shrink it; both output strides; names', () => {
  const small = buildModel({ ...base, backbone: 'xception', width: 0.125, depth: 0.125 }, { numClasses: 3, inputSize: 64, seed: 2 });
  const deeper = buildModel({ ...base, backbone: 'xception', width: 0.125, depth: 0.25 }, { numClasses: 3, inputSize: 64, seed: 2 });
  const wider = buildModel({ ...base, backbone: 'xception', width: 0.25, depth: 0.125 }, { numClasses: 3, inputSize: 64, seed: 2 });
  const middle = (m: tfl.LayersModel) => m.layers.filter((l) => /^backbone\/middle\/block\d+\/add$/.test(l.name)).length;
  assert.equal(middle(small), 2);
  assert.equal(middle(deeper), 4);
  assert.ok(countTrainableLikeTorch(wider) > 2 * countTrainableLikeTorch(small));
  assert.deepEqual(runShape(small, 1, 64), [1, 64, 64, 3]);
  assert.equal(spatial(small, 'aspp/concat'), 4);
  assert.equal(spatial(small, 'decoder/concat'), 16);
  for (const n of ['backbone/entry/conv1', 'backbone/entry/block1/unit3/depthwise', 'backbone/entry/block2/shortcut',
    'backbone/middle/block1/add', 'backbone/exit/block2/unit3/pointwise_relu']) assert.ok(small.getLayer(n), n);
  checkNames(small);
  [small, deeper, wider].forEach((m) => m.dispose());
  for (const size of [64, 128]) {
    const os8 = buildModel({ ...base, backbone: 'xception', width: 0.125, depth: 0.0625, outputStride: 8, asppRates: [12, 24] }, { numClasses: 3, inputSize: size });
    assert.deepEqual(runShape(os8, 1, size), [1, size, size, 3]);
    assert.equal(spatial(os8, 'aspp/concat'), size / 8);
    os8.dispose();
  }
});

test('U-Net builds at 64², outputs logits at input size; rejects sizes not divisible by 8', () => {
  const model = buildModel({ ...base, arch: 'unet', width: 0.5 }, { numClasses: 5, inputSize: 64, seed: 1 });
  assert.deepEqual(runShape(model, 2, 64), [2, 64, 64, 5]);
  checkNames(model);
  for (const n of ['encoder/level1/conv1', 'encoder/level3/pool', 'bottleneck/conv2_bn', 'decoder/level1/up', 'head/logits']) assert.ok(model.getLayer(n), n);
  model.dispose();
  assert.throws(() => buildModel({ ...base, arch: 'unet' }, { numClasses: 2, inputSize: 60 }), /multiple of 8/);
});

test('finalSoftmax appends head/softmax (probabilities), only when asked', () => {
  for (const arch of ['unet', 'deeplabv3plus'] as const) {
    const model = buildModel({ ...base, arch, width: 0.35, finalSoftmax: true }, { numClasses: 3, inputSize: 32, seed: 1 });
    const last = model.layers[model.layers.length - 1];
    assert.equal(last.name, 'head/softmax');
    const sums = tf.tidy(() => tf.sum(model.predict(tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 3)) as tf.Tensor, -1).dataSync());
    assert.ok(sums.every((s) => Math.abs(s - 1) < 1e-5));
    model.dispose();
  }
  const plain = buildModel({ ...base, arch: 'unet' }, { numClasses: 3, inputSize: 32 });
  assert.ok(plain.layers.every((l) => l.name !== 'head/softmax'));
  plain.dispose();
});

test('same seed, same weights; another seed, other weights', () => {
  const weights = (seed: number) => {
    const m = buildModel({ ...base, arch: 'unet', width: 0.25 }, { numClasses: 2, inputSize: 16, seed });
    const values = m.getWeights().map((w) => Array.from(w.dataSync()));
    m.dispose();
    return values;
  };
  const a = weights(7);
  assert.deepEqual(weights(7), a);
  assert.notDeepEqual(weights(8), a);
});

test('summarizeModel: one entry per layer, shapes without batch, totals consistent', () => {
  const model = buildModel({ ...base, arch: 'unet', width: 0.25 }, { numClasses: 2, inputSize: 16, seed: 1 });
  model.getLayer('encoder/level1/conv1').trainable = false;
  const s = summarizeModel(model);
  assert.equal(s.name, 'unet');
  assert.equal(s.layers.length, model.layers.length);
  assert.equal(s.params, s.layers.reduce((n, l) => n + l.params, 0));
  const frozen = s.layers.find((l) => l.name === 'encoder/level1/conv1')!;
  assert.equal(frozen.trainable, false);
  assert.equal(frozen.params, 3 * 3 * 3 * 4);
  assert.equal(s.trainableParams, model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0));
  const bnParams = model.layers.filter(isBatchNorm).reduce((n, l) => n + 2 * (l.outputShape as number[])[3], 0);
  assert.equal(s.trainableParams, s.params - bnParams - frozen.params);
  assert.deepEqual(s.layers[s.layers.length - 1].outputShape, [16, 16, 2]);
  assert.equal(s.layers.find((l) => l.name === 'encoder/level1/conv1_bn')!.className, 'SegScopeBatchNorm');
  model.dispose();
});
