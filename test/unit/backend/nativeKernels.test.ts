// SegScope's wasm SIMD kernels on the threaded backend (shared heap, work split over two threads) against the cpu
// backend, on shapes large enough to split; and the embedded binary is the one built from native/*.c.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { nativeKernelsFor, type NativeKernelName } from '../../../src/engine/backend/nativeKernels';
import { KERNELS_SOURCE_SHA256 } from '../../../src/engine/backend/native/nativeKernelsBinary';
import { batchNormTraining } from '../../../src/engine/models';
import { fusedSoftmaxCrossEntropy } from '../../../src/engine/losses/softmaxCrossEntropy';
import { dilateFilter, onBackend, relativeError, seeded, size, undilateFilter } from './helpers';

const TOLERANCE = 1e-4;
let threads = 0;

before(async () => {
  await initBackend('cpu');
  const report = await initBackend('wasm', { threads: 2 });
  threads = report.threads ?? 1;
  // Shared calls wait for the helper to take a chunk, so every split call below checks the helper's part too.
  const helper = nativeKernelsFor(tf.findBackend('wasm'))?.helperThread;
  if (helper) helper.helperFirst = true;
});

after(() => {
  const helper = nativeKernelsFor(tf.findBackend('wasm'))?.helperThread;
  if (helper) helper.helperFirst = false;
});

const helperChunks = () => nativeKernelsFor(tf.findBackend('wasm'))?.helperThread?.helperChunks ?? 0;

function counts(name: NativeKernelName) {
  const native = nativeKernelsFor(tf.findBackend('wasm'));
  assert.ok(native, 'native kernels in effect on wasm');
  return { ...(native.counts.get(name) ?? { calls: 0, split: 0 }) };
}

/** Runs `work` on wasm and checks the kernel ran natively, and on two threads when the backend has them. */
async function onWasmNative(name: NativeKernelName, work: () => tf.Tensor | tf.Tensor[]) {
  const before = counts(name), helperBefore = helperChunks();
  await tf.setBackend('wasm');
  const out = tf.tidy(() => [work()].flat().map((t) => t.dataSync() as Float32Array));
  const after = counts(name);
  assert.ok(after.calls > before.calls, `${name} ran natively`);
  if (threads > 1) assert.ok(after.split > before.split && helperChunks() > helperBefore, `${name} was split over two threads`);
  return out;
}

test('the embedded wasm kernels are built from the current C sources (run scripts/build-native-kernels.mjs)', () => {
  const folder = path.join(__dirname, '../../../src/engine/backend/native');
  const hash = createHash('sha256');
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort()) hash.update(file).update(readFileSync(path.join(folder, file)));
  assert.equal(hash.digest('hex'), KERNELS_SOURCE_SHA256);
});

test('the threaded backend runs the kernels on two threads and says so in its report', async () => {
  const report = await initBackend('wasm', { threads: 2 });
  assert.ok(report.nativeKernels && 'threads' in report.nativeKernels, JSON.stringify(report.nativeKernels));
  assert.equal(report.nativeKernels.threads, Math.min(2, report.threads ?? 1));
  // Node 20 takes relaxed SIMD behind a flag the loader sets; newer engines have it on.
  assert.equal(report.nativeKernels.fma, true, 'the fused multiply-add build is in effect');
});

for (const [shape, offset] of [[[4, 24, 24, 37], 5], [[2, 64, 64, 16], -0.3]] as [number[], number][]) {
  test(`BatchNorm forward and backward, split: shape ${shape}, mean offset ${offset}`, async () => {
    const C = shape[3];
    const run = () => {
      const x = tf.add(tf.mul(tf.tensor(seeded(size(shape), 1), shape), 2), offset);
      const dy = tf.tensor(seeded(size(shape), 2), shape);
      const gamma = tf.tensor1d(Float32Array.from(seeded(C, 3), (v) => v + 1.5)), beta = tf.tensor1d(seeded(C, 4));
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, () => undefined), dy));
      const y = batchNormTraining(x, gamma, beta, 1e-3, () => undefined);
      return [y, ...tf.grads(f)([x, gamma, beta])];
    };
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => run().map((t) => t.dataSync() as Float32Array));
    const before = counts('bn_grad_apply');
    const actual = await onWasmNative('bn_sums', run);
    assert.ok(counts('bn_grad_apply').split > before.split, 'the gradient was split too');
    ['y', 'dx', 'dGamma', 'dBeta'].forEach((name, i) => {
      const err = relativeError(actual[i], expected[i]);
      assert.ok(err <= TOLERANCE, `${name}: relative error ${err}`);
    });
  });
}

