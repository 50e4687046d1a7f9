// Probes: activation quantisation, watch maps and per-image metrics, layer statistics and saturation, the aux model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { dequantizeChannel, quantizeActivation } from '../../../src/engine/probes/activationFile';
import { watchMaps } from '../../../src/engine/probes/watchMaps';
import { mergeRawStats, rawStats, saturationOf } from '../../../src/engine/probes/layerStats';
import { ProbeModel } from '../../../src/engine/probes/probeModel';

test('quantizeActivation: channel-major bytes, per-channel min/max, strongest channels by mean; round trip within 1/255', () => {
  const h = 2, w = 3, c = 2;
  const values = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) { values[p * c] = p; values[p * c + 1] = 10 - 2 * p; } // channel 1 has the larger mean
  const { bytes, header } = quantizeActivation(values, [h, w, c], 'L', 'img');
  assert.deepEqual(header.shape, [2, 3, 2]);
  assert.deepEqual(header.min, [0, 0]);
  assert.deepEqual(header.max, [5, 10]);
  assert.deepEqual(header.strongest, [1, 0]);
  assert.deepEqual([...bytes.subarray(0, 6)], [0, 51, 102, 153, 204, 255]);
  assert.deepEqual([...bytes.subarray(6)], [255, 204, 153, 102, 51, 0]);
  const back = dequantizeChannel(bytes, header, 1);
  back.forEach((v, p) => assert.ok(Math.abs(v - (10 - 2 * p)) <= 10 / 255));
  const flat = quantizeActivation(new Float32Array([3, 3]), [1, 2, 1], 'L', 'i');
  assert.deepEqual([...flat.bytes], [0, 0]);
});

test('watchMaps: argmax, confidence, error map (0 right / 1 wrong / 2 void) and the image\'s mIoU / accuracy', () => {
  // 4 pixels, 2 classes; truth [0, 1, 1, 255]; predictions [0, 0, 1, 1]
  const probs = new Float32Array([0.9, 0.1, 0.6, 0.4, 0.2, 0.8, 0.3, 0.7]);
  const m = watchMaps(probs, new Int32Array([0, 1, 1, 255]), 2, 255);
  assert.deepEqual([...m.argmax], [0, 0, 1, 1]);
  const byte = (i: number) => Math.round(probs[i] * 255); // float32 inputs: 0.9 is 0.89999998 → 229
  assert.deepEqual([...m.confidence], [byte(0), byte(2), byte(5), byte(7)]);
  assert.deepEqual([...m.error], [0, 1, 0, 2]);
  assert.deepEqual([...m.probabilities], [...probs].map((_, i) => byte(i)));
  // class 0: tp 1, union 2 → 0.5; class 1: tp 1, union 2 → 0.5
  assert.equal(m.miou, 0.5);
  assert.equal(m.pixelAccuracy, 2 / 3);
});

test('rawStats + mergeRawStats equal statistics computed over all images at once', async () => {
  await tf.setBackend('cpu');
  const a = [0, 0, 1, 6, 7, -2], b = [6, 3, 0, 2];
  const sat = { kind: 'above' as const, at: 6 };
  const parts = [a, b].map((v) => { const t = tf.tensor1d(v); const s = rawStats(t, sat); const d = s.dataSync(); tf.dispose([t, s]); return d; });
  const all = [...a, ...b];
  const mean = all.reduce((x, y) => x + y, 0) / all.length;
  const std = Math.sqrt(all.reduce((x, y) => x + (y - mean) ** 2, 0) / all.length);
  const stats = mergeRawStats(parts);
  assert.ok(Math.abs(stats.mean - mean) < 1e-6);
  assert.ok(Math.abs(stats.std - std) < 1e-5);
  assert.equal(stats.min, -2);
  assert.equal(stats.max, 7);
  assert.equal(stats.zeros, 3 / 10);
  assert.equal(stats.saturated, 3 / 10);
});

test('saturationOf reads ReLU6 caps and sigmoid/softmax/tanh activations', () => {
  assert.deepEqual(saturationOf(tfl.layers.reLU({ maxValue: 6 })), { kind: 'above', at: 6 });
  assert.equal(saturationOf(tfl.layers.dense({ units: 2, activation: 'sigmoid' })).kind, 'unit');
  assert.equal(saturationOf(tfl.layers.activation({ activation: 'tanh' })).kind, 'abs');
  assert.equal(saturationOf(tfl.layers.softmax()).kind, 'unit');
  assert.equal(saturationOf(tfl.layers.reLU()).kind, 'none');
});

test('ProbeModel: one pass gives softmax probabilities, every layer\'s statistics and the watched activation', async () => {
  await tf.setBackend('cpu');
  const input = tfl.input({ shape: [4, 4, 3] });
  const conv = tfl.layers.conv2d({ name: 'conv', filters: 5, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(input) as tfl.SymbolicTensor;
  const relu = tfl.layers.reLU({ name: 'relu', maxValue: 6 }).apply(conv) as tfl.SymbolicTensor;
  const logits = tfl.layers.conv2d({ name: 'logits', filters: 2, kernelSize: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }).apply(relu) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: logits });
  const probe = new ProbeModel(model, false);
  assert.deepEqual(probe.layerNames, ['conv', 'relu', 'logits']);
  const image = Float32Array.from({ length: 48 }, (_, i) => Math.cos(i));
  const count = tf.memory().numTensors;
  const r = probe.run(image, 4, ['relu']);
  assert.equal(tf.memory().numTensors, count);
  const x = tf.tensor4d(image, [1, 4, 4, 3]);
  const expectedProbs = tf.softmax(model.predict(x) as tf.Tensor).dataSync();
  r.probabilities.forEach((p, i) => assert.ok(Math.abs(p - expectedProbs[i]) < 1e-6));
  const reluModel = tfl.model({ inputs: input, outputs: relu });
  const reluOut = (reluModel.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual([...r.activations.relu.values], [...reluOut]);
  assert.deepEqual(r.activations.relu.shape, [4, 4, 5]);
  const stats = probe.statsByLayer(r.rawStats).relu;
  assert.equal(stats.zeros, reluOut.filter((v) => v === 0).length / reluOut.length);
  assert.equal(stats.max, Math.max(...reluOut));
  // several images in one pass: same per-image outputs, statistics over all of them
  const image2 = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.7));
  const beforeBoth = tf.memory().numTensors;
  const both = probe.runImages([image, image2], 4, ['relu']);
  assert.equal(tf.memory().numTensors, beforeBoth);
  const r2 = probe.run(image2, 4, ['relu']);
  both.images[0].probabilities.forEach((p, i) => assert.ok(Math.abs(p - r.probabilities[i]) < 1e-6));
  both.images[1].activations.relu.values.forEach((v, i) => assert.ok(Math.abs(v - r2.activations.relu.values[i]) < 1e-6));
  const all = [...r.activations.relu.values, ...r2.activations.relu.values];
  const merged = probe.statsByLayer(both.rawStats).relu;
  assert.equal(merged.max, Math.max(...all));
  assert.ok(Math.abs(merged.mean - all.reduce((a, b) => a + b, 0) / all.length) < 1e-6);
  tf.dispose(x);
  model.dispose();
});
