// The faster wasm kernels (Conv2DBackpropInput, Tile) and whole conv gradients on wasm, against the cpu backend.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, registeredWasmSpeedKernels, WASM_SPEED_KERNELS } from '../../../src/engine/backend';
import { onBackend, relativeError, seeded, size } from './helpers';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
interface Case { x: number[]; f: number[]; s: number | [number, number]; pad: Pad }

const TOLERANCE = 1e-4;

before(async () => {
  await initBackend('wasm', { threads: 1 });
});

test('the speed kernels are in effect on wasm', () => {
  assert.deepEqual(registeredWasmSpeedKernels(), [...WASM_SPEED_KERNELS]);
});

const cases: Case[] = [
  { x: [1, 5, 5, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 5], s: 2, pad: 'same' },
  { x: [2, 8, 8, 4], f: [3, 3, 4, 5], s: 2, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 5], s: 2, pad: 'valid' },
  { x: [3, 6, 6, 2], f: [1, 1, 2, 3], s: 1, pad: 'valid' },
  { x: [2, 8, 8, 3], f: [1, 1, 3, 4], s: 2, pad: 'same' },
  { x: [1, 9, 9, 2], f: [3, 3, 2, 3], s: 1, pad: 'valid' },
  { x: [2, 6, 5, 3], f: [3, 3, 3, 2], s: [2, 1], pad: 'same' },
  { x: [2, 11, 11, 3], f: [5, 5, 3, 2], s: 2, pad: 'same' },
  { x: [1, 6, 6, 2], f: [3, 3, 2, 2], s: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
];

describe('wasm Conv2DBackpropInput vs cpu', () => {
  for (const c of cases) {
    test(`x ${c.x} f ${c.f} stride ${c.s} pad ${JSON.stringify(c.pad)}`, async () => {
      const dyShape = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number],
        c.f as [number, number, number, number], c.s, 1, c.pad).outShape;
      const dy = seeded(size(dyShape), 7), filter = seeded(size(c.f), 8);
      const run = () => tf.tidy(() => tf.engine().runKernel('Conv2DBackpropInput',
        { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, c.f) },
        { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor);
      const expected = await onBackend('cpu', run);
      const tensorsBefore = (await tf.setBackend('wasm'), tf.memory().numTensors);
      const actual = await onBackend('wasm', run);
      assert.equal(tf.memory().numTensors, tensorsBefore);
      assert.deepEqual(actual.shape, c.x);
      const err = relativeError(actual.values, expected.values);
      assert.ok(err <= TOLERANCE, `relative error ${err}`);
    });
  }
});

describe('conv2d and depthwiseConv2d gradients on wasm vs cpu', () => {
  for (const c of cases.filter((k) => typeof k.pad === 'string')) {
    test(`x ${c.x} f ${c.f} stride ${c.s} pad ${c.pad}`, async () => {
      const xv = seeded(size(c.x), 9), wv = seeded(size(c.f), 10);
      const dwShape = [c.f[0], c.f[1], c.x[3], 2];
      const dwv = seeded(size(dwShape), 11);
      const grads = () => tf.tidy(() => {
        const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
        const f = (a: tf.Tensor, w: tf.Tensor, d: tf.Tensor) => {
          const y = tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad as 'same' | 'valid');
          const z = tf.depthwiseConv2d(a as tf.Tensor4D, d as tf.Tensor4D, c.s, c.pad as 'same' | 'valid');
          return tf.add(tf.sum(tf.square(y)), tf.sum(tf.mul(z, z)));
        };
        const g = tf.grads(f)([x, tf.tensor(wv, c.f), tf.tensor(dwv, dwShape)]);
        return tf.concat(g.map((t) => tf.reshape(t, [-1])));
      });
      const expected = await onBackend('cpu', grads);
      const actual = await onBackend('wasm', grads);
      const err = relativeError(actual.values, expected.values);
      assert.ok(err <= TOLERANCE, `relative error ${err}`);
    });
  }
});

describe('wasm Tile vs cpu', () => {
  const tiles: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { shape: [3], reps: [4], dtype: 'float32' },
    { shape: [1, 1, 1, 5], reps: [2, 3, 4, 1], dtype: 'float32' },
    { shape: [2, 3], reps: [3, 2], dtype: 'float32' },
    { shape: [2, 1, 3], reps: [1, 4, 1], dtype: 'int32' },
    { shape: [2, 3, 4, 5], reps: [1, 1, 1, 1], dtype: 'float32' },
    { shape: [3, 2, 2], reps: [2, 1, 3], dtype: 'bool' },
    { shape: [2, 2, 1, 3, 2], reps: [1, 2, 3, 1, 2], dtype: 'float32' },
  ];
  for (const t of tiles) {
    test(`${t.dtype} ${t.shape} × ${t.reps}`, async () => {
      const values = Array.from(seeded(size(t.shape), 13), (v) => (t.dtype === 'float32' ? v : t.dtype === 'int32' ? Math.round(v * 100) : v > 0 ? 1 : 0));
      const run = () => tf.tidy(() => tf.cast(tf.tile(tf.tensor(values, t.shape, t.dtype), t.reps), 'float32'));
      const expected = await onBackend('cpu', run);
      const actual = await onBackend('wasm', run);
      assert.deepEqual(actual.shape, expected.shape);
      assert.deepEqual(Array.from(actual.values), Array.from(expected.values));
    });
  }
});