test('ReLU and ReLU6 gradients, split, including the edges 0 and 6', async () => {
  const shape = [3, 48, 48, 13];
  const xs = Float32Array.from(seeded(size(shape), 7), (v, i) => (i % 97 === 0 ? 0 : i % 89 === 0 ? 6 : v * 8));
  for (const [name, op] of [['relu_grad', tf.relu], ['relu6_grad', tf.relu6]] as const) {
    const run = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(op(x), tf.tensor(seeded(size(shape), 8), shape))))(tf.tensor(xs, shape));
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => run().dataSync() as Float32Array);
    const [actual] = await onWasmNative(name, run);
    // The cpu gradients pass x > 0 (ReLU) and 0 < x < 6 (ReLU6, as min(relu, 6)); ours pass 0 ≤ x ≤ 6 for ReLU6.
    const edges = (i: number) => name === 'relu6_grad' && (xs[i] === 0 || xs[i] === 6);
    const differing = Array.from(actual).filter((v, i) => !edges(i) && v !== expected[i]).length;
    assert.equal(differing, 0, `${name}: ${differing} elements differ`);
  }
});

const depthwise = [
  { x: [2, 33, 31, 20], f: [3, 3, 20, 1], s: 1, d: 1 },
  { x: [2, 32, 32, 18], f: [3, 3, 18, 1], s: 2, d: 1 },
  { x: [2, 30, 30, 24], f: [3, 3, 24, 1], s: 1, d: 2 },
  // Shapes the kernels special-case: an odd run of interior columns (pixel pairs and a single one) with 16-channel
  // blocks and a 4-channel rest; an image narrower than the dilated filter; filters other than 3 wide; stride 3.
  { x: [3, 17, 17, 36], f: [3, 3, 36, 1], s: 1, d: 1 },
  { x: [10, 9, 7, 13], f: [3, 3, 13, 1], s: 1, d: 4 },
  { x: [10, 16, 15, 7], f: [5, 3, 7, 1], s: 2, d: 1 },
  { x: [12, 11, 13, 21], f: [3, 5, 21, 1], s: 3, d: 1 },
];

for (const c of depthwise) {
  test(`depthwise input and filter gradients, split: x ${c.x} stride ${c.s} dilation ${c.d}`, async () => {
    const dyShape = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number],
      c.s, c.d, 'same', undefined, true).outShape;
    const x = seeded(size(c.x), 11), dy = seeded(size(dyShape), 12), filter = seeded(size(c.f), 13);
    const big = dilateFilter(filter, c.f, c.d, c.d);
    const attrs = (dilations: number, extra: object) => ({ strides: c.s, pad: 'same', dilations, ...extra }) as unknown as tf.NamedAttrMap;
    const expectedInput = await onBackend('cpu', () => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
      { dy: tf.tensor(dy, dyShape), filter: tf.tensor(big.values, big.shape) }, attrs(1, { inputShape: c.x })) as tf.Tensor));
    const expectedFilter = await onBackend('cpu', () => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, attrs(1, { filterShape: big.shape })) as tf.Tensor));
    const [actualInput] = await onWasmNative('depthwise_input_grad', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
      { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, c.f) }, attrs(c.d, { inputShape: c.x })) as tf.Tensor);
    const [actualFilter] = await onWasmNative('depthwise_filter_grad', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, attrs(c.d, { filterShape: c.f })) as tf.Tensor);
    const inputErr = relativeError(actualInput, expectedInput.values);
    const filterErr = relativeError(actualFilter, undilateFilter(expectedFilter.values, big.shape, c.d, c.d, c.f[0], c.f[1]));
    assert.ok(inputErr <= TOLERANCE, `dx: relative error ${inputErr}`);
    assert.ok(filterErr <= TOLERANCE, `dw: relative error ${filterErr}`);
  });
}

test('2-D transpose, split, float32 and int32, odd sizes', async () => {
  for (const [rows, cols] of [[4099, 37], [1001, 144]]) {
    const values = seeded(rows * cols, 21);
    const ints = Int32Array.from(values, (v) => Math.round(v * 1e6));
    const [f] = await onWasmNative('transpose2d', () => tf.transpose(tf.tensor2d(values, [rows, cols])));
    const [i] = await onWasmNative('transpose2d', () => tf.transpose(tf.tensor2d(ints, [rows, cols], 'int32')));
    let wrong = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        if (f[c * rows + r] !== values[r * cols + c] || i[c * rows + r] !== ints[r * cols + c]) wrong++;
      }
    }
    assert.equal(wrong, 0, `${rows}×${cols}: ${wrong} misplaced elements`);
  }
});

// Packed (widths ≥ 64, or not multiples of the 4×8 tile: 37, 21, 3, 130, 67) and in place (48, 144); rows not a
// multiple of the 256-row chunk.
for (const [M, I, J] of [[5003, 37, 21], [4096, 48, 144], [9000, 3, 8], [3001, 130, 67], [2048, 128, 128], [600, 72, 432]]) {
  test(`Aᵀ·B (1×1 weight gradient), split: [${M},${I}]ᵀ·[${M},${J}]`, async () => {
    const a = Float32Array.from(seeded(M * I, 31), (v) => v + 0.3), b = seeded(M * J, 32);
    const run = () => tf.matMul(tf.tensor2d(a, [M, I]), tf.tensor2d(b, [M, J]), true, false);
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('matmul_at_b', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `relative error ${err}`);
  });
}

