// tfjs LayersModel folders from disk: multi-shard loading, BatchNorm made freezable in inference mode, softmax
// detection, clear errors for missing/truncated/corrupt files, trust.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { BatchNorm, setFrozen, summarizeModel } from '../../../src/engine/models';
import { UntrustedFileError, UserFileError, assertTrusted, endsInSoftmax, loadLayersModelFromFolder } from '../../../src/engine/userModel';

const root = mkdtempSync(path.join(os.tmpdir(), 'segscope-folder-'));

function stockModel(softmax: boolean): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  let x = tfl.layers.conv2d({ name: 'conv1', filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'conv1_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ name: 'conv1_relu', activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ name: 'logits', filters: 3, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
  if (softmax) x = tfl.layers.softmax({ name: 'probs' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x, name: 'stock' });
}

/** Writes what tensorflowjs_converter writes: model.json + the weights split over two shard files. */
async function writeConverted(model: tfl.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
    const cut = Math.floor(data.length / 2);
    writeFileSync(path.join(dir, 'group1-shard1of2.bin'), data.subarray(0, cut));
    writeFileSync(path.join(dir, 'group1-shard2of2.bin'), data.subarray(cut));
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', generatedBy: 'keras v2.13.1', convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

test('a converted model folder loads with identical outputs; BatchNorm becomes freezable in inference mode', async () => {
  await tf.setBackend('cpu');
  const original = stockModel(false);
  // Give the BatchNorm non-trivial moving statistics so that inference and training modes differ.
  original.getLayer('conv1_bn').setWeights([tf.fill([4], 1.5), tf.fill([4], 0.2), tf.fill([4], 0.3), tf.fill([4], 2)]);
  const dir = path.join(root, 'converted');
  await writeConverted(original, dir);
  const loaded = await loadLayersModelFromFolder(path.join(dir, 'model.json'));
  const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 3);
  const a = original.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] <= 1e-6);
  const bn = loaded.getLayer('conv1_bn');
  assert.ok(bn instanceof BatchNorm, 'stock BatchNormalization is loaded as SegScope BatchNorm');
  assert.equal(endsInSoftmax(loaded), false);
  assert.deepEqual(summarizeModel(loaded).layers.map((l) => l.name), ['input1', 'conv1', 'conv1_bn', 'conv1_relu', 'logits'].map((n, i) => (i === 0 ? loaded.layers[0].name : n)));

  // Frozen in inference mode: training=true uses (and keeps) the moving statistics.
  const frozen = setFrozen(loaded, { firstN: 3 }, 'inference');
  assert.deepEqual(frozen.slice(1), ['conv1', 'conv1_bn']);
  const movingBefore = Array.from(bn.getWeights()[2].dataSync());
  const trainOut = loaded.apply(x, { training: true }) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(trainOut, b))).dataSync()[0] <= 1e-5, 'inference-mode BN: training output = inference output');
  assert.deepEqual(Array.from(bn.getWeights()[2].dataSync()), movingBefore);
  // Unfrozen ('train' mode) it would use batch statistics: outputs differ — so the check above can fail.
  (bn as BatchNorm).inferenceMode = false;
  const batchStats = loaded.apply(x, { training: true }) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(batchStats, b))).dataSync()[0] > 1e-3);
  tf.dispose([x, a, b, trainOut, batchStats]);
  original.dispose();
  loaded.dispose();
});

test('endsInSoftmax sees a Softmax layer and an activation: softmax on the output layer', async () => {
  const dir = path.join(root, 'softmax');
  await writeConverted(stockModel(true), dir);
  assert.equal(endsInSoftmax(await loadLayersModelFromFolder(dir)), true);
  const input = tfl.input({ shape: [4, 4, 3] });
  const out = tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'softmax' }).apply(input) as tfl.SymbolicTensor;
  assert.equal(endsInSoftmax(tfl.model({ inputs: input, outputs: out })), true);
});

test('missing, truncated or corrupt files fail with an error naming the file', async () => {
  const dir = path.join(root, 'broken');
  await writeConverted(stockModel(false), dir);
  const shard = path.join(dir, 'group1-shard2of2.bin');
  const bytes = readFileSync(shard);
  writeFileSync(shard, bytes.subarray(0, bytes.length - 8));
  await assert.rejects(loadLayersModelFromFolder(dir), (e: unknown) => e instanceof UserFileError && e.message.includes(shard) && /truncated/.test(e.message));
  writeFileSync(shard, bytes);
  const json = path.join(dir, 'model.json');
  const text = readFileSync(json, 'utf8');
  writeFileSync(json, text.slice(0, text.length / 2));
  await assert.rejects(loadLayersModelFromFolder(json), (e: unknown) => e instanceof UserFileError && e.message.includes(json));
  writeFileSync(json, text.replace('group1-shard1of2.bin', 'nope.bin'));
  await assert.rejects(loadLayersModelFromFolder(json), (e: unknown) => e instanceof UserFileError && e.message.includes('nope.bin'));
  writeFileSync(json, text.replace('"Conv2D"', '"NoSuchLayer"'));
  await assert.rejects(loadLayersModelFromFolder(json), (e: unknown) => e instanceof UserFileError && e.message.includes(json) && /NoSuchLayer/.test(e.message));
  await assert.rejects(loadLayersModelFromFolder(path.join(root, 'absent', 'model.json')), /absent.*not found/);
});

test('assertTrusted refuses untrusted loading and names the file', () => {
  assert.throws(() => assertTrusted(false, '/w/model.json'), (e: unknown) => e instanceof UntrustedFileError && /\/w\/model\.json/.test(e.message) && /--trust/.test(e.message));
  assert.doesNotThrow(() => assertTrusted(true, '/w/model.json'));
});
