// Each pure health rule on synthetic observations: it fires on the mistake, stays silent on the healthy baseline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FindingLog, HEALTH_RULE_IDS, runBatchChecks, runEpochChecks, runStaticChecks, THRESHOLDS,
  type EpochObservations, type StaticObservations,
} from '../../../src/engine/health';
import { doubleSoftmaxCeiling } from '../../../src/engine/health/rules/model';
import { batch, config, epochObs, layer, model, staticObs } from './synthetic';

const ids = (fs: { id: string }[]) => fs.map((f) => f.id).sort();
const only = <T extends { id: string }>(fs: T[], id: string): T[] => fs.filter((f) => f.id === id);

function assertWellFormed(f: { id: string; cause: string; fix: string; severity: string; evidence: object }): void {
  assert.ok((HEALTH_RULE_IDS as readonly string[]).includes(f.id), `unknown id ${f.id}`);
  assert.ok(f.cause.length > 20 && f.fix.length > 20, 'cause and fix are sentences');
  assert.ok(!/undefined/.test(f.cause), `cause mentions undefined: ${f.cause}`);
  assert.match(f.fix, /[a-zA-Z]+\.[a-zA-Z]+/, 'fix names a segscope.json key');
  assert.ok(Object.keys(f.evidence).length > 0);
}

describe('health rules: healthy baselines', () => {
  it('the static baseline has no findings', () => assert.deepEqual(runStaticChecks(staticObs()), []));
  it('the epoch baseline has no findings', () => assert.deepEqual(runEpochChecks(epochObs()), []));
  it('a finite batch has no findings', () => assert.deepEqual(runBatchChecks({ epoch: 1, batch: 1, loss: 0.7, gradNorms: { a: 0.1 } }), []));
});