test('inference BatchNorm (moving statistics), split, with and without scale and offset', async () => {
  const shape = [2, 30, 30, 43], C = 43;
  const x = seeded(size(shape), 41);
  const mean = seeded(C, 42), variance = Float32Array.from(seeded(C, 43), (v) => v + 1.1);
  const scale = seeded(C, 44), offset = seeded(C, 45);
  for (const withParams of [true, false]) {
    const run = () => tf.batchNorm(tf.tensor(x, shape), tf.tensor1d(mean), tf.tensor1d(variance),
      withParams ? tf.tensor1d(offset) : undefined, withParams ? tf.tensor1d(scale) : undefined, 1e-3);
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('bn_apply', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `scale/offset ${withParams}: relative error ${err}`);
  }
});

const convFilterCases = [
  { x: [2, 65, 65, 3], f: [3, 3, 3, 24], s: 2, d: 1, pad: 'valid' as const },
  { x: [2, 20, 21, 16], f: [3, 3, 16, 12], s: 1, d: 2, pad: 'same' as const },
  { x: [2, 32, 32, 37], f: [1, 1, 37, 21], s: 1, d: 1, pad: 'same' as const }, // 1×1 stride 1: one Aᵀ·B product
  { x: [1, 33, 33, 5], f: [5, 3, 5, 7], s: 2, d: 1, pad: 'same' as const },
  // Each thread's rows spanning two images, padded taps on every side; an even-sized kernel, stride 2 'valid'.
  { x: [3, 10, 9, 6], f: [3, 3, 6, 10], s: 1, d: 1, pad: 'same' as const },
  { x: [2, 33, 31, 9], f: [2, 2, 9, 8], s: 2, d: 1, pad: 'valid' as const },
];

for (const c of convFilterCases) {
  test(`convolution filter gradient, split: x ${c.x} filter ${c.f} stride ${c.s} dilation ${c.d} ${c.pad}`, async () => {
    const dyShape = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number],
      c.s, c.d, c.pad).outShape;
    const x = seeded(size(c.x), 51), dy = seeded(size(dyShape), 52);
    const big = dilateFilter(new Float32Array(size(c.f)), c.f, c.d, c.d);
    const attrs = (dilations: number, filterShape: number[]) =>
      ({ strides: c.s, pad: c.pad, dilations, dataFormat: 'NHWC', filterShape }) as unknown as tf.NamedAttrMap;
    // cpu's Conv2DBackpropFilter has no dilation: give it the zero-inserted filter shape and keep the real taps.
    const expected = await onBackend('cpu', () => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, attrs(1, big.shape)) as tf.Tensor));
    const kernel = c.f[0] === 1 && c.f[1] === 1 && c.s === 1 ? 'matmul_at_b' : 'conv_filter_grad';
    const [actual] = await onWasmNative(kernel, () => tf.engine().runKernel('Conv2DBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, attrs(c.d, c.f)) as tf.Tensor);
    const err = relativeError(actual, c.d === 1 ? expected.values : undilateFilter(expected.values, big.shape, c.d, c.d, c.f[0], c.f[1]));
    assert.ok(err <= TOLERANCE, `relative error ${err}`);
  });
}

test('calls too small to split are right on a dirty heap (scratch memory is not assumed zero)', async () => {
  await tf.setBackend('wasm');
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  // Freed blocks full of NaN: malloc hands them out again for the kernels' scratch.
  const blocks = [256, 1024, 4096, 16384].map((bytes) => {
    const ptr = native.malloc(bytes);
    new Float32Array(native.buffer, ptr, bytes / 4).fill(NaN);
    return ptr;
  });
  blocks.forEach((ptr) => native.free(ptr));
  const shape = [2, 5, 5, 6];
  const run = () => {
    const x = tf.tensor(seeded(size(shape), 61), shape), dy = tf.tensor(seeded(size(shape), 62), shape);
    const gamma = tf.tensor1d(seeded(6, 63)), beta = tf.tensor1d(seeded(6, 64));
    const f = (a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a, g as tf.Tensor1D, beta, 1e-3, () => undefined), dy));
    return tf.concat(tf.grads(f)([x, gamma]).map((t) => tf.reshape(t, [-1])));
  };
  const expected = await onBackend('cpu', run);
  const before = counts('bn_grad_sums');
  const [actual] = await onWasmNativeUnsplit(run);
  assert.equal(counts('bn_grad_sums').split, before.split, 'too small to split');
  const err = relativeError(actual, expected.values);
  assert.ok(err <= TOLERANCE, `relative error ${err}`);
});

