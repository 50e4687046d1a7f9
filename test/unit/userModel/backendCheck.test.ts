// Per-configuration backend check: a test backend with one deliberately wrong convolution configuration is caught,
// routed to the cpu kernels, and then agrees; configurations that are right are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  checkModelConfigurations, describeBackendCheck, listLayerConfigurations, removeKernelRouter, routeDisagreeing,
} from '../../../src/engine/userModel';
import { buildUNet } from '../../../src/engine/models';

const FAULTY = 'faulty-test';

/**
 * A cpu backend whose FusedConv2D/Conv2D give wrong numbers for stride 2 only: +0.25 on every element, an offset that
 * always passes through the following depthwise conv, max pooling and conv (a single wrong element can be dropped by
 * the max pooling, depending on the random weights).
 */
function registerFaultyBackend(): void {
  tf.registerBackend(FAULTY, () => new MathBackendCPU(), 1);
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: FAULTY });
  for (const name of ['FusedConv2D', 'Conv2D']) {
    const correct = tf.getKernel(name, 'cpu')!.kernelFunc;
    tf.unregisterKernel(name, FAULTY);
    tf.registerKernel({
      kernelName: name, backendName: FAULTY,
      kernelFunc: (args) => {
        const out = correct(args) as tf.TensorInfo;
        if ((args.attrs?.strides as number[] | number) === 2 || (args.attrs?.strides as number[])?.[0] === 2) {
          const backend = args.backend as MathBackendCPU;
          const values = (backend.readSync(out.dataId) as Float32Array).slice();
          for (let i = 0; i < values.length; i++) values[i] += 0.25;
          backend.disposeData(out.dataId);
          return { dataId: backend.write(values, out.shape, out.dtype), shape: out.shape, dtype: out.dtype };
        }
        return out;
      },
    });
  }
}

function smallModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = tfl.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ name: 'c2_stride2', filters: 6, kernelSize: 3, strides: 2, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ name: 'c3', filters: 4, kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

test('lists each distinct configuration once, with the layers that use it', async () => {
  await tf.setBackend('cpu');
  const unet = buildUNet({ numClasses: 3, inputSize: 16, width: 0.25, seed: 1 });
  const configs = listLayerConfigurations(unet);
  const keys = configs.map((c) => c.key);
  assert.equal(new Set(keys).size, keys.length);
  const convLayers = unet.layers.filter((l) => ['Conv2D', 'Conv2DTranspose', 'MaxPooling2D'].includes(l.getClassName())).length;
  assert.equal(configs.reduce((n, c) => n + c.layers.length, 0), convLayers);
  assert.ok(configs.length < convLayers, 'shared configurations are merged');
  unet.dispose();
});

test('a wrong stride-2 convolution kernel is caught, routed to cpu, and then agrees', async () => {
  registerFaultyBackend();
  await tf.setBackend(FAULTY);
  const model = smallModel();
  const x = tf.randomUniform([1, 16, 16, 3], -1, 1, 'float32', 4);
  const faultyOut = Array.from((model.predict(x) as tf.Tensor).dataSync());
  await tf.setBackend('cpu');
  const cpuOut = Array.from((model.predict(x) as tf.Tensor).dataSync());
  const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  assert.ok(maxDiff(faultyOut, cpuOut) > 1e-3, 'the injected fault changes the model output');

  const report = await checkModelConfigurations(model, FAULTY);
  assert.equal(tf.getBackend(), 'cpu', 'the previous backend is restored');
  assert.equal(report.checked.length, 5);
  assert.deepEqual(report.disagreeing.map((r) => r.configuration.layers), [['c2_stride2']]);
  assert.ok(report.disagreeing[0].forwardError > 1e-3);
  assert.match(describeBackendCheck(report), /1 disagree: Conv2D k3x3 s2x2 .*c2_stride2.*\(not routed\)/);

  await routeDisagreeing(report);
  assert.equal(report.disagreeing[0].routed?.agreesAfter, true);
  assert.ok(report.disagreeing[0].routed!.kernels.some((k) => k.startsWith('FusedConv2D') || k.startsWith('Conv2D ')));
  assert.match(describeBackendCheck(report), /routed to the cpu kernels, now agrees/);

  await tf.setBackend(FAULTY);
  const routedOut = Array.from((model.predict(x) as tf.Tensor).dataSync());
  assert.ok(maxDiff(routedOut, cpuOut) <= 1e-5, 'the whole model now agrees with cpu');
  const again = await checkModelConfigurations(model, FAULTY);
  assert.equal(again.disagreeing.length, 0);
  removeKernelRouter(FAULTY);
  await tf.setBackend('cpu');
  tf.removeBackend(FAULTY);
  model.dispose();
});
