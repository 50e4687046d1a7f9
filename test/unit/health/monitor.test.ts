// HealthMonitor on a tiny real model: static probes before the first step, batch and epoch rules, no tensor leaks.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig } from '../../../src/config/resolve';
import type { SegScopeConfig } from '../../../src/protocol/config';
import type { EpochMetrics } from '../../../src/protocol/runFolder';
import { initBackend } from '../../../src/engine/backend';
import { makeLoss } from '../../../src/engine/losses';
import { buildModel, setFrozen } from '../../../src/engine/models';
import { HealthMonitor } from '../../../src/engine/health/monitor';

const SIZE = 16;
const B = 8;

function setup(over: Partial<SegScopeConfig> = {}) {
  const cfg = resolveConfig({
    data: { format: 'voc', root: '.', classes: ['a', 'b', 'c'], inputSize: SIZE },
    model: { arch: 'unet', width: 0.25, ...(over.model ?? {}) },
    train: { batchSize: B, ...(over.train ?? {}) },
    loss: { ...(over.loss ?? {}) },
  });
  const model = buildModel(cfg.model, { numClasses: 3, inputSize: SIZE, seed: 1 });
  setFrozen(model, cfg.train.freeze, cfg.train.frozenBatchNorm);
  const loss = makeLoss(cfg.loss, { numClasses: 3, ignoreLabel: 255 });
  const monitor = new HealthMonitor(cfg, model, (l, o) => loss(l as tf.Tensor3D, o as tf.Tensor4D));
  return { cfg, model, monitor };
}

function batch() {
  const images = new Float32Array(B * SIZE * SIZE * 3).map((_, i) => Math.sin(i * 0.37));
  const masks = new Int32Array(B * SIZE * SIZE).map((_, i) => ((i % SIZE) < 2 ? 255 : Math.floor((i % SIZE) / 6)));
  return { images, masks, batchSize: B, size: SIZE };
}

function metrics(epoch: number, confusion: number[][], loss: number): EpochMetrics {
  const split = { loss, miou: 0.5, pixelAccuracy: 0.5, iou: [0.5, 0.5, 0.5] };
  return { epoch, train: split, val: split, confusion, learningRate: 1e-3, durationMs: 1, imagesPerSec: 1, layers: {}, watch: {} };
}

describe('HealthMonitor', () => {
  before(async () => { await initBackend('wasm'); });

  it('a healthy tiny model: no static findings, and no tensors left behind', () => {
    const { model, monitor } = setup();
    const n = tf.memory().numTensors;
    assert.deepEqual(monitor.beforeFirstStep(batch()), []);
    assert.deepEqual(monitor.afterStep(1, 1, 1.1, { 'head/logits': 0.3 }), []);
    const healthyConfusion = [[500, 20, 10], [30, 300, 20], [10, 20, 200]];
    assert.deepEqual(monitor.afterEpoch(metrics(1, healthyConfusion, 1.0), batch()), []);
    assert.equal(tf.memory().numTensors, n);
    model.dispose();
  });

  it('the seed combination is caught before the first step', () => {
    const { model, monitor } = setup({
      model: { finalSoftmax: true }, loss: { target: 'onehot', onehotIgnore: 'value' },
      train: { optimizer: { name: 'adadelta' }, freeze: { pattern: '^encoder/' }, frozenBatchNorm: 'train' },
    });
    const ids = monitor.beforeFirstStep(batch()).map((f) => f.id).sort();
    assert.deepEqual(ids, ['bn/frozen-train-mode', 'labels/ignore-in-onehot', 'loss/ignore-not-excluded', 'model/double-softmax', 'optim/adadelta-default-lr']);
    model.dispose();
  });

  it('reports NaN once, naming the first non-finite layer, and collapse at an epoch end', () => {
    const { model, monitor } = setup();
    monitor.beforeFirstStep(batch());
    const first = model.layers.find((l) => l.weights.length > 0)!;
    const w = first.weights[0];
    w.write(tf.fill(w.shape as number[], NaN));
    const [nan] = monitor.afterStep(1, 3, NaN);
    assert.equal(nan.id, 'num/nan');
    assert.equal(nan.location?.layer, first.name);
    assert.deepEqual(monitor.afterStep(1, 4, NaN), []);
    const collapsed = [[400, 0, 0], [300, 0, 0], [280, 0, 20]];
    const found = monitor.afterEpoch(metrics(1, collapsed, 1.0)).map((f) => f.id);
    assert.ok(found.includes('pred/collapse'), found.join(','));
    assert.equal(monitor.all()[0].severity, 'error');
    model.dispose();
  });
});
