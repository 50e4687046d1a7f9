// The wasm backprop kernels we register, against the cpu backend's own kernels on many shapes.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../../src/engine/backend';
import { dilateFilter, onBackend, relativeError, seeded, size, undilateFilter } from './helpers';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
interface Case { x: number[]; f: number[]; s: number | [number, number]; pad: Pad; d?: number | [number, number] }

const TOLERANCE = 1e-4;
const pair = (v: number | [number, number] | undefined): [number, number] => (v == null ? [1, 1] : typeof v === 'number' ? [v, v] : v);
const label = (c: Case) => `x ${c.x} f ${c.f} stride ${c.s} pad ${JSON.stringify(c.pad)} dilation ${c.d ?? 1}`;

function outShape(c: Case, depthwise: boolean): number[] {
  return tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number],
    c.s, pair(c.d), c.pad, undefined, depthwise).outShape;
}

/** Runs the wasm kernel and checks no tensor is left behind. */
async function onWasm(work: () => tf.Tensor) {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const result = await onBackend('wasm', work);
  assert.equal(tf.memory().numTensors, before, 'wasm kernel leaked tensors');
  return result;
}

before(async () => {
  await initBackend('wasm', { threads: 1 });
});

describe('registerWasmTrainingKernels', () => {
  test('registers the three kernels and is idempotent', () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    for (const name of WASM_TRAINING_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), name);
  });
});

const conv2dCases: Case[] = [
  { x: [1, 5, 5, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 5], s: 2, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 5], s: 2, pad: 'valid' },
  { x: [3, 6, 6, 2], f: [1, 1, 2, 3], s: 1, pad: 'valid' },
  { x: [2, 8, 8, 3], f: [1, 1, 3, 4], s: 2, pad: 'same' },
  { x: [1, 9, 9, 2], f: [3, 3, 2, 3], s: 1, pad: 'valid' },
  { x: [2, 6, 5, 3], f: [3, 3, 3, 2], s: [2, 1], pad: 'same' },
  { x: [2, 9, 9, 8], f: [3, 3, 8, 6], s: 2, pad: 'same' },
  { x: [2, 10, 10, 4], f: [3, 3, 4, 4], s: 2, pad: 'same' },
  { x: [1, 6, 6, 2], f: [3, 3, 2, 2], s: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
];

describe('wasm Conv2DBackpropFilter vs cpu', () => {
  for (const c of conv2dCases) {
    test(label(c), async () => {
      const dyShape = outShape(c, false);
      const x = seeded(size(c.x), 1), dy = seeded(size(dyShape), 2);
      const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f } as unknown as tf.NamedAttrMap;
      const run = () => tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor4d(x, c.x as [number, number, number, number]), dy: tf.tensor(dy, dyShape) }, attrs) as tf.Tensor;
      const expected = await onBackend('cpu', () => tf.tidy(run));
      const actual = await onWasm(() => tf.tidy(run));
      assert.deepEqual(actual.shape, c.f);
      const err = relativeError(actual.values, expected.values);
      assert.ok(err <= TOLERANCE, `relative error ${err}`);
    });
  }
});

const depthwiseCases: Case[] = [
  { x: [1, 5, 5, 3], f: [3, 3, 3, 1], s: 1, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 1], s: 2, pad: 'same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 1], s: 2, pad: 'valid' },
  { x: [2, 8, 8, 3], f: [1, 1, 3, 1], s: 1, pad: 'valid' },
  { x: [2, 8, 8, 3], f: [1, 1, 3, 1], s: 2, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 2], s: 1, pad: 'same' },
  { x: [2, 7, 7, 2], f: [3, 3, 2, 2], s: 2, pad: 'same' },
  { x: [1, 10, 9, 5], f: [3, 3, 5, 1], s: 2, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 1], s: 1, pad: 'same', d: 2 },
  { x: [1, 11, 11, 2], f: [3, 3, 2, 1], s: 1, pad: 'valid', d: 2 },
  { x: [2, 9, 8, 3], f: [3, 3, 3, 2], s: 1, pad: 'same', d: 2 },
  { x: [2, 9, 9, 2], f: [3, 3, 2, 1], s: 1, pad: 'same', d: [2, 1] },
];

/** cpu reference: the cpu kernels ignore dilation in their loops, so give them the zero-inserted filter instead. */
describe('wasm DepthwiseConv2dNativeBackpropFilter vs cpu', () => {
  for (const c of depthwiseCases) {
    test(label(c), async () => {
      const [dh, dw] = pair(c.d);
      const dyShape = outShape(c, true);
      const x = seeded(size(c.x), 3), dy = seeded(size(dyShape), 4);
      const inputs = () => ({ x: tf.tensor4d(x, c.x as [number, number, number, number]), dy: tf.tensor(dy, dyShape) });
      const bigShape = dilateFilter(new Float32Array(size(c.f)), c.f, dh, dw).shape;
      const expected = await onBackend('cpu', () => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
        inputs(), { strides: c.s, pad: c.pad, dilations: [1, 1], filterShape: bigShape } as unknown as tf.NamedAttrMap) as tf.Tensor));
      const actual = await onWasm(() => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
        inputs(), { strides: c.s, pad: c.pad, dilations: [dh, dw], filterShape: c.f } as unknown as tf.NamedAttrMap) as tf.Tensor));
      assert.deepEqual(actual.shape, c.f);
      const err = relativeError(actual.values, undilateFilter(expected.values, bigShape, dh, dw, c.f[0], c.f[1]));
      assert.ok(err <= TOLERANCE, `relative error ${err}`);
    });
  }
});

describe('wasm DepthwiseConv2dNativeBackpropInput vs cpu', () => {
  for (const c of depthwiseCases) {
    test(label(c), async () => {
      const [dh, dw] = pair(c.d);
      const dyShape = outShape(c, true);
      const filter = seeded(size(c.f), 5), dy = seeded(size(dyShape), 6);
      const big = dilateFilter(filter, c.f, dh, dw);
      const expected = await onBackend('cpu', () => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
        { dy: tf.tensor(dy, dyShape), filter: tf.tensor(big.values, big.shape) },
        { strides: c.s, pad: c.pad, dilations: [1, 1], inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor));
      const actual = await onWasm(() => tf.tidy(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
        { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, c.f) },
        { strides: c.s, pad: c.pad, dilations: [dh, dw], inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor));
      assert.deepEqual(actual.shape, c.x);
      const err = relativeError(actual.values, expected.values);
      assert.ok(err <= TOLERANCE, `relative error ${err}`);
    });
  }
});
