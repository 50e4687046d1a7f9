// Losses against loop-based hand computations on tiny batches, ignore-pixel behaviour, stability and user modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's gradients
import { loadLossModule, makeLoss, inverseFrequencyWeights } from '../../../src/engine/losses';
import type { ResolvedConfig } from '../../../src/config/resolve';

type LossCfg = ResolvedConfig['loss'];
const VOID = 255;
const C = 3;

function cfg(over: Partial<LossCfg>): LossCfg {
  return { type: 'ce', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2, ...over };
}

// 1×2×2×3: labels [[0, 2], [255, 1]] — pixel 2 is void.
const LABELS = [0, 2, VOID, 1];
const LOGITS = [
  [2.0, 0.5, -1.0],
  [0.1, 0.2, 0.3],
  [5.0, -3.0, 1.0],
  [-0.5, 1.5, 0.0],
];

// ---- independent reference (plain loops, Math only) ----
function softmaxRow(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const clip = (p: number) => Math.min(Math.max(p, 1e-7), 1 - 1e-7);

interface RefOptions { fromLogits: boolean; mode: 'index' | 'zero' | 'value'; weights?: number[]; gamma?: number }

function refRows(labels: number[], out: number[][], o: RefOptions) {
  return labels.map((label, i) => {
    const p = o.fromLogits ? softmaxRow(out[i]) : out[i].map(clip);
    const isVoid = !(label >= 0 && label < C) || label === VOID;
    const t = Array.from({ length: C }, (_, c) => (isVoid ? (o.mode === 'value' && label === VOID ? VOID : 0) : c === label ? 1 : 0));
    return { p, t, isVoid, label };
  });
}

function refCrossEntropy(labels: number[], out: number[][], o: RefOptions): number {
  const w = o.weights ?? Array(C).fill(1);
  const gamma = o.gamma ?? 0;
  let num = 0;
  let den = 0;
  for (const { p, t, isVoid, label } of refRows(labels, out, o)) {
    for (let c = 0; c < C; c++) num += -w[c] * t[c] * Math.pow(1 - p[c], gamma) * Math.log(p[c]);
    if (!isVoid) den += w[label];
    else if (o.mode === 'value') den += 1;
  }
  return den === 0 ? 0 : num / den;
}

function refDice(labels: number[], out: number[][], o: RefOptions): number {
  const inter = Array(C).fill(0);
  const psum = Array(C).fill(0);
  const tsum = Array(C).fill(0);
  for (const { p, t, isVoid } of refRows(labels, out, o)) {
    if (isVoid && o.mode !== 'value') continue;
    for (let c = 0; c < C; c++) {
      inter[c] += p[c] * t[c];
      psum[c] += p[c];
      tsum[c] += t[c];
    }
  }
  let sum = 0;
  let n = 0;
  for (let c = 0; c < C; c++) {
    if (tsum[c] > 0) {
      sum += (2 * inter[c]) / (psum[c] + tsum[c]);
      n++;
    }
  }
  return n === 0 ? 0 : 1 - sum / n;
}

function lossValue(c: LossCfg, labels: number[], out: number[][], shape: [number, number, number] = [1, 2, 2], freq?: number[]): number {
  const fn = makeLoss(c, { numClasses: C, ignoreLabel: VOID, classFrequencies: freq });
  const before = tf.memory().numTensors;
  const l = tf.tensor3d(labels, shape, 'int32');
  const o = tf.tensor4d(out.flat(), [...shape, C]);
  const r = fn(l, o);
  const v = r.dataSync()[0];
  tf.dispose([l, o, r]);
  assert.equal(tf.memory().numTensors, before, 'loss leaked tensors');
  return v;
}

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
const PROBS = LOGITS.map(softmaxRow);

test('setup', async () => {
  await tf.setBackend('cpu');
});

test('CE with index targets = mean −log p over the 3 valid pixels', () => {
  const expected = -(Math.log(PROBS[0][0]) + Math.log(PROBS[1][2]) + Math.log(PROBS[3][1])) / 3;
  close(refCrossEntropy(LABELS, LOGITS, { fromLogits: true, mode: 'index' }), expected);
  close(lossValue(cfg({}), LABELS, LOGITS), expected);
});

test('CE one-hot zero equals index; one-hot value adds 255·Σ−log p of the void pixel over 4 pixels', () => {
  const idx = lossValue(cfg({}), LABELS, LOGITS);
  close(lossValue(cfg({ target: 'onehot', onehotIgnore: 'zero' }), LABELS, LOGITS), idx);
  const voidTerm = VOID * PROBS[2].reduce((a, p) => a - Math.log(p), 0);
  const expected = (idx * 3 + voidTerm) / 4;
  close(refCrossEntropy(LABELS, LOGITS, { fromLogits: true, mode: 'value' }), expected);
  close(lossValue(cfg({ target: 'onehot', onehotIgnore: 'value' }), LABELS, LOGITS), expected);
});

test('CE from probabilities uses them as given (clipped), not softmaxed again', () => {
  const probs = PROBS.map((r) => r.slice());
  probs[1] = [0, 0.3, 0.7]; // exact zero is clipped to 1e-7
  const expected = refCrossEntropy(LABELS, probs, { fromLogits: false, mode: 'index' });
  close(lossValue(cfg({ fromLogits: false }), LABELS, probs), expected);
  // The double-softmax bug: probabilities fed as logits give a different (flatter) loss.
  assert.ok(Math.abs(lossValue(cfg({ fromLogits: true }), LABELS, probs) - expected) > 0.1);
});

test('weighted CE: Σ w·(−log p) / Σ w over valid pixels; inverse-frequency weights', () => {
  const weights = [0.5, 2, 1];
  const expected = (-0.5 * Math.log(PROBS[0][0]) - 1 * Math.log(PROBS[1][2]) - 2 * Math.log(PROBS[3][1])) / (0.5 + 1 + 2);
  close(refCrossEntropy(LABELS, LOGITS, { fromLogits: true, mode: 'index', weights }), expected);
  close(lossValue(cfg({ type: 'weighted-ce', classWeights: weights }), LABELS, LOGITS), expected);

  const freq = [60, 30, 10];
  const inv = inverseFrequencyWeights(freq);
  // 1 / (K · f_c) with f normalised: [1/1.8, 1/0.9, 1/0.3]
  [1 / 1.8, 1 / 0.9, 1 / 0.3].forEach((w, c) => close(inv[c], w));
  const expectedInv = refCrossEntropy(LABELS, LOGITS, { fromLogits: true, mode: 'index', weights: inv });
  close(lossValue(cfg({ type: 'weighted-ce', classWeights: 'inverse-frequency' }), LABELS, LOGITS, [1, 2, 2], freq), expectedInv);
  assert.throws(() => makeLoss(cfg({ type: 'weighted-ce' }), { numClasses: C, ignoreLabel: VOID }), /classWeights/);
  assert.throws(() => makeLoss(cfg({ classWeights: [1, 2] }), { numClasses: C, ignoreLabel: VOID }), /3/);
});

test('focal loss (gamma 2) = mean of −(1−p)²·log p over valid pixels', () => {
  const terms = [PROBS[0][0], PROBS[1][2], PROBS[3][1]].map((p) => -Math.pow(1 - p, 2) * Math.log(p));
  const expected = terms.reduce((a, b) => a + b, 0) / 3;
  close(refCrossEntropy(LABELS, LOGITS, { fromLogits: true, mode: 'index', gamma: 2 }), expected);
  close(lossValue(cfg({ type: 'focal', focalGamma: 2 }), LABELS, LOGITS), expected);
  close(lossValue(cfg({ type: 'focal', focalGamma: 0 }), LABELS, LOGITS), lossValue(cfg({}), LABELS, LOGITS));
});

test('dice: per class over valid pixels only, averaged over classes present', () => {
  // Hand-written for this case: valid pixels 0 (class 0), 1 (class 2), 3 (class 1); each class present once.
  const valid = [0, 1, 3];
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const owner = valid.find((i) => LABELS[i] === c)!;
    const psum = valid.reduce((a, i) => a + PROBS[i][c], 0);
    sum += (2 * PROBS[owner][c]) / (psum + 1);
  }
  const expected = 1 - sum / 3;
  close(refDice(LABELS, LOGITS, { fromLogits: true, mode: 'index' }), expected);
  close(lossValue(cfg({ type: 'dice' }), LABELS, LOGITS), expected);
  close(lossValue(cfg({ type: 'dice', target: 'onehot', onehotIgnore: 'zero' }), LABELS, LOGITS), expected);
  // A class absent from the ground truth is not averaged in.
  const twoClass = [0, 0, VOID, 1];
  close(lossValue(cfg({ type: 'dice' }), twoClass, LOGITS), refDice(twoClass, LOGITS, { fromLogits: true, mode: 'index' }));
  // 'value': every pixel, 255s in the void row (the naive formula).
  close(lossValue(cfg({ type: 'dice', target: 'onehot', onehotIgnore: 'value' }), LABELS, LOGITS),
    refDice(LABELS, LOGITS, { fromLogits: true, mode: 'value' }));
});

