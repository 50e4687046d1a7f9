// Status-bar and progress-notification text for each training state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine, statusView } from '../../../src/host/statusText';

const progress = { epoch: 3, batch: 5, batchesPerEpoch: 8, loss: 0.51234, imagesPerSec: 34.56 };

test('the progress line names epoch, batch, loss and throughput', () => {
  assert.equal(progressLine(progress, 10), 'epoch 3/10 · batch 5/8 · loss 0.512 · 34.6 img/s');
  assert.equal(progressLine(progress, undefined), 'epoch 3 · batch 5/8 · loss 0.512 · 34.6 img/s');
  assert.equal(progressLine({ ...progress, loss: NaN }, 10).includes('loss –'), true);
  assert.equal(progressLine(undefined, 10), 'starting…');
});

test('each state has its own text and icon', () => {
  const texts = (['idle', 'starting', 'running', 'paused', 'stopping'] as const).map((s) => statusView(s, progress, 10, 'demo').text);
  assert.equal(new Set(texts).size, texts.length);
  assert.match(statusView('running', progress, 10).text, /^\$\(sync~spin\) epoch 3\/10/);
  assert.match(statusView('paused', progress, 10).text, /paused/);
  assert.match(statusView('idle', undefined, undefined, 'demo').tooltip, /last run: demo/);
});
