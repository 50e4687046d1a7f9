// Shared by the wasm-parity tests: the dilated DeepLab's loss and gradients on a backend, and their comparison with cpu.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { buildDeepLabV3Plus } from '../../../src/engine/models';
import { makeLoss } from '../../../src/engine/losses';

const ce = makeLoss({ type: 'ce+dice', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2 }, { numClasses: 3, ignoreLabel: 255 });

export function lossAndGrads(backend: string, inputSize = 32, batch = 2) {
  // Same seed → same initial weights on each backend (weights are created on the active backend).
  const model = buildDeepLabV3Plus({
    numClasses: 3, inputSize, backbone: 'mobilenetv2', width: 0.35, outputStride: 8, asppRates: [2, 3],
    asppChannels: 16, decoderChannels: 16, lowLevelChannels: 8, seed: 11,
  });
  const x = tf.randomUniform([batch, inputSize, inputSize, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
  const y = tf.tidy(() => tf.where(tf.greater(tf.randomUniform([batch, inputSize, inputSize], 0, 1, 'float32', 6), 0.9),
    tf.fill([batch, inputSize, inputSize], 255, 'int32'), tf.cast(tf.argMax(x, -1), 'int32'))) as tf.Tensor3D;
  const { value, grads } = tf.variableGrads(() => ce(y, model.apply(x, { training: true }) as tf.Tensor4D));
  const result = {
    backend,
    loss: value.dataSync()[0],
    grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k.replace(/_\d+$/, ''), Float64Array.from(g.dataSync())])),
  };
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  return result;
}

type Result = ReturnType<typeof lossAndGrads>;

/** Loss within 1e-4 relative; all gradients within 1e-3 relative L2; the worst layer within 2e-2. */
export function assertSameLossAndGradients(cpu: Result, wasm: Result): void {
  assert.ok(Math.abs(cpu.loss - wasm.loss) < 1e-4 * Math.abs(cpu.loss), `loss cpu ${cpu.loss} wasm ${wasm.loss}`);
  // Some gradients are exactly 0 in exact arithmetic (the beta of a BatchNorm whose output only reaches the loss
  // through another training-mode BatchNorm, which removes per-channel shifts); their float noise is not compared.
  let num = 0;
  let den = 0;
  let count = 0;
  const layers: { name: string; rms: number; rel: number }[] = [];
  for (const [name, a] of Object.entries(cpu.grads)) {
    const b = wasm.grads[name];
    assert.ok(b, `wasm gradient for ${name}`);
    let n = 0;
    let d = 0;
    for (let i = 0; i < a.length; i++) {
      n += (a[i] - b[i]) ** 2;
      d += a[i] ** 2;
    }
    num += n;
    den += d;
    count += a.length;
    layers.push({ name, rms: Math.sqrt(d / a.length), rel: Math.sqrt(n / Math.max(d, 1e-30)) });
  }
  const total = Math.sqrt(num / den);
  assert.ok(total < 1e-3, `relative L2 difference of all gradients ${total}`);
  const globalRms = Math.sqrt(den / count);
  const compared = layers.filter((l) => l.rms > 1e-3 * globalRms).sort((p, q) => q.rel - p.rel);
  assert.ok(compared.length > 0.8 * layers.length);
  assert.ok(compared[0].rel < 2e-2, `worst weights ${JSON.stringify(compared.slice(0, 3))}`);
}
