// The dilated DeepLab (custom depthwise, align-corners resize, BatchNorm) gives the same loss and gradients on wasm as on cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../src/engine/backend';
import { assertSameLossAndGradients, lossAndGrads } from './parity';

test('dilated DeepLab: wasm loss and gradients match cpu', async () => {
  await initBackend('cpu');
  const cpu = lossAndGrads('cpu');
  await initBackend('wasm', { threads: 1 });
  assert.equal(tf.getBackend(), 'wasm');
  const wasm = lossAndGrads('wasm');
  await tf.setBackend('cpu');
  assertSameLossAndGradients(cpu, wasm);
});