test('products write every element of their scratch before reading it (dirty heap; split and not, packed and not)', async () => {
  await tf.setBackend('wasm');
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  const cases: [number, number, number, boolean][] = [[3000, 70, 90, true], [3000, 20, 24, true], [40, 9, 70, true], [30, 8, 16, true],
    [3000, 70, 21, false], [40, 9, 13, false]];
  for (const [M, I, J, transposeA] of cases) {
    // A freed block full of NaN: malloc carves the products' accumulators and packing scratch out of it again.
    const ptr = native.malloc(1 << 22);
    new Float32Array(native.buffer, ptr, 1 << 20).fill(NaN);
    native.free(ptr);
    const a = seeded(M * I, 141), b = seeded(transposeA ? M * J : I * J, 142);
    const run = () => tf.matMul(tf.tensor2d(a, [M, I]), tf.tensor2d(b, transposeA ? [M, J] : [J, I]), transposeA, !transposeA);
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNativeUnsplit(run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `${transposeA ? 'Aᵀ·B' : 'A·Bᵀ'} [${M}, ${I}], ${J}: relative error ${err}`);
  }
});

test('Aᵀ·B over zero rows is zero (the accumulators are written, not assumed zero)', async () => {
  const run = () => tf.matMul(tf.zeros([0, 70]), tf.zeros([0, 90]), true, false);
  const [actual] = await onWasmNativeUnsplit(run);
  assert.equal(actual.length, 70 * 90);
  assert.ok(actual.every((v) => v === 0), 'all zero');
});

async function onWasmNativeUnsplit(work: () => tf.Tensor) {
  await tf.setBackend('wasm');
  return tf.tidy(() => [work().dataSync() as Float32Array]);
}

/** Weighted mean of −log softmax(z)_y over the valid pixels, op by op, and its gradient (cpu reference): [loss, ...grad]. */
function softmaxCrossEntropyReference(logits: Float32Array, labels: Int32Array, shape: number[], weights?: number[]) {
  const [N, H, W, C] = shape;
  return tf.tidy(() => {
    const z = tf.variable(tf.tensor4d(logits, [N, H, W, C]));
    const y = tf.tensor3d(labels, [N, H, W], 'int32');
    const valid = tf.logicalAnd(tf.logicalAnd(tf.notEqual(y, 255), tf.less(y, C)), tf.greaterEqual(y, 0));
    const safe = tf.where(valid, y, tf.zerosLike(y));
    const w = tf.mul(tf.gather(tf.tensor1d(weights ?? new Array(C).fill(1)), safe), tf.cast(valid, 'float32'));
    const f = () => tf.div(tf.neg(tf.sum(tf.mul(w, tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(safe, C)), -1)))), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(f, [z]);
    const out = tf.concat([tf.reshape(value, [1]), tf.reshape(grads[z.name], [-1])]);
    z.dispose();
    return out;
  });
}

/** The fused loss and its gradient on wasm, as [loss, ...grad]. */
function fusedLossAndGrad(logits: Float32Array, labels: Int32Array, shape: number[], weights?: number[]) {
  const [N, H, W, C] = shape;
  const z = tf.tensor4d(logits, [N, H, W, C]);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => fusedSoftmaxCrossEntropy(tf.tensor3d(labels, [N, H, W], 'int32'), t as tf.Tensor4D, 255, weights))(z);
  return tf.concat([tf.reshape(value, [1]), tf.reshape(grad, [-1])]);
}

/** Labels: class from the seed, every 13th pixel ignored, every 29th out of range (C + 19), every 31st negative. */
function mixedLabels(pixels: number, C: number, seed: number): Int32Array {
  return Int32Array.from(seeded(pixels, seed), (v, i) =>
    (i % 13 === 0 ? 255 : i % 29 === 0 ? C + 19 : i % 31 === 0 ? -3 : Math.min(C - 1, Math.floor((v + 1) / 2 * C))));
}

// Shapes large enough to split over two threads (pixels·C ≥ 65536); odd pixel counts give halves that are not whole
// groups of four rows; C = 21 and 19 take the four-rows-at-a-time path, the others the row-by-row one.
const softmaxCases: { name: string; shape: number[]; scale: number; weights?: boolean; labels?: (logits: Float32Array, pixels: number, C: number) => Int32Array }[] = [
  { name: 'C 21, class weights, ignored, out-of-range and negative labels', shape: [2, 48, 48, 21], scale: 4, weights: true },
  { name: 'C 21, odd pixel count (halves 2043 and 2044 rows)', shape: [1, 61, 67, 21], scale: 4 },
  { name: 'C 21, logits ±80: float32 softmax underflows', shape: [1, 61, 67, 21], scale: 80, weights: true },
  { name: 'C 21, every label the row\'s smallest logit: its probability underflows', shape: [1, 61, 67, 21], scale: 60,
    labels: (logits, pixels, C) => Int32Array.from({ length: pixels }, (_, p) => {
      let min = 0;
      for (let c = 1; c < C; c++) if (logits[p * C + c] < logits[p * C + min]) min = c;
      return min;
    }) },
  { name: 'C 19, odd pixel count', shape: [1, 59, 63, 19], scale: 6, weights: true },
  { name: 'C 5 (row by row), odd pixel count', shape: [1, 117, 115, 5], scale: 6, weights: true },
  { name: 'C 3 (fewer classes than a vector)', shape: [1, 149, 151, 3], scale: 30 },
  { name: 'C 150 (ADE20K)', shape: [1, 23, 21, 150], scale: 8, weights: true },
];