describe('wasm Slice, SplitV and 2-D Transpose vs cpu', () => {
  const slices: { shape: number[]; begin: number[]; size: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { shape: [8, 6, 6, 10], begin: [0, 0, 0, 3], size: [-1, -1, -1, 5], dtype: 'float32' },
    { shape: [4, 5, 6, 7], begin: [1, 2, 0, 0], size: [2, 3, -1, -1], dtype: 'float32' },
    { shape: [4, 5, 6, 7], begin: [1, 1, 2, 3], size: [3, 3, 3, 3], dtype: 'int32' },
    { shape: [9], begin: [2], size: [5], dtype: 'float32' },
    { shape: [3, 4], begin: [0, 1], size: [3, 2], dtype: 'bool' },
    { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 0, 2], size: [1, 3, 2, 5, 3], dtype: 'float32' },
    { shape: [3, 4, 5], begin: [0, 0, 0], size: [3, 4, 5], dtype: 'float32' },
    { shape: [3, 4, 5], begin: [1, 0, 0], size: [0, 4, 5], dtype: 'float32' },
  ];
  const values = (shape: number[], dtype: string, seed: number) => Array.from(seeded(size(shape), seed),
    (v) => (dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 100) : v > 0 ? 1 : 0));
  for (const s of slices) {
    test(`Slice ${s.dtype} ${s.shape} begin ${s.begin} size ${s.size}`, async () => {
      const v = values(s.shape, s.dtype, 17);
      const run = () => tf.tidy(() => tf.cast(tf.slice(tf.tensor(v, s.shape, s.dtype), s.begin, s.size), 'float32'));
      const expected = await onBackend('cpu', run);
      const actual = await onBackend('wasm', run);
      assert.deepEqual(actual.shape, expected.shape);
      assert.deepEqual(Array.from(actual.values), Array.from(expected.values));
    });
  }
  const splits: { shape: number[]; splits: number | number[]; axis: number }[] = [
    { shape: [4, 6, 6, 12], splits: [5, 7], axis: 3 },
    { shape: [4, 6, 6, 12], splits: 3, axis: 1 },
    { shape: [5, 4], splits: [1, 3, 1], axis: 0 },
    { shape: [2, 3, 8], splits: [2, -1], axis: -1 },
  ];
  for (const s of splits) {
    test(`SplitV ${s.shape} into ${s.splits} along ${s.axis}`, async () => {
      const v = values(s.shape, 'float32', 19);
      const run = () => tf.tidy(() => tf.concat(tf.split(tf.tensor(v, s.shape), s.splits, s.axis).map((t) => tf.reshape(t, [-1]))));
      const expected = await onBackend('cpu', run);
      const actual = await onBackend('wasm', run);
      assert.deepEqual(Array.from(actual.values), Array.from(expected.values));
    });
  }
  for (const [shape, dtype] of [[[37, 70], 'float32'], [[64, 3], 'int32'], [[5, 33], 'bool']] as const) {
    test(`Transpose ${dtype} ${shape}`, async () => {
      const v = values([...shape], dtype, 23);
      const run = () => tf.tidy(() => tf.cast(tf.transpose(tf.tensor(v, [...shape], dtype)), 'float32'));
      const expected = await onBackend('cpu', run);
      const actual = await onBackend('wasm', run);
      assert.deepEqual(actual.shape, expected.shape);
      assert.deepEqual(Array.from(actual.values), Array.from(expected.values));
    });
  }
});

