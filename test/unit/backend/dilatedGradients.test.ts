// Gradients of dilated conv2d / depthwiseConv2d on cpu and wasm: against finite differences and an undilated equivalent.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { dilateFilter, relativeError, seeded, size, undilateFilter } from './helpers';

type Pad = 'same' | 'valid';
interface Case { x: number[]; f: number[]; pad: Pad; d: [number, number] }
type ConvOp = (x: tf.Tensor4D, w: tf.Tensor4D, pad: Pad, d: [number, number]) => tf.Tensor4D;

const conv: ConvOp = (x, w, pad, d) => tf.conv2d(x, w, 1, pad, 'NHWC', d);
const depthwise: ConvOp = (x, w, pad, d) => tf.depthwiseConv2d(x, w, 1, pad, 'NHWC', d);

/** loss = sum(op(x, w) * r): linear in x and in w, so central differences are exact up to rounding. */
function lossAndGrads(op: ConvOp, c: Case, xv: Float32Array, wv: Float32Array, wShape: number[], d: [number, number]) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const w = tf.tensor4d(wv, wShape as [number, number, number, number]);
    const yShape = op(x, w, c.pad, d).shape;
    const r = tf.tensor(seeded(size(yShape), 99), yShape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D, c.pad, d), r)))([x, w]);
    return { gx: gx.dataSync() as Float32Array, gw: gw.dataSync() as Float32Array };
  });
}

function loss(op: ConvOp, c: Case, xv: Float32Array, wv: Float32Array): number {
  return tf.tidy(() => {
    const y = op(tf.tensor4d(xv, c.x as [number, number, number, number]), tf.tensor4d(wv, c.f as [number, number, number, number]), c.pad, c.d);
    return tf.sum(tf.mul(y, tf.tensor(seeded(size(y.shape), 99), y.shape))).dataSync()[0];
  });
}

/** Central difference of the loss w.r.t. a few entries of one argument. */
function finiteDifferences(op: ConvOp, c: Case, xv: Float32Array, wv: Float32Array, which: 'x' | 'w', indices: number[]) {
  const eps = 0.1;
  return indices.map((i) => {
    const plus = Float32Array.from(which === 'x' ? xv : wv), minus = Float32Array.from(plus);
    plus[i] += eps;
    minus[i] -= eps;
    const [lp, lm] = which === 'x' ? [loss(op, c, plus, wv), loss(op, c, minus, wv)] : [loss(op, c, xv, plus), loss(op, c, xv, minus)];
    return (lp - lm) / (2 * eps);
  });
}

const cases: { name: string; op: ConvOp; c: Case }[] = [
  { name: 'conv2d same d2', op: conv, c: { x: [2, 7, 7, 3], f: [3, 3, 3, 4], pad: 'same', d: [2, 2] } },
  { name: 'conv2d valid d2', op: conv, c: { x: [1, 9, 8, 2], f: [3, 3, 2, 3], pad: 'valid', d: [2, 2] } },
  { name: 'conv2d same d(2,3)', op: conv, c: { x: [2, 9, 9, 2], f: [3, 3, 2, 2], pad: 'same', d: [2, 3] } },
  { name: 'depthwise same d2', op: depthwise, c: { x: [2, 7, 7, 3], f: [3, 3, 3, 1], pad: 'same', d: [2, 2] } },
  { name: 'depthwise valid d2 m2', op: depthwise, c: { x: [1, 9, 9, 2], f: [3, 3, 2, 2], pad: 'valid', d: [2, 2] } },
  { name: 'depthwise same d3', op: depthwise, c: { x: [2, 8, 7, 2], f: [3, 3, 2, 1], pad: 'same', d: [3, 3] } },
];

before(async () => {
  await initBackend('wasm', { threads: 1 });
});

