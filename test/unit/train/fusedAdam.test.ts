// FusedAdamOptimizer on wasm (one native kernel per variable, split over two threads for big ones) against tfjs'
// own Adam on the cpu backend: weights, moments and iterations, clones and cached convolutions, and across a resume.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { nativeKernelsFor } from '../../../src/engine/backend/nativeKernels';
import { FusedAdamOptimizer } from '../../../src/engine/train/fusedAdam';
import { setLearningRate } from '../../../src/engine/train/optimizer';
import { seeded, size } from '../backend/helpers';

/** 120 000 elements splits over two threads; the others stay on one, one of them with a non-multiple-of-4 tail. */
const SHAPES = [[300, 400], [3, 3, 5, 7], [13], [4]];
const STEPS = 5;
const TOLERANCE = 1e-5;
let threads = 0;
let nextRun = 0;

before(async () => {
  await initBackend('cpu');
  const report = await initBackend('wasm', { threads: 2 });
  threads = report.threads ?? 1;
});

function adamCalls() {
  const native = nativeKernelsFor(tf.findBackend('wasm'));
  assert.ok(native, 'native kernels in effect on wasm');
  return { ...(native.counts.get('adam_update') ?? { calls: 0, split: 0 }) };
}

/** Gradient of variable `k` at step `s`: mixed scales so the second moment spans several orders of magnitude. */
function gradient(k: number, s: number): Float32Array {
  const n = size(SHAPES[k]);
  return Float32Array.from(seeded(n, 100 * k + s + 7), (g, i) => g * 10 ** ((i % 5) - 2));
}

interface Result { weights: Float32Array[]; moments: Map<string, Float32Array>; iterations: number }

/**
 * Trains fresh variables (same initial values every time) for steps [from, to) on `backend` with `optimizer`,
 * changing the learning rate at step 3 as a schedule would.
 */
function train(backend: string, optimizer: tf.Optimizer, variables: tf.Variable[], from: number, to: number): void {
  assert.equal(tf.getBackend(), backend);
  for (let s = from; s < to; s++) {
    if (s === 3) setLearningRate(optimizer, 0.004);
    const grads = variables.map((v, k) => ({ name: v.name, tensor: tf.tensor(gradient(k, s), v.shape) }));
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  }
}

function makeVariables(): tf.Variable[] {
  const run = nextRun++;
  return SHAPES.map((shape, k) => tf.variable(tf.tensor(seeded(size(shape), k + 1), shape), true, `fusedAdam${run}/w${k}`));
}

async function collect(optimizer: tf.Optimizer, variables: tf.Variable[]): Promise<Result> {
  const named = await optimizer.getWeights();
  const moments = new Map<string, Float32Array>();
  let iterations = -1;
  for (const { name, tensor } of named) {
    if (name === 'iter') iterations = tensor.dataSync()[0];
    // slot names carry the run prefix of their variable; compare by what follows it
    else moments.set(name.replace(/^fusedAdam\d+\//, ''), tensor.dataSync() as Float32Array);
  }
  named.find((w) => w.name === 'iter')?.tensor.dispose();
  return { weights: variables.map((v) => v.dataSync() as Float32Array), moments, iterations };
}

/** The reference: tfjs' AdamOptimizer on the cpu backend. */
async function reference(steps: number): Promise<Result> {
  await tf.setBackend('cpu');
  const variables = makeVariables();
  const optimizer = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  train('cpu', optimizer, variables, 0, steps);
  const result = await collect(optimizer, variables);
  optimizer.dispose();
  tf.dispose(variables);
  return result;
}

/** Largest |a − b| / (|b| + 1e-6) over all elements. */
function maxRelative(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + 1e-6));
  }
  return worst;
}

function assertSame(actual: Result, expected: Result): void {
  assert.equal(actual.iterations, expected.iterations);
  actual.weights.forEach((w, k) => {
    const err = maxRelative(w, expected.weights[k]);
    assert.ok(err <= TOLERANCE, `weight ${k} ${SHAPES[k]}: relative error ${err}`);
  });
  assert.deepEqual([...actual.moments.keys()], [...expected.moments.keys()]);
  for (const [name, m] of actual.moments) {
    const err = maxRelative(m, expected.moments.get(name)!);
    assert.ok(err <= TOLERANCE, `${name}: relative error ${err}`);
  }
}

test('FusedAdam on wasm matches tfjs Adam on cpu over 5 steps, with the fused kernel doing every update', async () => {
  const expected = await reference(STEPS);
  await tf.setBackend('wasm');
  const variables = makeVariables();
  const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  assert.equal(optimizer.getClassName(), 'Adam');
  const before = adamCalls();
  train('wasm', optimizer, variables, 0, 1); // makes the moment slots
  const tensorsAfterFirstStep = tf.memory().numTensors;
  train('wasm', optimizer, variables, 1, STEPS);
  assert.equal(tf.memory().numTensors, tensorsAfterFirstStep, 'no tensors leak per step');
  const after = adamCalls();
  assert.equal(after.calls - before.calls, STEPS * SHAPES.length, 'one adam_update per variable per step');
  if (threads > 1) assert.equal(after.split - before.split, STEPS, 'the big variable is split over two threads');
  assertSame(await collect(optimizer, variables), expected);
  assert.deepEqual(optimizer.getConfig(), tf.train.adam(0.004, 0.9, 0.999, 1e-7).getConfig()); // the rate set at step 3
  optimizer.dispose();
  tf.dispose(variables);
});

