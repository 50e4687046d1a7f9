// Reading a run folder and applying live events: the host's history and the dashboard messages it produces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readRunFolder, RunHistory } from '../../../src/host/runHistory';
import { newestRun } from '../../../src/host/runFinder';
import { FakeRun, writeFakeRun } from '../../fixtures/fakeRun';

const dir = mkdtempSync(path.join(tmpdir(), 'segscope-history-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('reads run.json, every complete epoch and the findings', async () => {
  const runDir = path.join(dir, 'runs', 'a');
  writeFakeRun(runDir, { epochs: 3, size: 32, watchLayers: ['stem/relu'] });
  // A half-written epoch folder is not an epoch.
  const partial = new FakeRun(path.join(dir, 'scratch'), { size: 32 });
  partial.start();
  const { info, epochs, findings } = await readRunFolder(runDir);
  assert.equal(info.epochsDone, 3);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.equal(findings.length, 1);
  assert.ok(readdirSync(path.join(runDir, 'epochs')).every((n) => /^\d{4}$/.test(n)));
  assert.equal(await newestRun(path.join(dir, 'runs')), runDir);
  assert.equal(await newestRun(path.join(dir, 'nothing-here')), undefined);
});

test('a folder without run.json is refused with a clear message', async () => {
  await assert.rejects(readRunFolder(path.join(dir, 'missing')), /not a SegScope run folder/);
});

test('live events update the history and produce dashboard messages', async () => {
  const runDir = path.join(dir, 'live');
  const run = new FakeRun(runDir, { epochs: 2, size: 32, watchLayers: ['stem/relu'] });
  run.start();
  const history = await RunHistory.load(runDir, true);
  assert.equal(history.epochs.length, 0);
  const time = new Date().toISOString();
  assert.deepEqual(history.apply({ type: 'run/start', time, runDir, backend: run.info.backend, epochs: 2, batchesPerEpoch: 4 }), [{ type: 'run/status', status: 'running' }]);
  const progress = history.apply({ type: 'batch/end', time, epoch: 1, batch: 2, step: 2, loss: 0.7, imagesPerSec: 12, learningRate: 0.001 });
  assert.deepEqual(progress, [{ type: 'batch/progress', epoch: 1, batch: 2, batchesPerEpoch: 4, loss: 0.7, imagesPerSec: 12 }]);
  const metrics = run.writeEpoch(1);
  assert.deepEqual(history.apply({ type: 'epoch/end', time, epoch: 1, metrics, etaSec: 1 }), [{ type: 'epoch/added', metrics }]);
  // The same epoch again (e.g. after a resume) replaces, not duplicates.
  history.apply({ type: 'epoch/end', time, epoch: 1, metrics, etaSec: 1 });
  assert.equal(history.epochs.length, 1);
  assert.equal(history.info.epochsDone, 1);
  const stats = history.latestLayerStats('stem/relu');
  assert.equal(stats?.epoch, 1);
  assert.deepEqual(stats?.stats, metrics.layers['stem/relu']);
  const finding = run.fakeFinding(1);
  assert.deepEqual(history.apply({ type: 'finding', time, finding }), [{ type: 'finding/added', finding }]);
  assert.deepEqual(history.apply({ type: 'checkpoint', time, epoch: 1, path: 'checkpoint' }), []);
  assert.deepEqual(history.apply({ type: 'run/end', time, runDir, status: 'early-stopped', epochsDone: 1 }), [{ type: 'run/status', status: 'finished' }]);
  assert.equal(history.live, false);
  const dash = history.toDashboard('https://x/run');
  assert.equal(dash.baseUri, 'https://x/run');
  assert.equal(dash.findings.length, 1);
});