for (const backend of ['cpu', 'wasm']) {
  describe(`dilated gradients on ${backend}`, () => {
    before(async () => {
      await tf.setBackend(backend);
    });
    for (const { name, op, c } of cases) {
      test(`${name}: matches the undilated equivalent and finite differences`, () => {
        const xv = seeded(size(c.x), 11), wv = seeded(size(c.f), 12);
        const before = tf.memory().numTensors;
        const { gx, gw } = lossAndGrads(op, c, xv, wv, c.f, c.d);
        assert.equal(tf.memory().numTensors, before, 'gradient leaked tensors');

        // Independent reference: same convolution with zero-inserted filter taps and no dilation (stock gradients).
        const big = dilateFilter(wv, c.f, c.d[0], c.d[1]);
        const ref = lossAndGrads(op, c, xv, big.values, big.shape, [1, 1]);
        assert.ok(relativeError(gx, ref.gx) <= 1e-4, `dx error ${relativeError(gx, ref.gx)}`);
        const gwRef = undilateFilter(ref.gw, big.shape, c.d[0], c.d[1], c.f[0], c.f[1]);
        assert.ok(relativeError(gw, gwRef) <= 1e-4, `dW error ${relativeError(gw, gwRef)}`);

        const xi = [0, Math.floor(xv.length / 3), xv.length - 1], wi = [0, Math.floor(wv.length / 2), wv.length - 1];
        const fdx = finiteDifferences(op, c, xv, wv, 'x', xi), fdw = finiteDifferences(op, c, xv, wv, 'w', wi);
        assert.ok(relativeError(xi.map((i) => gx[i]), fdx) <= 1e-2, `dx vs finite differences ${xi.map((i) => gx[i])} ${fdx}`);
        assert.ok(relativeError(wi.map((i) => gw[i]), fdw) <= 1e-2, `dW vs finite differences ${wi.map((i) => gw[i])} ${fdw}`);
      });
    }

    test('tfjs-layers conv2d and depthwiseConv2d with dilationRate train', () => {
      const x = tf.tensor4d(seeded(2 * 9 * 9 * 3, 21), [2, 9, 9, 3]);
      const convLayer = tfl.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: true });
      const dwLayer = tfl.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', useBias: true });
      const model = tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [9, 9, 3] }), dwLayer, convLayer] });
      const r = tf.tensor(seeded(2 * 9 * 9 * 4, 22), [2, 9, 9, 4]);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, r)) as tf.Scalar);
      const names = Object.keys(grads);
      assert.equal(names.length, 4, `gradients for ${names}`);
      for (const g of Object.values(grads)) assert.ok(tf.sum(tf.abs(g)).dataSync()[0] > 0);

      // The depthwise layer really dilates: its output equals the dilated op, not the undilated one.
      const [dk, db] = dwLayer.getWeights();
      const layerOut = dwLayer.apply(x) as tf.Tensor;
      const dilated = tf.add(tf.depthwiseConv2d(x, dk as tf.Tensor4D, 1, 'same', 'NHWC', 2), db);
      const undilated = tf.add(tf.depthwiseConv2d(x, dk as tf.Tensor4D, 1, 'same', 'NHWC', 1), db);
      assert.ok(relativeError(layerOut.dataSync(), dilated.dataSync()) <= 1e-5);
      assert.ok(relativeError(layerOut.dataSync(), undilated.dataSync()) > 1e-2);
      assert.deepEqual(dwLayer.computeOutputShape([null, 9, 9, 3]), [null, 9, 9, 3]);

      // The conv layer's kernel gradient equals the op-level dilated gradient.
      const [ck] = convLayer.getWeights();
      const dwOut = dwLayer.apply(x) as tf.Tensor4D;
      const [gk] = tf.grads((k: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(dwOut, k as tf.Tensor4D, 1, 'same', 'NHWC', 2), r)))([ck]);
      const layerGrad = Object.entries(grads).find(([n]) => n.includes(convLayer.name) && n.includes('kernel'))?.[1];
      assert.ok(layerGrad, `no kernel gradient among ${names}`);
      assert.ok(relativeError(layerGrad.dataSync(), gk.dataSync()) <= 1e-4);
      tf.dispose([x, r, value, ...Object.values(grads), layerOut, dilated, undilated, dwOut, gk]);
      model.dispose?.();
    });
  });
}