describe('wasm BatchMatMul vs cpu', () => {
  const products: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [50, 7], b: [50, 3], tA: true, tB: false },
    { a: [20, 9], b: [20, 30], tA: true, tB: false },
    { a: [6, 5], b: [4, 6], tA: true, tB: true },
    { a: [3, 40, 6], b: [3, 40, 2], tA: true, tB: false },
    { a: [1, 12, 4], b: [5, 12, 7], tA: true, tB: false },
    { a: [2, 8, 5], b: [2, 3, 8], tA: true, tB: true },
    { a: [5, 6], b: [6, 4], tA: false, tB: false },
    { a: [5, 6], b: [4, 6], tA: false, tB: true },
    { a: [60, 6], b: [4, 6], tA: false, tB: true },
    { a: [3, 6], b: [40, 6], tA: false, tB: true },
    { a: [2, 30, 6], b: [2, 4, 6], tA: false, tB: true },
    { a: [1, 3, 6], b: [4, 20, 6], tA: false, tB: true },
  ];
  for (const p of products) {
    test(`${p.a}${p.tA ? 'ᵀ' : ''} · ${p.b}${p.tB ? 'ᵀ' : ''}`, async () => {
      const av = seeded(size(p.a), 29), bv = seeded(size(p.b), 31);
      const run = () => tf.tidy(() => tf.matMul(tf.tensor(av, p.a), tf.tensor(bv, p.b), p.tA, p.tB));
      const expected = await onBackend('cpu', run);
      const tensorsBefore = (await tf.setBackend('wasm'), tf.memory().numTensors);
      const actual = await onBackend('wasm', run);
      assert.equal(tf.memory().numTensors, tensorsBefore);
      assert.deepEqual(actual.shape, expected.shape);
      assert.ok(relativeError(actual.values, expected.values) <= TOLERANCE);
    });
  }
});

describe('ReLU and ReLU6 gradients on wasm vs cpu (including the boundary values)', () => {
  const shape = [2, 5, 5, 3];
  const boundary = [0, 6, -0, 6.0000005, -1e-7, 5.9999995];
  const xs = Array.from(seeded(size(shape), 37), (v, i) => (i < boundary.length ? boundary[i] : v * 8));
  const dys = Array.from(seeded(size(shape), 41));
  for (const [name, op] of [['relu', tf.relu], ['relu6', tf.relu6]] as const) {
    test(name, async () => {
      const run = () => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(op(a), tf.tensor(dys, shape))))(tf.tensor(xs, shape)));
      const expected = await onBackend('cpu', run);
      const actual = await onBackend('wasm', run);
      // Equal as numbers (the stock formula can give -0 where we give 0).
      assert.equal(relativeError(actual.values, expected.values), 0);
      assert.ok(expected.values.some((v) => v === 0) && expected.values.some((v) => v !== 0));
    });
  }
});

test("tfjs-layers' relu6 activation = minimum(6, relu(x)) in value and gradient (away from 0 and 6), on wasm and cpu", async () => {
  const shape = [2, 4, 4, 3];
  const xs = Array.from(seeded(size(shape), 43), (v) => v * 8 + 0.01); // avoids exactly 0 and 6
  const dys = Array.from(seeded(size(shape), 47));
  const layer = tfl.layers.activation({ activation: 'relu6' });
  for (const backend of ['wasm', 'cpu']) {
    const viaLayer = await onBackend(backend, () => tf.tidy(() => {
      const x = tf.tensor(xs, shape);
      const [y, dx] = [layer.apply(x) as tf.Tensor, tf.grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a) as tf.Tensor, tf.tensor(dys, shape))))(x)];
      return tf.concat([tf.reshape(y, [-1]), tf.reshape(dx, [-1])]);
    }));
    const composite = await onBackend(backend, () => tf.tidy(() => {
      const x = tf.tensor(xs, shape);
      const f = (a: tf.Tensor) => tf.minimum(6, tf.relu(a));
      return tf.concat([tf.reshape(f(x), [-1]), tf.reshape(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), tf.tensor(dys, shape))))(x), [-1])]);
    }));
    assert.equal(relativeError(viaLayer.values, composite.values), 0, backend);
  }
});

test('wasm Square = cpu Square (float32, including large and special values)', async () => {
  const values = Float32Array.from(seeded(1000, 53), (v, i) => (i === 0 ? 1e20 : i === 1 ? -0 : i === 2 ? NaN : v * 100));
  const run = () => tf.square(tf.tensor(values, [10, 100]));
  const expected = await onBackend('cpu', run);
  const actual = await onBackend('wasm', run);
  assert.equal(actual.values[0], expected.values[0]); // overflows to Infinity on both
  assert.equal(actual.values[1], 0);
  assert.ok(Number.isNaN(actual.values[2]) && Number.isNaN(expected.values[2]));
  assert.ok(relativeError(actual.values.slice(3), expected.values.slice(3)) <= 1e-7);
});

test('clone and same-dtype cast share data on wasm; disposing either keeps the other intact; other casts convert', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor1d([1.5, -2.25, 3]);
  const copies = [tf.clone(x), tf.cast(x, 'float32')];
  for (const c of copies) assert.equal(c.dataId, x.dataId, 'no new data for the clone and the same-dtype cast');
  x.dispose();
  for (const c of copies) assert.deepEqual(Array.from(c.dataSync()), [1.5, -2.25, 3]);
  const ints = tf.cast(copies[1], 'int32');
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
  tf.dispose([...copies, ints]);
});