describe('static rules', () => {
  it('labels/out-of-range fires on labels ≥ C and names them; class 2 of 3 is fine', () => {
    const obs = staticObs({ batch: batch({ maskValues: [0, 1, 2, 3, 4, 255], sourceMaskValues: [0, 1, 2, 3, 4, 255], maskValueCounts: { 0: 10, 1: 5, 2: 5, 3: 7, 4: 2, 255: 1 } }) });
    const [f] = only(runStaticChecks(obs), 'labels/out-of-range');
    assertWellFormed(f);
    assert.equal(f.severity, 'error');
    assert.equal(f.evidence.badValues, '3,4');
    assert.equal(f.evidence.pixelsInFirstBatch, 7 + 2);
    assert.equal(f.location?.configKey, 'data.classes');
    assert.deepEqual(only(runStaticChecks(staticObs()), 'labels/out-of-range'), []);
  });

  it('labels/out-of-range leaves values invented by resizing to labels/interpolated-mask', () => {
    const obs = staticObs({ batch: batch({ maskValues: [0, 1, 2, 128, 255], sourceMaskValues: [0, 1, 2, 255], maskValueCounts: { 0: 10, 1: 5, 2: 5, 128: 3, 255: 1 } }) });
    const fs = runStaticChecks(obs);
    assert.deepEqual(ids(fs), ['labels/interpolated-mask']);
    assert.equal(fs[0].evidence.inventedValues, '128');
    assert.equal(fs[0].evidence.inventedPixels, 3);
    assert.equal(fs[0].location?.configKey, 'data.maskResize');
    assertWellFormed(fs[0]);
  });

  it('labels/ignore-in-onehot fires on a measured 255 in one-hot channels, not on 0/1 targets or index targets', () => {
    const onehot = config({ loss: { target: 'onehot', onehotIgnore: 'value' } });
    const [f] = only(runStaticChecks(staticObs({ config: onehot, oneHotTargets: { maxChannelValue: 255, voidPixels: 1768 } })), 'labels/ignore-in-onehot');
    assertWellFormed(f);
    assert.equal(f.evidence.maxTargetValue, 255);
    assert.equal(f.evidence.voidPixelsInFirstBatch, 1768);
    assert.equal(f.location?.configKey, 'loss.onehotIgnore');
    const zero = config({ loss: { target: 'onehot', onehotIgnore: 'zero' } });
    assert.deepEqual(only(runStaticChecks(staticObs({ config: zero, oneHotTargets: { maxChannelValue: 1, voidPixels: 1768 } })), 'labels/ignore-in-onehot'), []);
    assert.deepEqual(only(runStaticChecks(staticObs()), 'labels/ignore-in-onehot'), []);
    // Without a probe the config decides, and only when the batch has void pixels.
    assert.equal(only(runStaticChecks(staticObs({ config: onehot })), 'labels/ignore-in-onehot').length, 1);
    const noVoid = batch({ maskValues: [0, 1], maskValueCounts: { 0: 5, 1: 5 }, sourceMaskValues: [0, 1] });
    assert.deepEqual(only(runStaticChecks(staticObs({ config: onehot, batch: noVoid })), 'labels/ignore-in-onehot'), []);
  });

  it('loss/ignore-not-excluded fires when void-only changes move the loss, pointing at the user module', () => {
    const cfg = config({ loss: { module: './myLoss.js' } });
    const [f] = runStaticChecks(staticObs({ config: cfg, voidPerturbation: { voidPixels: 100, lossBefore: 1.0, lossAfter: 1.3 } }));
    assertWellFormed(f);
    assert.equal(f.id, 'loss/ignore-not-excluded');
    assert.equal(f.evidence.relativeChange, 0.3);
    assert.equal(f.location?.configKey, 'loss.module');
    assert.match(f.fix, /myLoss\.js/);
    assert.deepEqual(runStaticChecks(staticObs({ config: cfg, voidPerturbation: { voidPixels: 100, lossBefore: 1.0, lossAfter: 1.0 + 1e-6 } })), []);
  });

  it('model/double-softmax fires on a softmax last layer with fromLogits, and not with fromLogits false', () => {
    const layers = [layer('head/logits'), layer('head/softmax', { className: 'Softmax', params: 0, trainable: false, activation: 'softmax' })];
    const [f] = runStaticChecks(staticObs({ model: model(layers) }));
    assertWellFormed(f);
    assert.equal(f.id, 'model/double-softmax');
    assert.equal(f.location?.layer, 'head/softmax');
    assert.equal(f.evidence.probabilityCeiling, Number((Math.E / (Math.E + 2)).toPrecision(4)));
    assert.deepEqual(runStaticChecks(staticObs({ model: model(layers), config: config({ loss: { fromLogits: false } }) })), []);
    // A model file whose outputs already sum to 1 is caught by the measurement alone.
    assert.equal(only(runStaticChecks(staticObs({ output: { outputsAreProbabilities: true, maxProbabilityAsLossSeesIt: 0.4 } })), 'model/double-softmax').length, 1);
  });

  it('bn/frozen-train-mode fires on a measured train/inference difference of a frozen BatchNorm layer', () => {
    const frozenBn = layer('enc/conv1_bn', { className: 'SegScopeBatchNorm', isBatchNorm: true, trainable: false, bnInferenceMode: false, params: 64 });
    const obs = staticObs({ model: model([layer('enc/conv1', { trainable: false }), frozenBn, layer('head/logits')]), frozenBatchNorm: [{ layer: 'enc/conv1_bn', trainInferenceDifference: 0.4 }] });
    const [f] = only(runStaticChecks(obs), 'bn/frozen-train-mode');
    assertWellFormed(f);
    assert.equal(f.location?.layer, 'enc/conv1_bn');
    assert.equal(f.evidence.maxTrainInferenceDifference, 0.4);
    assert.deepEqual(only(runStaticChecks({ ...obs, frozenBatchNorm: [{ layer: 'enc/conv1_bn', trainInferenceDifference: 0 }] }), 'bn/frozen-train-mode'), []);
    // Unprobed: the structure alone (frozen BN not in inference mode) is reported.
    assert.equal(only(runStaticChecks({ ...obs, frozenBatchNorm: undefined }), 'bn/frozen-train-mode').length, 1);
  });

  it('bn/small-batch fires below 8 images with BatchNorm in training mode only', () => {
    const small = config({ train: { batchSize: 4 } });
    const [f] = runStaticChecks(staticObs({ config: small, batch: batch({ batchSize: 4 }) }));
    assertWellFormed(f);
    assert.equal(f.id, 'bn/small-batch');
    assert.equal(f.evidence.batchSize, 4);
    assert.equal(f.evidence.batchNormLayersInTrainingMode, 1);
    const noBn = model([layer('enc/conv1'), layer('head/logits')]);
    assert.deepEqual(runStaticChecks(staticObs({ config: small, model: noBn, batch: batch({ batchSize: 4 }) })), []);
  });

  it('optim/adadelta-default-lr fires at 0.001 only', () => {
    const [f] = runStaticChecks(staticObs({ config: config({ train: { optimizer: { name: 'adadelta' } } }) }));
    assertWellFormed(f);
    assert.equal(f.id, 'optim/adadelta-default-lr');
    assert.equal(f.location?.configKey, 'train.optimizer.learningRate');
    assert.deepEqual(runStaticChecks(staticObs({ config: config({ train: { optimizer: { name: 'adadelta', learningRate: 1 } } }) })), []);
    assert.deepEqual(runStaticChecks(staticObs({ config: config({ train: { optimizer: { name: 'adam', learningRate: 0.001 } } }) })), []);
  });

  it('optim/nothing-trainable fires when every layer is frozen', () => {
    const frozen = model([layer('enc/conv1', { trainable: false }), layer('head/logits', { trainable: false })]);
    const [f] = runStaticChecks(staticObs({ model: frozen }));
    assertWellFormed(f);
    assert.equal(f.id, 'optim/nothing-trainable');
    assert.equal(f.location?.configKey, 'train.freeze');
  });

  it('input/range fires on 0..255 inputs declared -1..1, and warns when a DeepLab backbone gets 0..1', () => {
    const [f] = runStaticChecks(staticObs({ batch: batch({ images: { min: 0, max: 255, mean: 110, std: 60 } }) }));
    assertWellFormed(f);
    assert.equal(f.id, 'input/range');
    assert.equal(f.severity, 'error');
    const deeplab01 = config({ model: { arch: 'deeplabv3plus' }, data: { format: 'voc', root: '.', normalize: '0..1' } });
    const [w] = runStaticChecks(staticObs({ config: deeplab01, batch: batch({ images: { min: 0, max: 1, mean: 0.45, std: 0.25 } }) }));
    assert.equal(w.id, 'input/range');
    assert.equal(w.severity, 'warning');
    assert.equal(w.evidence.backboneExpects, '-1..1');
    const unet01 = config({ data: { format: 'voc', root: '.', normalize: '0..1' } });
    assert.deepEqual(runStaticChecks(staticObs({ config: unet01, batch: batch({ images: { min: 0, max: 1, mean: 0.45, std: 0.25 } }) })), []);
  });

  it('labels/imbalance fires above a 100× pixel ratio and not when class weights are set', () => {
    const counts = [100000, 900, 500];
    const [f] = runStaticChecks(staticObs({ classPixelCounts: counts }));
    assertWellFormed(f);
    assert.equal(f.id, 'labels/imbalance');
    assert.equal(f.evidence.ratio, 200);
    assert.equal(f.evidence.leastFrequentClass, 'disc');
    assert.deepEqual(runStaticChecks(staticObs({ classPixelCounts: [10000, 900, 500] })), []);
    assert.deepEqual(runStaticChecks(staticObs({ classPixelCounts: counts, config: config({ loss: { classWeights: 'inverse-frequency' } }) })), []);
    // Absent classes (0 pixels) are not "rare".
    assert.deepEqual(runStaticChecks(staticObs({ classPixelCounts: [10000, 900, 0] })), []);
  });

  it('metric/ignore-counted fires when void pixels count or when scores change the metric', () => {
    const cfg = config({ metrics: { module: './myMetric.js' } });
    const [a] = runStaticChecks(staticObs({ config: cfg, metric: { source: './myMetric.js', perfectExceptVoid: 0.83, logitsScale1: 0.5, logitsScale10: 0.5 } }));
    assertWellFormed(a);
    assert.equal(a.evidence.countsVoid, true);
    assert.equal(a.evidence.readsScores, false);
    const [b] = runStaticChecks(staticObs({ config: cfg, metric: { source: './myMetric.js', perfectExceptVoid: 1, logitsScale1: 0.31, logitsScale10: 0.62 } }));
    assert.equal(b.evidence.readsScores, true);
    assert.deepEqual(runStaticChecks(staticObs({ metric: { source: 'built-in', perfectExceptVoid: 1, logitsScale1: 0.5, logitsScale10: 0.5 } })), []);
  });
});