for (const c of softmaxCases) {
  test(`fused softmax cross-entropy, split, loss and gradient vs cpu: ${c.name}`, async () => {
    const [N, H, W, C] = c.shape, pixels = N * H * W;
    const logits = Float32Array.from(seeded(pixels * C, 71), (v) => v * c.scale);
    const labels = c.labels ? c.labels(logits, pixels, C) : mixedLabels(pixels, C, 72);
    const weights = c.weights ? Array.from({ length: C }, (_, k) => 0.5 + k / C) : undefined;
    const expected = await onBackend('cpu', () => softmaxCrossEntropyReference(logits, labels, c.shape, weights));
    const [actual] = await onWasmNative('softmax_ce', () => fusedLossAndGrad(logits, labels, c.shape, weights));
    assert.ok(actual.every(Number.isFinite), 'loss and gradient finite');
    const err = relativeError(actual.subarray(1), expected.values.subarray(1));
    assert.ok(err <= TOLERANCE, `gradient: relative error ${err}`);
    assert.ok(Math.abs(actual[0] - expected.values[0]) <= 1e-5 * Math.abs(expected.values[0]), `loss ${actual[0]} vs ${expected.values[0]}`);
    // Ignored pixels get exactly 0.
    for (let p = 0; p < pixels; p++) {
      if (labels[p] >= 0 && labels[p] < C && labels[p] !== 255) continue;
      for (let k = 0; k < C; k++) assert.equal(actual[1 + p * C + k], 0, `pixel ${p} (label ${labels[p]}) class ${k}`);
    }
  });
}

test('fused softmax cross-entropy, split: a batch of ignored pixels only has loss 0 and a zero gradient', async () => {
  const shape = [2, 40, 40, 21], pixels = 3200;
  const logits = Float32Array.from(seeded(pixels * 21, 73), (v) => v * 5);
  const labels = Int32Array.from({ length: pixels }, (_, i) => (i % 3 === 0 ? 21 : 255));
  for (const weights of [undefined, Array.from({ length: 21 }, (_, k) => 1 + k)]) {
    const [actual] = await onWasmNative('softmax_ce', () => fusedLossAndGrad(logits, labels, shape, weights));
    assert.equal(actual[0], 0);
    assert.ok(actual.every((v) => v === 0), 'zero gradient');
  }
});

test('fused softmax cross-entropy, split: the same loss bits and gradient on every run', async () => {
  const shape = [1, 61, 67, 21], pixels = 61 * 67;
  const logits = Float32Array.from(seeded(pixels * 21, 74), (v) => v * 7);
  const labels = mixedLabels(pixels, 21, 75);
  const weights = Array.from({ length: 21 }, (_, k) => 0.25 + k / 7);
  const runs: Float32Array[] = [];
  for (let i = 0; i < 5; i++) runs.push((await onWasmNative('softmax_ce', () => fusedLossAndGrad(logits, labels, shape, weights)))[0]);
  for (const run of runs.slice(1)) {
    assert.ok(Object.is(run[0], runs[0][0]), `loss ${run[0]} vs ${runs[0][0]}`);
    assert.deepEqual(run, runs[0]);
  }
});

test('fused softmax cross-entropy, split: NaN logits make the loss NaN, unless the pixel is ignored', async () => {
  const shape = [1, 61, 67, 21], pixels = 61 * 67;
  const logits = Float32Array.from(seeded(pixels * 21, 76), (v) => v * 3);
  const labels = mixedLabels(pixels, 21, 77);
  const ignored = labels.indexOf(255), counted = labels.findIndex((y) => y === 4);
  const withNaN = (p: number) => Float32Array.from(logits, (v, i) => (i === p * 21 + 7 ? NaN : v));
  const [clean] = await onWasmNative('softmax_ce', () => fusedLossAndGrad(withNaN(ignored), labels, shape));
  assert.ok(Number.isFinite(clean[0]) && clean.subarray(1 + ignored * 21, 1 + (ignored + 1) * 21).every((v) => v === 0));
  const [poisoned] = await onWasmNative('softmax_ce', () => fusedLossAndGrad(withNaN(counted), labels, shape));
  assert.ok(Number.isNaN(poisoned[0]));
});

test('ReLU and ReLU6 forward, split, keep NaN and clip at 0 and 6 exactly like cpu', async () => {
  const shape = [2, 50, 50, 15];
  const xs = Float32Array.from(seeded(size(shape), 81), (v, i) => (i % 101 === 0 ? NaN : i % 103 === 0 ? Infinity : v * 9));
  for (const [name, op] of [['relu_forward', tf.relu], ['relu6_forward', tf.relu6]] as const) {
    const run = () => op(tf.tensor(xs, shape));
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative(name, run);
    const differing = Array.from(actual).filter((v, i) => !Object.is(v, expected.values[i]) && !(v === 0 && expected.values[i] === 0)).length;
    assert.equal(differing, 0, `${name}: ${differing} elements differ`);
  }
});