test('a clone of a weight (which shares its data on wasm) keeps the old values', async () => {
  const expected = await reference(STEPS);
  await tf.setBackend('wasm');
  const variables = makeVariables();
  const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  train('wasm', optimizer, variables, 0, 2);
  // On wasm a clone shares the variable's data (Identity): an in-place update would change it too.
  const kept = variables.map((v) => v.clone());
  const keptValues = kept.map((t) => Float32Array.from(t.dataSync()));
  const tensorsBefore = tf.memory().numTensors;
  train('wasm', optimizer, variables, 2, STEPS);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the fresh tensors are handed to the variables, none leak');
  kept.forEach((t, k) => assert.deepEqual(t.dataSync(), keptValues[k], `clone of weight ${k} unchanged`));
  variables.forEach((v, k) => assert.notDeepEqual(v.dataSync(), keptValues[k], `weight ${k} moved`));
  assertSame(await collect(optimizer, variables), expected);
  tf.dispose(kept);
  optimizer.dispose();
  tf.dispose(variables);
});

test('a convolution after a step uses the new weights (tfjs-wasm caches XNNPACK operators by filter data id)', async () => {
  await tf.setBackend('wasm');
  const filter = tf.variable(tf.tensor4d(seeded(3 * 3 * 4 * 8, 11), [3, 3, 4, 8]), true, `fusedAdam${nextRun++}/conv`);
  const x = tf.tensor4d(seeded(2 * 6 * 6 * 4, 12), [2, 6, 6, 4]);
  const optimizer = new FusedAdamOptimizer(0.05, 0.9, 0.999, 1e-7);
  const before = tf.conv2d(x, filter, 1, 'same'); // creates (and caches) the operator for this filter
  optimizer.applyGradients([{ name: filter.name, tensor: tf.onesLike(filter) }]);
  const after = tf.conv2d(x, filter, 1, 'same');
  const copy = tf.tensor4d(filter.dataSync(), [3, 3, 4, 8]); // new data id: a newly packed operator
  const expected = tf.conv2d(x, copy, 1, 'same');
  assert.deepEqual(after.dataSync(), expected.dataSync());
  assert.notDeepEqual(after.dataSync(), before.dataSync());
  tf.dispose([filter, x, before, after, copy, expected]);
  optimizer.dispose();
});

test('resuming FusedAdam from getWeights/setWeights (as a checkpoint does) continues exactly', async () => {
  const expected = await reference(STEPS);
  await tf.setBackend('wasm');
  const first = makeVariables();
  const optA = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  train('wasm', optA, first, 0, 3);
  // Copy everything out to plain arrays, as saving and loading a checkpoint does.
  const named = await optA.getWeights();
  const savedSlots = named.map(({ name, tensor }) => ({ name, values: Float32Array.from(tensor.dataSync()), shape: tensor.shape }));
  named[0].tensor.dispose(); // the iteration count is a fresh scalar; the slots belong to the optimizer
  const savedWeights = first.map((v) => Float32Array.from(v.dataSync()));

  const second = makeVariables();
  second.forEach((v, k) => v.assign(tf.tensor(savedWeights[k], v.shape)));
  const optB = new FusedAdamOptimizer(0.004, 0.9, 0.999, 1e-7); // the schedule's rate at the resume point
  const loaded = savedSlots.map(({ name, values, shape }) => ({ name, tensor: tf.tensor(values, shape) }));
  await optB.setWeights(loaded);
  tf.dispose(loaded.map((w) => w.tensor));
  train('wasm', optB, second, 3, STEPS);
  assertSame(await collect(optB, second), expected);
  [optA, optB].forEach((o) => o.dispose());
  tf.dispose([...first, ...second]);
});

test('SEGSCOPE_FUSED_ADAM=0 falls back to tfjs Adam on wasm (no native calls) with the same results', async () => {
  const expected = await reference(STEPS);
  await tf.setBackend('wasm');
  const variables = makeVariables();
  const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  const before = adamCalls();
  process.env.SEGSCOPE_FUSED_ADAM = '0';
  try {
    train('wasm', optimizer, variables, 0, STEPS);
  } finally {
    delete process.env.SEGSCOPE_FUSED_ADAM;
  }
  assert.deepEqual(adamCalls(), before);
  assertSame(await collect(optimizer, variables), expected);
  optimizer.dispose();
  tf.dispose(variables);
});
