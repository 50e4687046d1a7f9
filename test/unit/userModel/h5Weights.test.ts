// Keras .h5 weights by layer name: model and weights layouts, nested sub-model groups, mismatched shapes, strict mode,
// corrupt and truncated files. Fixtures are written with h5wasm; the reader is jsfive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { UserFileError, loadH5Weights } from '../../../src/engine/userModel';
import { fixtureValues, writeKerasFixture, type FixtureLayer } from './h5Fixture';

const dir = mkdtempSync(path.join(os.tmpdir(), 'segscope-h5-'));

/** stem conv → stem_bn → nested sub-model "backbone" (conv_a, bn_a) → head conv with `classes` outputs. */
function buildModel(classes: number): tfl.LayersModel {
  const inner = tfl.input({ shape: [8, 8, 4] });
  let y = tfl.layers.conv2d({ name: 'conv_a', filters: 6, kernelSize: 3, padding: 'same' }).apply(inner) as tfl.SymbolicTensor;
  y = tfl.layers.batchNormalization({ name: 'bn_a' }).apply(y) as tfl.SymbolicTensor;
  const backbone = tfl.model({ inputs: inner, outputs: y, name: 'backbone' });
  const input = tfl.input({ shape: [8, 8, 3] });
  let x = tfl.layers.conv2d({ name: 'stem', filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ name: 'stem_relu', activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  x = backbone.apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ name: 'head', filters: classes, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x, name: 'fixture' });
}

const w = (name: string, shape: number[], seed: number) => ({ name, shape, values: fixtureValues(shape, seed) });
const bn = (owner: string, c: number, seed: number) => [
  w(`${owner}/gamma:0`, [c], seed), w(`${owner}/beta:0`, [c], seed + 1),
  w(`${owner}/moving_mean:0`, [c], seed + 2), { name: `${owner}/moving_variance:0`, shape: [c], values: fixtureValues([c], seed + 3).map((v) => 1 + Math.abs(v)) },
];

/** What Keras writes for buildModel(classes): the sub-model is one group holding its inner layers' weights. */
function kerasLayers(classes: number): FixtureLayer[] {
  return [
    { name: 'input_1', weights: [] },
    { name: 'stem', weights: [w('stem/kernel:0', [3, 3, 3, 4], 1)] },
    { name: 'stem_bn', weights: bn('stem_bn', 4, 10) },
    { name: 'stem_relu', weights: [] },
    { name: 'backbone', weights: [w('conv_a/kernel:0', [3, 3, 4, 6], 20), w('conv_a/bias:0', [6], 21), ...bn('bn_a', 6, 30)] },
    { name: 'head', weights: [w('head/kernel:0', [1, 1, 6, classes], 40), w('head/bias:0', [classes], 41)] },
  ];
}

/** The model's weight values by "<layer>/<local name>", read back for comparison. */
function modelValues(model: tfl.LayersModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const v of model.weights) out.set(v.originalName.replace(/_\d+$/, ''), v.read().dataSync() as Float32Array);
  return out;
}

function assertLoaded(model: tfl.LayersModel, layers: FixtureLayer[], skipLayers: string[] = []): void {
  const values = modelValues(model);
  for (const layer of layers) {
    if (skipLayers.includes(layer.name)) continue;
    for (const weight of layer.weights) {
      const key = weight.name.replace(/:0$/, '');
      const got = values.get(key);
      assert.ok(got, `model has ${key}`);
      assert.deepEqual(Array.from(got), Array.from(weight.values), key);
    }
  }
}

test('model.save layout (model_weights group) with a nested sub-model loads every layer by name', async () => {
  await tf.setBackend('cpu');
  const file = path.join(dir, 'saved_model.h5');
  const layers = kerasLayers(5);
  await writeKerasFixture(file, layers, 'model');
  const model = buildModel(5);
  const report = loadH5Weights(model, file, { strict: true });
  assert.deepEqual([...report.matched].sort(), ['bn_a', 'conv_a', 'head', 'stem', 'stem_bn']);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.unexpected, []);
  assert.deepEqual(report.shapeMismatched, []);
  assertLoaded(model, layers);
  model.dispose();
});

test('save_weights layout (layers at the root) loads too', async () => {
  const file = path.join(dir, 'weights_only.h5');
  const layers = kerasLayers(5);
  await writeKerasFixture(file, layers, 'weights');
  const model = buildModel(5);
  const report = loadH5Weights(model, file);
  assert.equal(report.matched.length, 5);
  assertLoaded(model, layers);
  model.dispose();
});

