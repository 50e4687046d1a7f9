// The same parity on the threaded wasm backend, where SegScope's SIMD kernels split large tensors over two threads
// (and run small ones on one): a whole model's loss and gradients, not just kernels one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../src/engine/backend';
import { nativeKernelsFor } from '../../../src/engine/backend/nativeKernels';
import { assertSameLossAndGradients, lossAndGrads } from './parity';

test('dilated DeepLab on two threads: wasm loss and gradients match cpu', async () => {
  await initBackend('cpu');
  const cpu = lossAndGrads('cpu', 64, 2);
  const report = await initBackend('wasm', { threads: 2 });
  assert.equal(tf.getBackend(), 'wasm');
  const wasm = lossAndGrads('wasm', 64, 2);
  await tf.setBackend('cpu');
  assertSameLossAndGradients(cpu, wasm);
  if ((report.threads ?? 1) > 1) {
    const counts = [...nativeKernelsFor(tf.findBackend('wasm'))!.counts.values()];
    assert.ok(counts.some((c) => c.split > 0) && counts.some((c) => c.calls > c.split), 'both split and unsplit calls ran');
  }
});
