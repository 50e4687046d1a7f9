// The custom layers (Resize, DepthwiseConv, BatchNorm) against loop-based forward/adjoint computations, and save/load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { BatchNorm, DepthwiseConv, Resize, buildDeepLabV3Plus, setFrozen } from '../../../src/engine/models';
import { registerDilatedConvGradients } from '../../../src/engine/backend';

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}
const randomArray = (n: number, seed: number) => Float32Array.from({ length: n }, rng(seed));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('setup', async () => {
  await tf.setBackend('cpu');
  registerDilatedConvGradients();
});

// ---- bilinear, align corners: src = dst · (in−1)/(out−1) ----
function resizeTaps(inSize: number, outSize: number, o: number): [number, number, number] {
  const src = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
  const i0 = Math.floor(src);
  const i1 = Math.min(i0 + 1, inSize - 1);
  return [i0, i1, src - i0];
}

function refResize(x: Float32Array, [b, h, w, c]: number[], oh: number, ow: number, dy?: Float32Array): Float32Array {
  const out = new Float32Array(dy ? x.length : b * oh * ow * c);
  for (let n = 0; n < b; n++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    const [y0, y1, fy] = resizeTaps(h, oh, i);
    const [x0, x1, fx] = resizeTaps(w, ow, j);
    const taps: [number, number, number][] = [[y0, x0, (1 - fy) * (1 - fx)], [y0, x1, (1 - fy) * fx], [y1, x0, fy * (1 - fx)], [y1, x1, fy * fx]];
    for (let ch = 0; ch < c; ch++) {
      const o = ((n * oh + i) * ow + j) * c + ch;
      for (const [yy, xx, wt] of taps) {
        const s = ((n * h + yy) * w + xx) * c + ch;
        if (dy) out[s] += wt * dy[o];
        else out[o] += wt * x[s];
      }
    }
  }
  return out;
}

test('Resize: align-corners forward and gradient match loops (incl. 1×1 → h×w image pooling)', () => {
  for (const [shape, oh, ow] of [[[2, 3, 4, 2], 7, 5], [[1, 1, 1, 3], 4, 4], [[1, 4, 4, 1], 16, 16]] as [number[], number, number][]) {
    const x = randomArray(shape.reduce((a, b) => a * b), 3);
    const layer = new Resize({ height: oh, width: ow });
    const xt = tf.tensor(x, shape);
    const y = layer.apply(xt) as tf.Tensor;
    assert.deepEqual(y.shape, [shape[0], oh, ow, shape[3]]);
    assert.ok(maxAbsDiff(y.dataSync(), refResize(x, shape, oh, ow)) < 1e-5);
    const dy = randomArray(y.size, 5);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, tf.tensor(dy, y.shape))))(xt);
    assert.ok(maxAbsDiff(g.dataSync(), refResize(x, shape, oh, ow, dy)) < 1e-4, `gradient ${JSON.stringify(shape)}`);
    tf.dispose([xt, y, g]);
  }
});

// ---- depthwise conv with PyTorch padding p = d·(k−1)/2 on every side ----
function refDepthwise(x: Float32Array, [b, h, w, c]: number[], k: Float32Array, ks: number, s: number, d: number) {
  const p = (d * (ks - 1)) / 2;
  const oh = Math.floor((h + 2 * p - d * (ks - 1) - 1) / s) + 1;
  const ow = Math.floor((w + 2 * p - d * (ks - 1) - 1) / s) + 1;
  const y = new Float32Array(b * oh * ow * c);
  // Each output accumulates x·k; the adjoints follow the same taps.
  const taps: { o: number; xi: number; ki: number }[] = [];
  for (let n = 0; n < b; n++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let ch = 0; ch < c; ch++) {
    const o = ((n * oh + i) * ow + j) * c + ch;
    for (let a = 0; a < ks; a++) for (let e = 0; e < ks; e++) {
      const yy = i * s - p + a * d;
      const xx = j * s - p + e * d;
      if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
      const xi = ((n * h + yy) * w + xx) * c + ch;
      const ki = (a * ks + e) * c + ch;
      y[o] += x[xi] * k[ki];
      taps.push({ o, xi, ki });
    }
  }
  return { y, shape: [b, oh, ow, c], taps };
}

test('DepthwiseConv: stride 2 / dilation 2 / plain match loops, forward and both gradients', () => {
  const cases: { shape: number[]; s: number; d: number }[] = [
    { shape: [2, 8, 8, 3], s: 2, d: 1 }, { shape: [1, 7, 7, 2], s: 2, d: 1 },
    { shape: [1, 9, 9, 2], s: 1, d: 2 }, { shape: [2, 6, 6, 3], s: 1, d: 1 }, { shape: [1, 12, 12, 2], s: 1, d: 4 },
  ];
  for (const { shape, s, d } of cases) {
    const x = randomArray(shape.reduce((a, b) => a * b), 11);
    const layer = new DepthwiseConv({ kernelSize: 3, strides: s, dilationRate: d, seed: 1 });
    const xt = tf.tensor(x, shape);
    const y = layer.apply(xt) as tf.Tensor;
    const kernel = layer.getWeights()[0];
    assert.deepEqual(kernel.shape, [3, 3, shape[3], 1]);
    const k = kernel.dataSync() as Float32Array;
    const ref = refDepthwise(x, shape, k, 3, s, d);
    assert.deepEqual(y.shape, ref.shape);
    assert.deepEqual(layer.computeOutputShape([null, shape[1], shape[2], shape[3]]), [null, ...ref.shape.slice(1)]);
    assert.ok(maxAbsDiff(y.dataSync(), ref.y) < 1e-5, `forward s${s} d${d}`);
    const dy = randomArray(y.size, 13);
    const dyt = tf.tensor(dy, y.shape);
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xt) as tf.Tensor, dyt)) as tf.Scalar, [layer.trainableWeights[0].read() as tf.Variable]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, dyt)))(xt);
    const refDx = new Float32Array(x.length);
    const refDk = new Float32Array(k.length);
    for (const { o, xi, ki } of ref.taps) {
      refDx[xi] += k[ki] * dy[o];
      refDk[ki] += x[xi] * dy[o];
    }
    assert.ok(maxAbsDiff(dx.dataSync(), refDx) < 1e-4, `input gradient s${s} d${d}`);
    const dk = Object.values(grads)[0];
    assert.ok(maxAbsDiff(dk.dataSync(), refDk) < 1e-4, `filter gradient s${s} d${d}`);
    tf.dispose([xt, y, dyt, dx, value, ...Object.values(grads)]);
  }
});

