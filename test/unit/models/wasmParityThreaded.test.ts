// The same parity on the threaded wasm backend, where SegScope's SIMD kernels split large tensors over two threads
// (and run small ones on one) and each BatchNorm runs fused with its activation: a whole model's loss and gradients.
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
  const native = nativeKernelsFor(tf.findBackend('wasm'))!;
  // Each BatchNorm and the ReLU/ReLU6 after it ran as one op, forward and backward.
  assert.ok((native.counts.get('bn_apply_act')?.calls ?? 0) > 0 && (native.counts.get('bn_act_grad_apply')?.calls ?? 0) > 0, 'fused BatchNorm+activation ran');
  if ((report.threads ?? 1) > 1) {
    const counts = [...native.counts.values()];
    assert.ok(counts.some((c) => c.split > 0) && counts.some((c) => c.calls > c.split), 'both split and unsplit calls ran');
  }
});