// B read in place (N a multiple of 8, not transposed) or packed into column panels (transposed, or N = 21, 7, 67, 5),
// with K not a multiple of the 4×4 blocks the transposed packing reads (37, 3, 130, 66, 45).
for (const [M, K, N] of [[4099, 37, 21], [2048, 144, 24], [9000, 3, 7], [1030, 130, 67], [3001, 66, 40], [2500, 45, 5], [520, 720, 240]]) {
  test(`A·B and A·Bᵀ products, split: [${M},${K}]·[${K},${N}]`, async () => {
    const a = seeded(M * K, 91), b = seeded(K * N, 92), bt = seeded(N * K, 93);
    for (const transposeB of [false, true]) {
      const run = () => tf.matMul(tf.tensor2d(a, [M, K]), transposeB ? tf.tensor2d(bt, [N, K]) : tf.tensor2d(b, [K, N]), false, transposeB);
      const expected = await onBackend('cpu', run);
      const [actual] = await onWasmNative('matmul_a_b', run);
      const err = relativeError(actual, expected.values);
      assert.ok(err <= TOLERANCE, `transposeB ${transposeB}: relative error ${err}`);
    }
  });
}

test('1×1 convolutions (plain, and fused with bias and ReLU6/ReLU), split, against cpu', async () => {
  const shape = [2, 33, 31, 19], filterShape = [1, 1, 19, 13];
  const x = seeded(size(shape), 101), w = seeded(size(filterShape), 102), bias = seeded(13, 103);
  const cases: [string, () => tf.Tensor][] = [
    ['conv2d', () => tf.conv2d(tf.tensor4d(x, shape as [number, number, number, number]), tf.tensor4d(w, filterShape as [number, number, number, number]), 1, 'same')],
    ['fused relu6', () => tf.fused.conv2d({ x: tf.tensor4d(x, shape as [number, number, number, number]), filter: tf.tensor4d(w, filterShape as [number, number, number, number]),
      strides: 1, pad: 'valid', bias: tf.tensor1d(bias), activation: 'relu6' })],
    ['fused relu, no bias', () => tf.fused.conv2d({ x: tf.tensor4d(x, shape as [number, number, number, number]), filter: tf.tensor4d(w, filterShape as [number, number, number, number]),
      strides: 1, pad: 'same', activation: 'relu' })],
  ];
  for (const [name, run] of cases) {
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('matmul_a_b', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `${name}: relative error ${err}`);
  }
});

test('1×1 convolution input gradients (dy·Wᵀ, W read transposed in place), split, against cpu', async () => {
  const cases: [number[], number, tf.NamedAttrMap['pad']][] = [[[2, 33, 31, 19], 13, 'same'], [[2, 20, 20, 130], 67, 'valid'],
    [[1, 40, 41, 48], 24, [[0, 0], [0, 0], [0, 0], [0, 0]]]];
  for (const [xShape, outC, pad] of cases) {
    const dyShape = [...xShape.slice(0, 3), outC], filterShape = [1, 1, xShape[3], outC];
    const dy = seeded(size(dyShape), 104), w = seeded(size(filterShape), 105);
    const run = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(w, filterShape) },
      { strides: 1, pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('matmul_a_b', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `${xShape} → ${outC} pad ${JSON.stringify(pad)}: relative error ${err}`);
  }
});

test('depthwise convolution forward (plain, strided, dilated, fused with bias and ReLU6), split, against cpu', async () => {
  const shape: [number, number, number, number] = [2, 35, 33, 22], filterShape: [number, number, number, number] = [3, 3, 22, 1];
  const x = seeded(size(shape), 111), w = seeded(size(filterShape), 112), bias = seeded(22, 113);
  const cases: [string, () => tf.Tensor][] = [
    ['same', () => tf.depthwiseConv2d(tf.tensor4d(x, shape), tf.tensor4d(w, filterShape), 1, 'same')],
    ['stride 2 valid', () => tf.depthwiseConv2d(tf.tensor4d(x, shape), tf.tensor4d(w, filterShape), 2, 'valid')],
    ['dilation 2 same', () => tf.depthwiseConv2d(tf.tensor4d(x, shape), tf.tensor4d(w, filterShape), 1, 'same', 'NHWC', 2)],
    ['fused bias relu6, stride 2 same', () => tf.fused.depthwiseConv2d({ x: tf.tensor4d(x, shape), filter: tf.tensor4d(w, filterShape),
      strides: 2, pad: 'same', bias: tf.tensor1d(bias), activation: 'relu6' })],
  ];
  for (const [name, run] of cases) {
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('depthwise_forward', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `${name}: relative error ${err}`);
  }
});

