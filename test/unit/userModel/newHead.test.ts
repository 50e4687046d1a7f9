// Finding the classifier a new head replaces (back from the output through softmax / resize) and zeroing only it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { buildDeepLabV3Plus, buildUNet } from '../../../src/engine/models';
import { classifierLayers, zeroNewHead } from '../../../src/engine/userModel/newHead';

const names = (model: tfl.LayersModel) => classifierLayers(model).map((l) => l.name);

test('the classifier is found behind a final softmax and behind the DeepLab upsampling', () => {
  const unet = buildUNet({ numClasses: 3, inputSize: 16, width: 0.25, seed: 1, finalSoftmax: true });
  assert.equal(unet.outputs[0].sourceLayer.name, 'head/softmax');
  assert.deepEqual(names(unet), ['head/logits']);
  unet.dispose();
  const deeplab = buildDeepLabV3Plus({
    numClasses: 3, inputSize: 32, backbone: 'mobilenetv2', width: 0.35, outputStride: 16, asppRates: [2], asppChannels: 8, decoderChannels: 8, seed: 1,
  });
  assert.equal(deeplab.outputs[0].sourceLayer.name, 'head/upsample');
  assert.deepEqual(names(deeplab), ['head/logits']);
  deeplab.dispose();
});

test('a classifier behind a layer with weights other than a plain linear map is left alone', () => {
  const input = tfl.input({ shape: [4, 4, 2] });
  const conv = tfl.layers.conv2d({ name: 'logits', filters: 3, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'logits_bn' }).apply(conv) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: bn });
  assert.deepEqual(names(model), []);
  assert.deepEqual(zeroNewHead(model, new Set()), []);
  model.dispose();
});

test('only classifier layers that were not loaded are zeroed', () => {
  const model = buildUNet({ numClasses: 3, inputSize: 16, width: 0.25, seed: 1 });
  const other = model.getLayer('decoder/level1/conv2').getWeights()[0].dataSync().slice();
  assert.deepEqual(zeroNewHead(model, new Set(['head/logits'])), []);
  assert.ok(model.getLayer('head/logits').getWeights()[0].dataSync().some((v) => v !== 0));
  assert.deepEqual(zeroNewHead(model, new Set()), ['head/logits']);
  for (const w of model.getLayer('head/logits').getWeights()) assert.ok(w.dataSync().every((v) => v === 0));
  assert.deepEqual(model.getLayer('decoder/level1/conv2').getWeights()[0].dataSync(), other);
  model.dispose();
});
