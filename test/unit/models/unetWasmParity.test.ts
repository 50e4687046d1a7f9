// The U-Net (max pooling, transposed convs, BatchNorm, skip concats) trained with the fused wasm loss gives the same
// loss and gradients on wasm as on cpu: guards the corrected MaxPoolGrad and the fused BatchNorm/cross-entropy kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildUNet } from '../../../src/engine/models';
import { makeLoss } from '../../../src/engine/losses';
import { initBackend } from '../../../src/engine/backend';

const ce = makeLoss({ type: 'ce', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2 }, { numClasses: 3, ignoreLabel: 255 });

function lossAndGrads() {
  const model = buildUNet({ numClasses: 3, inputSize: 16, width: 0.25, seed: 3 });
  // Inputs rounded to a coarse grid: many tied maxima inside the pooling windows.
  const x = tf.tidy(() => tf.div(tf.round(tf.mul(tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 7), 2)), 2)) as tf.Tensor4D;
  const y = tf.tidy(() => tf.where(tf.greater(tf.randomUniform([2, 16, 16], 0, 1, 'float32', 8), 0.9),
    tf.fill([2, 16, 16], 255, 'int32'), tf.cast(tf.argMax(x, -1), 'int32'))) as tf.Tensor3D;
  const { value, grads } = tf.variableGrads(() => ce(y, model.apply(x, { training: true }) as tf.Tensor4D));
  const result = {
    loss: value.dataSync()[0],
    grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k.replace(/_\d+$/, ''), Float64Array.from(g.dataSync())])),
  };
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  return result;
}

test('U-Net: wasm loss and gradients match cpu (relative L2 of all gradients < 1e-3)', async () => {
  await initBackend('cpu');
  const cpu = lossAndGrads();
  await initBackend('wasm', { threads: 1 });
  assert.equal(tf.getBackend(), 'wasm');
  const wasm = lossAndGrads();
  await tf.setBackend('cpu');
  assert.ok(Math.abs(cpu.loss - wasm.loss) < 1e-4 * Math.abs(cpu.loss), `loss cpu ${cpu.loss} wasm ${wasm.loss}`);
  let num = 0, den = 0;
  const worst: { name: string; rel: number }[] = [];
  for (const [name, a] of Object.entries(cpu.grads)) {
    const b = wasm.grads[name];
    assert.ok(b, `wasm gradient for ${name}`);
    let n = 0, d = 0;
    for (let i = 0; i < a.length; i++) {
      n += (a[i] - b[i]) ** 2;
      d += a[i] ** 2;
    }
    num += n;
    den += d;
    worst.push({ name, rel: Math.sqrt(n / Math.max(d, 1e-30)) });
  }
  const total = Math.sqrt(num / den);
  worst.sort((p, q) => q.rel - p.rel);
  assert.ok(total < 1e-3, `relative L2 difference of all gradients ${total}; worst ${JSON.stringify(worst.slice(0, 3))}`);
});
