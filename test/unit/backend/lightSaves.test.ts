// Saved tensors without tfjs' Identity kernel and tape node: same gradients, fewer kernel calls, nested gradients intact, no leaks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { setLightSaves } from '../../../src/engine/backend/lightSaves';
import { seeded } from './helpers';

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm', { threads: 1 });
});
after(() => setLightSaves(true));

/** A small conv/BatchNorm/ReLU model with seeded weights. */
function smallModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [12, 12, 3] });
  let y = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tfl.SymbolicTensor;
  y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(y) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: y });
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(seeded(w.size, 10 + i), w.shape)));
  return model;
}

/** Gradients of the model's loss, how many Identity kernels ran for them, and how many tensors were left behind. */
function modelGradients(model: tfl.LayersModel, light: boolean): { values: Float32Array[]; identities: number; leaked: number } {
  setLightSaves(light);
  const x = tf.tensor4d(seeded(2 * 12 * 12 * 3, 5), [2, 12, 12, 3]);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const backend = tf.getBackend();
  const identity = tf.getKernel('Identity', backend)!;
  let identities = 0;
  tf.unregisterKernel('Identity', backend);
  tf.registerKernel({ ...identity, kernelFunc: (args) => { identities++; return identity.kernelFunc(args); } });
  try {
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
    const values = variables.map((v) => grads[v.name].dataSync() as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
    return { values, identities, leaked: tf.memory().numTensors - before };
  } finally {
    tf.unregisterKernel('Identity', backend);
    tf.registerKernel(identity);
    x.dispose();
  }
}

for (const backend of ['cpu', 'wasm']) {
  test(`${backend}: first-order gradients are bit-identical with and without light saves, with fewer Identity kernels and no leak`, async () => {
    await tf.setBackend(backend);
    const model = smallModel();
    const stock = modelGradients(model, false);
    const light = modelGradients(model, true);
    model.dispose();
    assert.equal(light.values.length, stock.values.length);
    light.values.forEach((g, i) => assert.deepEqual(g, stock.values[i], `gradient ${i}`));
    assert.ok(stock.identities >= 5, `tfjs' clone ran Identity ${stock.identities} times`);
    assert.ok(light.identities < stock.identities / 2, `Identity ran ${light.identities} times with light saves, ${stock.identities} without`);
    assert.equal(light.leaked, 0);
    assert.equal(stock.leaked, 0);
  });

  test(`${backend}: second-order gradients still see through saved tensors`, async () => {
    await tf.setBackend(backend);
    setLightSaves(true);
    const x = tf.tensor1d([0.5, -1.5, 2]);
    // d²/dx² of x·x·x = 6x; mul saves its inputs, which the outer gradient must differentiate through.
    const second = tf.grad((a: tf.Tensor) => tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.mul(b, b), b)))(a))(x);
    assert.deepEqual(Array.from(second.dataSync()), [3, -9, 12]);
    tf.dispose([x, second]);
  });
}

test('setLightSaves(false) puts tfjs\' clone back, true installs the light one once', () => {
  setLightSaves(false);
  const engine = tf.engine() as unknown as { clone: { name: string } };
  assert.notEqual(engine.clone.name, 'lightClone');
  setLightSaves(true);
  assert.equal(engine.clone.name, 'lightClone');
});
