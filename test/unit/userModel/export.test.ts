// Export round-trip: checkpoint → tfjs folder (+ .h5) → load → identical logits on cpu; and the CLI subcommand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildUNet } from '../../../src/engine/models';
import { saveCheckpoint } from '../../../src/engine/run/checkpoint';
import { exportRun, loadH5Weights, loadLayersModelFromFolder } from '../../../src/engine/userModel';
import { run as exportCommand } from '../../../src/cli/commands/export';

const root = mkdtempSync(path.join(os.tmpdir(), 'segscope-export-'));

async function fakeRun(): Promise<{ runDir: string; model: ReturnType<typeof buildUNet> }> {
  const model = buildUNet({ numClasses: 3, inputSize: 16, width: 0.25, seed: 5 });
  // Non-trivial BatchNorm statistics so that a wrong BN mode or lost moving stats changes the logits.
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'SegScopeBatchNorm') continue;
    const c = layer.getWeights()[0].shape[0];
    layer.setWeights([tf.randomUniform([c], 0.5, 1.5, 'float32', 1), tf.randomUniform([c], -0.2, 0.2, 'float32', 2),
      tf.randomUniform([c], -0.5, 0.5, 'float32', 3), tf.randomUniform([c], 0.5, 2, 'float32', 4)]);
  }
  const runDir = path.join(root, 'run');
  await saveCheckpoint(path.join(runDir, 'checkpoint'), model, tf.train.adam(), {
    formatVersion: 1, epochsDone: 2, batchInEpoch: 0, step: 10, seed: 1, optimizer: 'adam', learningRate: 0.001, savedAt: new Date().toISOString(),
  });
  return { runDir, model };
}

test('exported folder and .h5 load back with identical logits (≤ 1e-6, cpu)', async () => {
  await tf.setBackend('cpu');
  const { runDir, model } = await fakeRun();
  const out = path.join(root, 'exported');
  const result = await exportRun(runDir, out, { h5: true });
  const json = JSON.parse(readFileSync(result.modelJson, 'utf8'));
  assert.ok(!JSON.stringify(json.modelTopology).includes('SegScopeBatchNorm'), 'exported with stock BatchNormalization');
  assert.ok(JSON.stringify(json.modelTopology).includes('"BatchNormalization"'));

  const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 9);
  const expected = model.predict(x) as tf.Tensor;
  const reloaded = await loadLayersModelFromFolder(out);
  const fromFolder = reloaded.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(fromFolder, expected))).dataSync()[0] <= 1e-6);

  // .h5 into a freshly built model of the same architecture (other seed = other initial weights).
  const fresh = buildUNet({ numClasses: 3, inputSize: 16, width: 0.25, seed: 99 });
  const before = fresh.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(before, expected))).dataSync()[0] > 1e-3, 'a fresh model differs before loading');
  const report = loadH5Weights(fresh, result.h5!, { strict: true });
  assert.equal(report.matched.length, fresh.layers.filter((l) => l.weights.length > 0).length);
  const fromH5 = fresh.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(fromH5, expected))).dataSync()[0] <= 1e-6);
  tf.dispose([x, expected, fromFolder, before, fromH5]);
  model.dispose();
  reloaded.dispose();
  fresh.dispose();
});

test('segscope export writes the folder and .h5; a run without checkpoint is a one-line error', async () => {
  const { runDir, model } = await fakeRun();
  model.dispose();
  const out = path.join(root, 'cli-out');
  assert.equal(await exportCommand([runDir, '--out', out, '--h5']), 0);
  assert.ok(existsSync(path.join(out, 'model.json')) && existsSync(path.join(out, 'weights.h5')));
  await assert.rejects(exportCommand([path.join(root, 'nothing-here')]), /no checkpoint/);
});
