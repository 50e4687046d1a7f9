// Optimizers with tfjs' defaults, learning-rate changes that really change the step, the poly schedule, early stopping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { resolveConfig } from '../../../src/config/resolve';
import { getLearningRate, makeOptimizer, setLearningRate } from '../../../src/engine/train/optimizer';
import { learningRateAt } from '../../../src/engine/train/schedule';
import { EarlyStopping } from '../../../src/engine/train/earlyStopping';
import type { OptimizerConfig } from '../../../src/protocol/config';

const optimizerOf = (optimizer: OptimizerConfig) => resolveConfig({ data: { format: 'voc', root: '.' }, train: { optimizer } }).train.optimizer;

test('learning rates left out are tfjs\' defaults (Adadelta stays 0.001)', () => {
  const table: [OptimizerConfig['name'], string, number][] = [
    ['adam', 'Adam', 0.001], ['sgd', 'SGD', 0.01], ['adadelta', 'Adadelta', 0.001], ['rmsprop', 'RMSProp', 0.001],
  ];
  for (const [name, className, lr] of table) {
    const opt = makeOptimizer(optimizerOf({ name }));
    assert.equal(opt.getClassName(), className);
    assert.equal(getLearningRate(opt), lr, name);
    opt.dispose();
  }
  const momentum = makeOptimizer(optimizerOf({ name: 'sgd', momentum: 0.9, learningRate: 0.1 }));
  assert.equal(momentum.getClassName(), 'Momentum');
  assert.equal((momentum.getConfig() as { momentum: number }).momentum, 0.9);
  momentum.dispose();
});

/** One step on f(w) = w² from w = 1 (gradient 2) with the given learning rate set through setLearningRate. */
function stepAfterSettingLr(name: OptimizerConfig['name'], lr: number, momentum?: number): number {
  const opt = makeOptimizer(optimizerOf({ name, learningRate: 1, momentum }));
  setLearningRate(opt, lr);
  const w = tf.variable(tf.scalar(1));
  opt.minimize(() => tf.square(w) as tf.Scalar, false, [w]);
  const value = w.dataSync()[0];
  w.dispose();
  opt.dispose();
  return 1 - value;
}

test('setLearningRate changes the next step of every optimizer (SGD keeps it in a tensor, the others in a field)', () => {
  // SGD: Δ = lr·g = lr·2; Momentum's first step is the same; Adam's first step is lr·sign(g) ≈ lr.
  assert.ok(Math.abs(stepAfterSettingLr('sgd', 0.05) - 0.1) < 1e-6);
  assert.ok(Math.abs(stepAfterSettingLr('sgd', 0.05, 0.9) - 0.1) < 1e-6);
  assert.ok(Math.abs(stepAfterSettingLr('adam', 0.05) - 0.05) < 1e-4);
  // RMSProp first step: lr·g/sqrt(0.1·g²) = lr·√10; Adadelta scales linearly with lr.
  assert.ok(Math.abs(stepAfterSettingLr('rmsprop', 0.01) - 0.01 * Math.sqrt(10)) < 1e-4);
  const a1 = stepAfterSettingLr('adadelta', 0.5), a2 = stepAfterSettingLr('adadelta', 1);
  assert.ok(Math.abs(a2 / a1 - 2) < 1e-4, `${a1} ${a2}`);
});

test('poly schedule: base·(1 − step/total)^power; constant stays put', () => {
  const poly = { type: 'poly' as const, power: 0.9 };
  assert.equal(learningRateAt(poly, 0.01, 0, 100), 0.01);
  assert.ok(Math.abs(learningRateAt(poly, 0.01, 50, 100) - 0.01 * 0.5 ** 0.9) < 1e-15);
  assert.equal(learningRateAt(poly, 0.01, 100, 100), 0);
  assert.equal(learningRateAt(poly, 0.01, 150, 100), 0);
  assert.equal(learningRateAt({ type: 'constant' }, 0.01, 99, 100), 0.01);
});

test('early stopping fires after `patience` epochs without improvement, for mIoU (higher) and loss (lower)', () => {
  const miou = new EarlyStopping({ metric: 'val.miou', patience: 2 });
  assert.equal(miou.update(1, { miou: 0.5, loss: 1 }), false);
  assert.equal(miou.update(2, { miou: 0.6, loss: 1 }), false);
  assert.equal(miou.update(3, { miou: 0.6, loss: 1 }), false);
  assert.equal(miou.update(4, { miou: 0.55, loss: 1 }), true);
  assert.deepEqual(miou.snapshot(), { best: 0.6, bestEpoch: 2, badEpochs: 2 });
  const loss = new EarlyStopping({ metric: 'val.loss', patience: 1 });
  assert.equal(loss.update(1, { miou: 0, loss: 1 }), false);
  assert.equal(loss.update(2, { miou: 0, loss: 0.5 }), false);
  assert.equal(loss.update(3, { miou: 0, loss: 0.7 }), true);
  const restored = new EarlyStopping({ metric: 'val.loss', patience: 1 });
  restored.restore({ best: 0.5, bestEpoch: 2, badEpochs: 0 });
  assert.equal(restored.update(3, { miou: 0, loss: 0.7 }), true);
});