test('BatchNorm inferenceMode: training=true call keeps moving stats and equals inference output; stock mode updates them', () => {
  const x = tf.add(tf.mul(tf.tensor(randomArray(4 * 3 * 3 * 2, 21), [4, 3, 3, 2]), 3), 1);
  for (const inferenceMode of [true, false]) {
    const bn = new BatchNorm({ momentum: 0.9, epsilon: 1e-5, inferenceMode });
    bn.apply(x); // build
    bn.setWeights([tf.tensor1d([1.5, 0.5]), tf.tensor1d([0.1, -0.2]), tf.tensor1d([0.3, -0.4]), tf.tensor1d([2, 0.5])]);
    const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const trained = bn.apply(x, { training: true }) as tf.Tensor;
    const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const inference = bn.apply(x, { training: false }) as tf.Tensor;
    if (inferenceMode) {
      assert.deepEqual(after, before);
      assert.ok(maxAbsDiff(trained.dataSync(), inference.dataSync()) < 1e-6);
    } else {
      assert.notDeepEqual(after[2], before[2], 'stock BN updates the moving mean in training');
      assert.ok(maxAbsDiff(trained.dataSync(), inference.dataSync()) > 1e-2);
    }
    tf.dispose([trained, inference]);
    bn.dispose();
  }
  x.dispose();
});

test('BatchNorm training path (fused gradient) = stock tfjs BatchNormalization: output, moving stats, all gradients', () => {
  const shape = [3, 4, 5, 6];
  const x = tf.add(tf.mul(tf.tensor(randomArray(3 * 4 * 5 * 6, 31), shape), 2), 0.5);
  const dy = tf.tensor(randomArray(3 * 4 * 5 * 6, 37), shape);
  const init = [randomArray(6, 41), randomArray(6, 43), randomArray(6, 47), Float32Array.from(randomArray(6, 53), (v) => v + 1.5)];
  const run = (layer: tfl.layers.Layer) => {
    layer.apply(x); // build
    layer.setWeights(init.map((w) => tf.tensor1d(w)));
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const moving = layer.getWeights().slice(2).map((w) => w.dataSync().slice());
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar,
      layer.trainableWeights.map((w) => w.read() as tf.Variable));
    const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, dy)))(x);
    return { y: y.dataSync(), moving, dGamma: Object.values(grads)[0].dataSync(), dBeta: Object.values(grads)[1].dataSync(), dx: dx.dataSync() };
  };
  const ours = run(new BatchNorm({ momentum: 0.9, epsilon: 1e-5 }));
  const stock = run(tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
  assert.ok(maxAbsDiff(ours.y, stock.y) < 1e-5, 'output');
  ours.moving.forEach((m, i) => assert.ok(maxAbsDiff(m, stock.moving[i]) < 1e-6, 'moving statistics'));
  assert.ok(maxAbsDiff(ours.dGamma, stock.dGamma) < 1e-4, 'dgamma');
  assert.ok(maxAbsDiff(ours.dBeta, stock.dBeta) < 1e-4, 'dbeta');
  assert.ok(maxAbsDiff(ours.dx, stock.dx) < 1e-4, 'dx');
  assert.ok(ours.dx.some((v) => Math.abs(v) > 1e-2));
  tf.dispose([x, dy]);
});

test('save/load round trip keeps names, weights, custom layers and BatchNorm inferenceMode', async () => {
  const build = () => buildDeepLabV3Plus({
    numClasses: 3, inputSize: 32, backbone: 'mobilenetv2', width: 0.35, outputStride: 8, asppRates: [2, 4],
    asppChannels: 16, decoderChannels: 16, lowLevelChannels: 8, seed: 5,
  });
  build().dispose(); // a second model with the same layer names: tfjs uniquifies variable names, not originalName
  const model = build();
  setFrozen(model, { firstN: 8 }, 'inference');
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const names = saved!.weightSpecs!.map((s) => s.name);
  assert.ok(names.includes('backbone/block3/expand/kernel'));
  assert.ok(names.includes('aspp/rate2/depthwise/depthwise_kernel'));
  assert.ok(names.every((n) => !/_\d+$/.test(n)), 'weight names are not uniquified');
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
  assert.deepEqual(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
  const frozenBn = loaded.getLayer('backbone/stem_bn');
  assert.ok(frozenBn instanceof BatchNorm && frozenBn.inferenceMode);
  const laterBn = loaded.getLayer('head/logits');
  assert.equal(laterBn.getClassName(), 'Conv2D');
  assert.ok(loaded.getLayer('aspp/rate4/depthwise') instanceof DepthwiseConv);
  const x = tf.tensor(randomArray(2 * 32 * 32 * 3, 9), [2, 32, 32, 3]);
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  assert.ok(maxAbsDiff(a.dataSync(), b.dataSync()) < 1e-5);
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});
