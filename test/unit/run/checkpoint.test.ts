// Checkpoints: LayersModel format through the fs IOHandler, weights and optimizer state restored exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  fileLoadHandler, findCheckpoint, loadModelWeights, loadOptimizerState, readCheckpointState, saveCheckpoint, type CheckpointState,
} from '../../../src/engine/run/checkpoint';

function tinyModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [4] });
  const hidden = tfl.layers.dense({ units: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization().apply(hidden) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }).apply(bn) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const state: CheckpointState = { formatVersion: 1, epochsDone: 3, batchInEpoch: 0, step: 12, seed: 1, optimizer: 'adam', learningRate: 0.01, savedAt: 'now' };

function trainSteps(model: tfl.LayersModel, optimizer: tf.Optimizer, steps: number): number[] {
  const x = tf.tensor2d([[1, 2, 3, 4], [0, -1, 2, 1], [3, 0, 1, -2]]);
  const y = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const cost = optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, vars)!;
    losses.push(cost.dataSync()[0]);
    cost.dispose();
  }
  tf.dispose([x, y]);
  return losses;
}

test('a checkpoint restores model weights and Adam state: training continues exactly as without the interruption', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segscope-ckpt-'));
  try {
    const reference = tinyModel(1);
    const refOpt = tf.train.adam(0.05);
    const refLosses = trainSteps(reference, refOpt, 6);

    const a = tinyModel(1);
    const optA = tf.train.adam(0.05);
    const first = trainSteps(a, optA, 3);
    const ckpt = path.join(dir, 'checkpoint');
    await saveCheckpoint(ckpt, a, optA, state);
    await saveCheckpoint(ckpt, a, optA, state); // replacing an existing checkpoint works
    assert.deepEqual(readdirSync(dir), ['checkpoint']);
    for (const f of ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'state.json']) assert.ok(existsSync(path.join(ckpt, f)), f);
    const modelJson = JSON.parse(readFileSync(path.join(ckpt, 'model.json'), 'utf8'));
    assert.equal(modelJson.format, 'layers-model');
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['./weights.bin']);

    const b = tinyModel(99); // different initial weights: everything must come from the checkpoint
    const optB = tf.train.adam(0.05);
    await loadModelWeights(ckpt, b);
    await loadOptimizerState(ckpt, optB);
    const rest = trainSteps(b, optB, 3);
    [...first, ...rest].forEach((loss, i) => assert.ok(Math.abs(loss - refLosses[i]) < 1e-6, `step ${i}: ${loss} vs ${refLosses[i]}`));
    assert.deepEqual(readCheckpointState(ckpt), state);
    assert.equal(findCheckpoint(ckpt), ckpt);

    // the saved model also loads with tfjs' own loader through the load handler
    const loaded = await tfl.loadLayersModel(fileLoadHandler(ckpt));
    const x = tf.tensor2d([[1, 1, 1, 1]]);
    const p1 = (a.predict(x) as tf.Tensor).dataSync();
    const p2 = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual([...p2], [...p1]);
    tf.dispose(x);
    [reference, a, b, loaded].forEach((m) => m.dispose());
    [refOpt, optA, optB].forEach((o) => o.dispose());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading a checkpoint into a different architecture fails with a clear message', async () => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segscope-ckpt-'));
  try {
    const a = tinyModel(1);
    const opt = tf.train.sgd(0.1);
    await saveCheckpoint(path.join(dir, 'c'), a, opt, state);
    const input = tfl.input({ shape: [4] });
    const other = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
    await assert.rejects(loadModelWeights(path.join(dir, 'c'), other), /not the same architecture/);
    a.dispose(); other.dispose(); opt.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