test('ce+dice is the sum of both', () => {
  const expected = refCrossEntropy(LABELS, LOGITS, { fromLogits: true, mode: 'index' }) + refDice(LABELS, LOGITS, { fromLogits: true, mode: 'index' });
  close(lossValue(cfg({ type: 'ce+dice' }), LABELS, LOGITS), expected);
});

test('void pixels: their logits do not matter for index / one-hot zero, but do for one-hot value', () => {
  const changed = LOGITS.map((r) => r.slice());
  changed[2] = [-7, 9, 0.25];
  const types: LossCfg['type'][] = ['ce', 'focal', 'dice', 'ce+dice'];
  for (const type of types) {
    for (const mode of [{ target: 'index' as const }, { target: 'onehot' as const, onehotIgnore: 'zero' as const }]) {
      const c = cfg({ type, ...mode });
      close(lossValue(c, LABELS, changed), lossValue(c, LABELS, LOGITS));
    }
    const value = cfg({ type, target: 'onehot', onehotIgnore: 'value' });
    // Dice barely moves (Σ_c p_c = 1 at the void pixel makes the 255 terms nearly cancel), CE by hundreds.
    assert.ok(Math.abs(lossValue(value, LABELS, changed) - lossValue(value, LABELS, LOGITS)) > 1e-5, `${type} value mode`);
  }
});