describe('batch rules', () => {
  it('num/nan names the first layer (model order) with a non-finite gradient', () => {
    const [f] = runBatchChecks({ epoch: 2, batch: 7, loss: NaN, layerOrder: ['a', 'b', 'c'], gradNorms: { c: NaN, b: Infinity, a: 1 } });
    assertWellFormed(f);
    assert.equal(f.id, 'num/nan');
    assert.equal(f.location?.layer, 'b');
    assert.equal(f.epoch, 2);
    assert.equal(f.batch, 7);
    const [w] = runBatchChecks({ epoch: 1, batch: 1, loss: 3, firstNonFiniteWeightLayer: 'enc/conv1' });
    assert.equal(w.evidence.where, 'weights');
  });

  it('optim/nothing-trainable fires when every gradient is exactly zero', () => {
    const [f] = runBatchChecks({ epoch: 1, batch: 1, loss: 0.5, gradNorms: { a: 0, b: 0 } });
    assert.equal(f.id, 'optim/nothing-trainable');
    assert.deepEqual(runBatchChecks({ epoch: 1, batch: 1, loss: 0.5, gradNorms: { a: 0, b: 1e-9 } }), []);
  });
});

describe('epoch rules', () => {
  const withGrads = (first: number, last: number): EpochObservations => {
    const o = epochObs();
    o.layers['enc/conv1'].gradNorm = first;
    o.layers['head/logits'].gradNorm = last;
    return o;
  };

  it('grad/vanishing needs ratio < 1e-3 and a first-layer norm < 1e-4', () => {
    const [f] = runEpochChecks(withGrads(1e-6, 0.1));
    assertWellFormed(f);
    assert.equal(f.id, 'grad/vanishing');
    assert.equal(f.evidence.ratio, 1e-5);
    assert.deepEqual(runEpochChecks(withGrads(5e-4, 1)), []); // ratio small but the first layer still learns
  });

  it('grad/exploding fires above a ratio of 70', () => {
    const [f] = runEpochChecks(withGrads(8, 0.1));
    assertWellFormed(f);
    assert.equal(f.id, 'grad/exploding');
    assert.equal(f.evidence.ratio, 80);
    assert.deepEqual(runEpochChecks(withGrads(6, 0.1)), []);
  });

  it('optim/update-ratio says "too small" or "too large" for most layers out of band', () => {
    const o = epochObs();
    for (const k of Object.keys(o.layers)) o.layers[k].updateRatio = 1e-7;
    const [f] = runEpochChecks(o);
    assertWellFormed(f);
    assert.equal(f.evidence.direction, 'too small');
    assert.equal(f.evidence.layersBelow, 3);
    for (const k of Object.keys(o.layers)) o.layers[k].updateRatio = 0.5;
    assert.equal(runEpochChecks(o)[0].evidence.direction, 'too large');
    o.layers['enc/conv1'].updateRatio = 1e-3;
    o.layers['enc/conv1_bn'].updateRatio = 1e-3; // one of three out of band is not "most"
    assert.deepEqual(runEpochChecks(o), []);
  });

  it('relu/dead fires when more than half of a layer never fires', () => {
    const [f] = runEpochChecks(epochObs({ layerOrder: ['enc/conv1', 'enc/relu'], deadUnits: { 'enc/relu': { units: 16, inactive: 12 } } }));
    assertWellFormed(f);
    assert.equal(f.id, 'relu/dead');
    assert.equal(f.evidence.deadFraction, 0.75);
    assert.deepEqual(runEpochChecks(epochObs({ deadUnits: { 'enc/conv1': { units: 16, inactive: 8 } } })), []);
  });

  it('pred/collapse: > 95 % predicted as one class that is ≤ 70 % of the truth', () => {
    const collapsed = [[600, 0, 0], [250, 0, 0], [148, 0, 2]];
    const [f] = runEpochChecks(epochObs({ confusion: collapsed }));
    assertWellFormed(f);
    assert.equal(f.id, 'pred/collapse');
    assert.equal(f.evidence.predictedShare, 0.998);
    assert.equal(f.evidence.groundTruthShare, 0.6);
    assert.equal(f.evidence.classesPresentWithIoU0, 1); // 'square'; 'disc' has IoU 2/150
    // The truth itself is 96 % background: predicting it everywhere is not a collapse.
    assert.deepEqual(runEpochChecks(epochObs({ confusion: [[960, 0, 0], [30, 0, 0], [10, 0, 0]] })), []);
  });

  it('loss/plateau over epochs and over steps', () => {
    const [f] = runEpochChecks(epochObs({ lossHistory: [1.0, 0.8, 0.81, 0.80, 0.805] }));
    assertWellFormed(f);
    assert.equal(f.id, 'loss/plateau');
    assert.deepEqual(runEpochChecks(epochObs({ lossHistory: [1.0, 0.8, 0.81, 0.79, 0.7] })), []);
    // Late in a run that has learned (loss at a tenth of the first epoch's), a flat stretch is convergence, not a plateau.
    assert.deepEqual(runEpochChecks(epochObs({ lossHistory: [1.0, 0.5, 0.2, 0.1069, 0.12, 0.1141, 0.115] })), []);
    assert.equal(runEpochChecks(epochObs({ lossHistory: [1.0, 0.5, 0.35, 0.36, 0.355, 0.352] }))[0]?.id, 'loss/plateau');
    const flatSteps = Array.from({ length: 20 }, (_, i) => 1.1 - i * 0.0001);
    assert.equal(runEpochChecks(epochObs({ lossHistory: flatSteps, lossUnit: 'step' }))[0].id, 'loss/plateau');
    const fallingSteps = Array.from({ length: 20 }, (_, i) => 1.1 - i * 0.02);
    assert.deepEqual(runEpochChecks(epochObs({ lossHistory: fallingSteps, lossUnit: 'step' })), []);
  });

  it('loss/oscillating fires on large swings without progress, not on a noisy fall', () => {
    const swinging = Array.from({ length: 20 }, (_, i) => (i % 2 ? 2.0 : 0.8));
    const fs = runEpochChecks(epochObs({ lossHistory: swinging, lossUnit: 'step' }));
    const [f] = only(fs, 'loss/oscillating');
    assertWellFormed(f);
    assert.ok(Number(f.evidence.swings) >= 0.2 * 20);
    const noisyFall = Array.from({ length: 20 }, (_, i) => 2 - i * 0.08 + (i % 2 ? 0.3 : 0));
    assert.deepEqual(only(runEpochChecks(epochObs({ lossHistory: noisyFall, lossUnit: 'step' })), 'loss/oscillating'), []);
  });

  it('model/double-softmax signature: max probability at the e/(e+C−1) ceiling', () => {
    const ceiling = doubleSoftmaxCeiling(3);
    assert.equal(Number(ceiling.toFixed(6)), Number((Math.E / (Math.E + 2)).toFixed(6)));
    const [f] = runEpochChecks(epochObs({ maxPredictedProbability: ceiling - 0.01, outputRange: { min: 0.01, max: 0.39 } }));
    assertWellFormed(f);
    assert.equal(f.id, 'model/double-softmax');
    assert.deepEqual(runEpochChecks(epochObs({ maxPredictedProbability: 0.93, outputRange: { min: 0, max: 1 } })), []);
    // An untrained model with near-uniform logits is below the ceiling too, but its outputs leave [0, 1].
    assert.deepEqual(runEpochChecks(epochObs({ maxPredictedProbability: 0.25, outputRange: { min: -0.6, max: 0.7 } })), []);
    // Without the output range: only once it has lasted past the first epoch.
    assert.deepEqual(runEpochChecks(epochObs({ epoch: 1, maxPredictedProbability: 0.25 })), []);
    assert.equal(runEpochChecks(epochObs({ epoch: 2, maxPredictedProbability: 0.25 }))[0].id, 'model/double-softmax');
  });

  it('bn/frozen-train-mode from moving-statistic drift', () => {
    const [f] = runEpochChecks(epochObs({ frozenBatchNormDrift: [{ layer: 'enc/conv1_bn', movingMeanDrift: 0.2, movingVarianceDrift: 0.05 }] }));
    assertWellFormed(f);
    assert.equal(f.id, 'bn/frozen-train-mode');
    assert.equal(f.evidence.maxMovingMeanDrift, 0.2);
    assert.deepEqual(runEpochChecks(epochObs({ frozenBatchNormDrift: [{ layer: 'enc/conv1_bn', movingMeanDrift: 0, movingVarianceDrift: 0 }] })), []);
  });
});

describe('FindingLog', () => {
  it('reports each id once and merges later evidence', () => {
    const log = new FindingLog();
    const a = runStaticChecks(staticObs({ config: config({ train: { optimizer: { name: 'adadelta' } } }) }));
    assert.equal(log.add(a).length, 1);
    assert.equal(log.add(a).length, 0);
    const drift: StaticObservations = staticObs();
    assert.deepEqual(log.add(runStaticChecks(drift)), []);
    assert.equal(log.all().length, 1);
    assert.ok(THRESHOLDS.explodingRatio > 1);
  });
});
