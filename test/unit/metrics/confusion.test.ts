// Confusion matrix, IoU, mIoU and pixel accuracy against hand-counted small label maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ConfusionMatrix, argmaxLabels, argmaxLabelsSync } from '../../../src/engine/metrics/confusion';

const VOID = 255;

test('setup', async () => {
  await tf.setBackend('cpu');
});

test('counts rows = ground truth, columns = prediction, skipping void pixels', () => {
  const m = new ConfusionMatrix(4, VOID);
  //            gt: 0  0  1  1  1  2    2  255 3
  const gt = new Uint8Array([0, 0, 1, 1, 1, 2, 2, VOID, 0]);
  const pr = new Int32Array([0, 1, 1, 1, 0, 2, 0, 3, 0]);
  m.add(gt, pr);
  assert.deepEqual(m.toArray(), [
    [2, 1, 0, 0],
    [1, 2, 0, 0],
    [1, 0, 1, 0],
    [0, 0, 0, 0],
  ]);
  assert.equal(m.total, 8);
  // class 0: tp 2, fp 2 (gt1→0, gt2→0), fn 1 → 2/5; class 1: tp 2, fp 1, fn 1 → 2/4; class 2: tp 1, fn 1 → 1/2;
  // class 3: predicted only at the void pixel (skipped) → absent → null.
  assert.deepEqual(m.iou(), [2 / 5, 2 / 4, 1 / 2, null]);
  assert.equal(m.miou(), (2 / 5 + 2 / 4 + 1 / 2) / 3);
  assert.equal(m.pixelAccuracy(), 5 / 8);
});

test('accumulates over calls and merges; a class predicted but absent from GT has IoU 0', () => {
  const a = new ConfusionMatrix(3, VOID);
  a.add(new Int32Array([0, 1]), new Int32Array([0, 2]));
  const b = new ConfusionMatrix(3, VOID);
  b.add(new Int32Array([1, VOID]), new Int32Array([1, 0]));
  a.merge(b);
  assert.deepEqual(a.toArray(), [[1, 0, 0], [0, 1, 1], [0, 0, 0]]);
  assert.deepEqual(a.iou(), [1, 1 / 2, 0]);
  assert.equal(a.miou(), 1.5 / 3);
  a.reset();
  assert.equal(a.total, 0);
  assert.equal(a.miou(), 0);
  assert.equal(a.pixelAccuracy(), 0);
});

test('a random case matches a direct per-class count', () => {
  const n = 5;
  const size = 500;
  const gt = new Int32Array(size);
  const pr = new Int32Array(size);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < size; i++) {
    gt[i] = rnd() < 0.1 ? VOID : Math.floor(rnd() * (n - 1)); // class 4 never in GT
    pr[i] = Math.floor(rnd() * n);
  }
  const m = new ConfusionMatrix(n, VOID);
  m.add(gt, pr);
  for (let c = 0; c < n; c++) {
    let tp = 0; let fp = 0; let fn = 0;
    for (let i = 0; i < size; i++) {
      if (gt[i] === VOID) continue;
      if (gt[i] === c && pr[i] === c) tp++;
      else if (pr[i] === c) fp++;
      else if (gt[i] === c) fn++;
    }
    assert.equal(m.iou()[c], tp + fp + fn === 0 ? null : tp / (tp + fp + fn));
  }
  let correct = 0; let valid = 0;
  for (let i = 0; i < size; i++) if (gt[i] !== VOID) { valid++; if (gt[i] === pr[i]) correct++; }
  assert.equal(m.pixelAccuracy(), correct / valid);
});

test('rejects mismatched lengths and predictions outside the classes', () => {
  const m = new ConfusionMatrix(2, VOID);
  assert.throws(() => m.add(new Int32Array(2), new Int32Array(3)), /length/);
  assert.throws(() => m.add(new Int32Array([0]), new Int32Array([2])), RangeError);
});

test('argmax labels of a [B,H,W,C] tensor, flattened, without leaking', async () => {
  const out = tf.tensor4d([
    0.1, 0.7, 0.2, /**/ 0.9, 0.05, 0.05,
    0.2, 0.2, 0.6, /**/ 0.3, 0.4, 0.3,
  ], [2, 1, 2, 3]);
  const before = tf.memory().numTensors;
  assert.deepEqual(Array.from(await argmaxLabels(out)), [1, 0, 2, 1]);
  assert.deepEqual(Array.from(argmaxLabelsSync(out)), [1, 0, 2, 1]);
  assert.ok((await argmaxLabels(out)) instanceof Int32Array);
  assert.equal(tf.memory().numTensors, before);
  out.dispose();
});