test('another head: the shape-mismatched head is reported and starts at zero, the rest loads', async () => {
  const file = path.join(dir, 'other_head.h5');
  const layers = kerasLayers(21);
  await writeKerasFixture(file, layers, 'model');
  const model = buildModel(3);
  assert.ok(model.getLayer('head').getWeights()[0].dataSync().some((v) => v !== 0), 'the fresh head is random');
  const report = loadH5Weights(model, file);
  assert.deepEqual(report.shapeMismatched.map((m) => [m.layer, m.weight, m.expected, m.got]), [
    ['head', 'kernel', [1, 1, 6, 3], [1, 1, 6, 21]], ['head', 'bias', [3], [21]],
  ]);
  assert.ok(!report.matched.includes('head'));
  assert.deepEqual(report.newHead, ['head']);
  for (const weight of model.getLayer('head').getWeights()) assert.ok(weight.dataSync().every((v) => v === 0), 'new head is zero');
  assertLoaded(model, layers, ['head']);
  // A zero head still learns: its kernel gets a non-zero gradient on the first step.
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5);
  const labels = tf.oneHot(tf.tensor3d(Array.from({ length: 128 }, (_, i) => i % 3), [2, 8, 8], 'int32'), 3);
  const kernel = model.getLayer('head').trainableWeights[0].read() as tf.Variable;
  const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor) as tf.Scalar, [kernel]);
  assert.ok(tf.max(tf.abs(grads[kernel.name])).dataSync()[0] > 0, 'the zero head gets a gradient');
  tf.dispose([x, labels, ...Object.values(grads)]);
  model.dispose();
});

test('a loaded classifier is not touched, and with nothing loaded the model stays as initialised', async () => {
  const same = path.join(dir, 'same_head.h5');
  await writeKerasFixture(same, kerasLayers(3), 'model');
  const model = buildModel(3);
  assert.deepEqual(loadH5Weights(model, same).newHead, []);
  assert.ok(model.getLayer('head').getWeights()[0].dataSync().some((v) => v !== 0));
  model.dispose();
  const unrelated = path.join(dir, 'unrelated.h5');
  await writeKerasFixture(unrelated, [{ name: 'other', weights: [w('other/kernel:0', [2, 2], 9)] }], 'model');
  const fresh = buildModel(3);
  const report = loadH5Weights(fresh, unrelated);
  assert.equal(report.matched.length, 0);
  assert.deepEqual(report.newHead, []);
  assert.ok(fresh.getLayer('head').getWeights()[0].dataSync().some((v) => v !== 0));
  fresh.dispose();
});

test('strict fails on a mismatch, naming the file and the first mismatching layer, and writes nothing', async () => {
  const file = path.join(dir, 'strict.h5');
  const layers = kerasLayers(5);
  layers[2] = { name: 'stem_bn', weights: bn('stem_bn', 7, 10) };
  await writeKerasFixture(file, layers, 'model');
  const model = buildModel(5);
  const before = Array.from(model.getLayer('stem').getWeights()[0].dataSync());
  assert.throws(() => loadH5Weights(model, file, { strict: true }), (err: unknown) => {
    assert.ok(err instanceof UserFileError);
    assert.match(err.message, /strict\.h5/);
    assert.match(err.message, /"stem_bn"/);
    assert.equal(err.layer, 'stem_bn');
    return true;
  });
  assert.deepEqual(Array.from(model.getLayer('stem').getWeights()[0].dataSync()), before);
  // Non-strict: everything else loads, and the extra layer of a file for another architecture is "unexpected".
  const report = loadH5Weights(model, file);
  assert.equal(report.shapeMismatched[0].layer, 'stem_bn');
  model.dispose();
});

test('a file for another architecture reports missing and unexpected layers', async () => {
  const file = path.join(dir, 'other_arch.h5');
  await writeKerasFixture(file, [
    { name: 'block1_conv1', weights: [w('block1_conv1/kernel:0', [3, 3, 3, 64], 1), w('block1_conv1/bias:0', [64], 2)] },
  ], 'model');
  const model = buildModel(5);
  const report = loadH5Weights(model, file);
  assert.deepEqual(report.matched, []);
  assert.deepEqual(report.unexpected, ['block1_conv1']);
  assert.deepEqual([...report.missing].sort(), ['bn_a', 'conv_a', 'head', 'stem', 'stem_bn']);
  assert.throws(() => loadH5Weights(model, file, { strict: true }), /other_arch\.h5.*"stem"/);
  model.dispose();
});

test('corrupt, truncated and non-HDF5 files give an error naming the file, not a crash', async () => {
  const good = path.join(dir, 'good.h5');
  await writeKerasFixture(good, kerasLayers(5), 'model');
  const bytes = readFileSync(good);
  const truncated = path.join(dir, 'truncated.h5');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const garbage = path.join(dir, 'garbage.h5');
  writeFileSync(garbage, Buffer.from('this is not hdf5 at all'));
  const scrambled = path.join(dir, 'scrambled.h5');
  const copy = Buffer.from(bytes);
  for (let i = 64; i < copy.length; i += 7) copy[i] ^= 0x5a;
  writeFileSync(scrambled, copy);
  const model = buildModel(5);
  for (const file of [truncated, garbage, scrambled, path.join(dir, 'absent.h5')]) {
    assert.throws(() => loadH5Weights(model, file), (err: unknown) => {
      assert.ok(err instanceof UserFileError, `${path.basename(file)}: ${String(err)}`);
      assert.ok(err.message.includes(file), err.message);
      return true;
    });
  }
  model.dispose();
});