test('depthwise convolution forward on shapes the kernel special-cases, split, against cpu', async () => {
  const cases: [number[], number[], number, number][] = [
    [[3, 17, 17, 36], [3, 3, 36, 1], 1, 1], // pixel pairs and a single interior pixel, 16-channel blocks and a rest
    [[10, 9, 7, 13], [3, 3, 13, 1], 1, 4], // narrower than the dilated filter: no interior at all
    [[10, 16, 15, 7], [5, 3, 7, 1], 2, 1],
    [[12, 11, 13, 21], [3, 5, 21, 1], 3, 1],
  ];
  for (const [shape, filterShape, stride, dilation] of cases) {
    const x = seeded(size(shape), 114), w = seeded(size(filterShape), 115);
    const run = () => tf.depthwiseConv2d(tf.tensor4d(x, shape as [number, number, number, number]),
      tf.tensor4d(w, filterShape as [number, number, number, number]), stride as 1, 'same', 'NHWC', dilation as 1);
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('depthwise_forward', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `x ${shape} filter ${filterShape} stride ${stride} dilation ${dilation}: relative error ${err}`);
  }
});

test('bilinear-resize gradient (align corners and not, up and down), split by image, against cpu', async () => {
  for (const [from, to, alignCorners] of [[[4, 16, 12, 21], [64, 48], true], [[2, 80, 60, 9], [130, 70], false], [[3, 9, 9, 24], [60, 60], true]] as [number[], [number, number], boolean][]) {
    const dyShape = [from[0], to[0], to[1], from[3]];
    const x = seeded(size(from), 121), dy = seeded(size(dyShape), 122);
    const run = () => tf.engine().runKernel('ResizeBilinearGrad', { images: tf.tensor(x, from), dy: tf.tensor(dy, dyShape) },
      { alignCorners, halfPixelCenters: false } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('resize_bilinear_grad', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `${from} → ${to} alignCorners ${alignCorners}: relative error ${err}`);
  }
});

test('bilinear resize forward (align corners and not, up and down, odd channels), split by row, against cpu', async () => {
  for (const [from, to, alignCorners] of [[[4, 16, 12, 21], [64, 48], true], [[2, 80, 60, 9], [130, 70], false], [[3, 9, 9, 24], [60, 60], true], [[8, 64, 64, 5], [37, 131], true]] as [number[], [number, number], boolean][]) {
    const x = seeded(size(from), 123);
    const run = () => tf.image.resizeBilinear(tf.tensor4d(x, from as [number, number, number, number]), to, alignCorners);
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('resize_bilinear', run);
    const err = relativeError(actual, expected.values);
    assert.ok(err <= TOLERANCE, `${from} → ${to} alignCorners ${alignCorners}: relative error ${err}`);
  }
});

test('concat and split along channels (float32 and int32, odd widths, an empty part), split, against cpu', async () => {
  const rows = [2, 40, 41];
  const widths = [13, 0, 128, 3];
  for (const dtype of ['float32', 'int32'] as const) {
    const parts = widths.map((w, i) => Float32Array.from(seeded(rows.reduce((a, b) => a * b, 1) * w, 130 + i), (v) => (dtype === 'int32' ? Math.round(v * 1000) : v)));
    const run = () => {
      const joined = tf.concat(parts.map((p, i) => tf.tensor(p, [...rows, widths[i]], dtype)), -1);
      return tf.concat([tf.reshape(joined, [-1]), ...tf.split(joined, widths.filter((w) => w > 0), -1).map((t) => tf.reshape(t, [-1]))]);
    };
    const expected = await onBackend('cpu', run);
    const [actual] = await onWasmNative('copy_rows', run);
    const differing = Array.from(actual).filter((v, i) => v !== expected.values[i]).length;
    assert.equal(differing, 0, `${dtype}: ${differing} elements differ`);
  }
});

test('zero and constant padding of height and width (the stem\'s PadV2), split, against cpu; other paddings fall back', async () => {
  const cases: { shape: number[]; paddings: [number, number][]; value: number; native: boolean }[] = [
    { shape: [8, 64, 64, 3], paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], value: 0, native: true },
    { shape: [3, 120, 97, 5], paddings: [[0, 0], [0, 3], [2, 0], [0, 0]], value: -1.5, native: true },
    { shape: [2, 9, 13, 3], paddings: [[0, 0], [1, 0], [0, 1], [0, 0]], value: 0, native: false },
    { shape: [2, 9, 13, 3], paddings: [[0, 0], [1, 1], [1, 1], [1, 2]], value: 0.5, native: false },
  ];
  for (const c of cases) {
    const x = seeded(size(c.shape), 140);
    const run = () => tf.pad(tf.tensor(x, c.shape), c.paddings, c.value);
    const expected = await onBackend('cpu', run);
    const [actual] = c.native ? await onWasmNative('pad_hw', run) : [(await onBackend('wasm', run)).values];
    assert.equal(actual.length, expected.values.length);
    const differing = Array.from(actual).filter((v, i) => v !== expected.values[i]).length;
    assert.equal(differing, 0, `${c.shape} ${JSON.stringify(c.paddings)}: ${differing} elements differ`);
  }
});