test('gradient is zero at void pixels and finite when every pixel is void', () => {
  const fn = makeLoss(cfg({ type: 'ce+dice' }), { numClasses: C, ignoreLabel: VOID });
  const labels = tf.tensor3d(LABELS, [1, 2, 2], 'int32');
  const g = tf.grad((o: tf.Tensor) => fn(labels, o as tf.Tensor4D))(tf.tensor4d(LOGITS.flat(), [1, 2, 2, C]));
  const grad = g.arraySync() as number[][][][];
  assert.deepEqual(grad[0][1][0], [0, 0, 0]);
  assert.ok(grad[0][0][0].some((v) => v !== 0));
  const allVoid = tf.tensor3d([VOID, VOID, VOID, VOID], [1, 2, 2], 'int32');
  const out = tf.tensor4d(LOGITS.flat(), [1, 2, 2, C]);
  assert.equal(fn(allVoid, out).dataSync()[0], 0);
  const g0 = tf.grad((o: tf.Tensor) => fn(allVoid, o as tf.Tensor4D))(out).dataSync();
  assert.ok(g0.every((v) => v === 0), 'all-void gradient must be exactly 0, not NaN');
  tf.dispose([labels, g, allVoid, out]);
});

test('focal gradient stays finite when a probability is exactly 1 (gamma < 1)', () => {
  const fn = makeLoss(cfg({ type: 'focal', focalGamma: 0.5 }), { numClasses: C, ignoreLabel: VOID });
  const labels = tf.tensor3d(LABELS, [1, 2, 2], 'int32');
  const out = tf.tensor4d([[100, 0, 0], [0, 0, 100], [0, 0, 0], [0, 100, 0]].flat(), [1, 2, 2, C]);
  const g = tf.grad((o: tf.Tensor) => fn(labels, o as tf.Tensor4D))(out);
  assert.ok(g.dataSync().every(Number.isFinite));
  tf.dispose([labels, out, g]);
});

test('stable for huge logits (log-softmax), and labels outside 0..C−1 count as void', () => {
  const big = [[1000, -1000, 0], [0, 0, 1000], [3, 2, 1], [-1000, 1000, 0]];
  const v = lossValue(cfg({}), LABELS, big);
  assert.ok(Number.isFinite(v));
  close(v, 0, 1e-6);
  const wrong = lossValue(cfg({}), [1, 0, VOID, 2], big);
  close(wrong, (2000 + 1000 + 1000) / 3, 1e-4);
  close(lossValue(cfg({}), [0, 2, 7, 1], LOGITS), lossValue(cfg({}), LABELS, LOGITS));
});

test('batch of two images with a different void layout matches the loop reference', () => {
  const labels = [0, 1, 2, VOID, VOID, 2, 1, 1];
  const out = labels.map((_, i) => [Math.sin(i), Math.cos(2 * i), 0.3 * i - 1]);
  for (const type of ['ce', 'focal', 'dice'] as const) {
    for (const mode of ['index', 'value'] as const) {
      const c = cfg({ type, target: mode === 'index' ? 'index' : 'onehot', onehotIgnore: mode === 'value' ? 'value' : 'zero' });
      const ref = type === 'dice'
        ? refDice(labels, out, { fromLogits: true, mode })
        : refCrossEntropy(labels, out, { fromLogits: true, mode, gamma: type === 'focal' ? 2 : 0 });
      close(lossValue(c, labels, out, [2, 2, 2]), ref);
    }
  }
});

test('loadLossModule loads a CommonJS loss(labels, output, tf) and averages non-scalar results', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'segscope-loss-'));
  const file = path.join(dir, 'myLoss.js');
  fs.writeFileSync(file, 'exports.loss = (labels, output, tf) => tf.mul(output, 2);\n');
  const fn = loadLossModule(file);
  const v = fn(tf.tensor3d(LABELS, [1, 2, 2], 'int32'), tf.tensor4d(LOGITS.flat(), [1, 2, 2, C]));
  close(v.dataSync()[0], (2 * LOGITS.flat().reduce((a, b) => a + b, 0)) / 12);
  fs.writeFileSync(file, 'exports.notLoss = 1;\n');
  assert.throws(() => loadLossModule(file), /loss/);
  fs.rmSync(dir, { recursive: true, force: true });
});