test('reductions (weight gradients, BatchNorm sums) give the same bits whichever thread runs which chunk', async () => {
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  const helper = native.helperThread;
  const run = () => tf.tidy(() => {
    const a = tf.tensor2d(seeded(20000 * 24, 150), [20000, 24]), b = tf.tensor2d(seeded(20000 * 40, 151), [20000, 40]);
    const x = tf.tensor4d(Float32Array.from(seeded(4 * 30 * 30 * 24, 152), (v) => v * 2 + 1), [4, 30, 30, 24]);
    const gamma = tf.ones([24]) as tf.Tensor1D, beta = tf.zeros([24]) as tf.Tensor1D;
    const f = (input: tf.Tensor) => tf.sum(tf.square(batchNormTraining(input, gamma, beta, 1e-3, () => undefined)));
    return [tf.matMul(a, b, true, false), tf.grad(f)(x)].map((t) => t.dataSync() as Float32Array);
  });
  await tf.setBackend('wasm');
  const results: Float32Array[][] = [];
  for (const helperFirst of [true, false, true, false]) {
    if (helper) helper.helperFirst = helperFirst;
    results.push(run());
  }
  if (helper) helper.helperFirst = true;
  for (const r of results.slice(1)) r.forEach((values, i) => assert.deepEqual(values, results[0][i], `output ${i}`));
});

test('addition of same-shape float32 tensors, split, bit for bit as cpu; broadcasts and int32 fall back', async () => {
  const shape = [4, 32, 32, 24];
  const a = seeded(size(shape), 170), b = seeded(size(shape), 171);
  const run = () => tf.add(tf.tensor(a, shape), tf.tensor(b, shape));
  const expected = await onBackend('cpu', run);
  const [actual] = await onWasmNative('add_arrays', run);
  assert.deepEqual(actual, expected.values);
  const others = () => tf.concat([tf.reshape(tf.add(tf.tensor(a, shape), tf.tensor(b.slice(0, 24), [24])), [-1]),
    tf.cast(tf.reshape(tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4, 5, 6], [3], 'int32')), [-1]), 'float32')]);
  const expectedOthers = await onBackend('cpu', others);
  const actualOthers = await onBackend('wasm', others);
  assert.ok(relativeError(actualOthers.values, expectedOthers.values) <= TOLERANCE);
});

test('a kernel that traps on a shared call throws an error naming it, and the next calls work', async () => {
  await tf.setBackend('wasm');
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  const n = 1 << 18;
  const out = native.malloc(4 * n);
  try {
    // Reading from past the end of the heap traps.
    const beyond = native.buffer.byteLength + (1 << 20);
    assert.throws(() => native.run('add_arrays', n, 1, (begin, end) => [beyond, beyond, out, begin, end]), /native kernel add_arrays failed/);
    native.run('add_arrays', n, 1, (begin, end) => [out, out, out, begin, end]);
  } finally {
    native.free(out);
  }
  const [sum] = await onWasmNative('add_arrays', () => tf.add(tf.ones([n]), tf.ones([n])));
  assert.ok(sum.every((v) => v === 2));
});

test('back-to-back shared calls stay right when the helper is slow between reading a ticket and claiming it', async () => {
  await tf.setBackend('wasm');
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  const helper = native.helperThread;
  if (!helper) return;
  // Calls of different chunk counts one after another: a helper that claimed a chunk of a call that had ended would
  // run it with the next call's arguments (a wrong or trapping result) or count it as one of the next call's chunks.
  const sizes = [1 << 16, 1 << 20, 3 << 16, 1 << 19];
  const buffers = sizes.map((n, i) => {
    const [a, b, out] = [native.malloc(4 * n), native.malloc(4 * n), native.malloc(4 * n)];
    new Float32Array(native.buffer, a, n).fill(i + 1);
    new Float32Array(native.buffer, b, n).fill(10 * (i + 1));
    return { n, a, b, out, expected: 11 * (i + 1) };
  });
  helper.helperFirst = false;
  // The helper lingers between reading a ticket and claiming it, and this thread between writing a call's words and
  // opening its ticket: the window in which the old protocol let the helper see the next call's chunk count next to
  // the last, exhausted ticket of the previous call (a claimed chunk that did not exist).
  helper.claimDelay = 20000;
  helper.publishDelay = 20000;
  let wrong = 0, failed = 0;
  const published = helper.chunksPublished, run = helper.chunksRun;
  try {
    for (let round = 0; round < 300; round++) {
      for (const { n, a, b, out, expected } of buffers) {
        new Float32Array(native.buffer, out, n).fill(0);
        try {
          native.run('add_arrays', n, 1, (begin, end) => [a, b, out, begin, end]);
        } catch {
          failed++;
        }
        const o = new Float32Array(native.buffer, out, n);
        if (o.some((v) => v !== expected)) wrong++;
      }
    }
  } finally {
    helper.claimDelay = 0;
    helper.publishDelay = 0;
    helper.helperFirst = true;
    for (const { a, b, out } of buffers) [a, b, out].forEach((p) => native.free(p));
  }
  // Every published chunk ran exactly once: no chunk of a finished call was claimed and run with the next call's words.
  assert.deepEqual({ wrong, failed, extraChunks: (helper.chunksRun - run) - (helper.chunksPublished - published) },
    { wrong: 0, failed: 0, extraChunks: 0 });
});
