// The dashboard's reducer: handshake state, live epochs with and without "follow latest", scrubbing, and restored view state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_VIEW, reduce, restoreView, selectEpoch, type DashboardState } from '../../../webview/src/model/dashboardState';
import { readRunFolder } from '../../../src/host/runHistory';
import type { DashboardRun } from '../../../src/protocol/webview';
import { writeFakeRun } from '../../fixtures/fakeRun';
import { classIouChart, lossChart } from '../../../webview/src/model/chartData';

const dir = mkdtempSync(path.join(tmpdir(), 'segscope-state-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function fakeRun(): Promise<DashboardRun> {
  const runDir = path.join(dir, 'run');
  writeFakeRun(runDir, { epochs: 4, size: 16, watchLayers: ['stem/relu', 'block1/relu'] });
  const { info, epochs, findings } = await readRunFolder(runDir);
  return { info, epochs, findings, live: true, baseUri: 'http://x/run', runDir };
}

const empty: DashboardState = { run: null, progress: null, view: DEFAULT_VIEW };

test('run/state selects the latest epoch, the first image and the first watched layer', async () => {
  const run = await fakeRun();
  const s = reduce(empty, { type: 'run/state', run: { ...run, epochs: run.epochs.slice(0, 2) } });
  assert.equal(s.view.selectedEpoch, 2);
  assert.equal(s.view.selectedImage, run.info.watch.images[0].id);
  assert.equal(s.view.selectedLayer, 'stem/relu');
  assert.equal(s.view.runDir, run.runDir);
});

test('new epochs move the view only while following the latest', async () => {
  const run = await fakeRun();
  let s = reduce(empty, { type: 'run/state', run: { ...run, epochs: run.epochs.slice(0, 2) } });
  s = reduce(s, { type: 'epoch/added', metrics: run.epochs[2] });
  assert.equal(s.view.selectedEpoch, 3);
  assert.equal(s.run!.info.epochsDone, Math.max(run.info.epochsDone, 3));
  s = selectEpoch(s, 1);
  assert.equal(s.view.followLatest, false);
  s = reduce(s, { type: 'epoch/added', metrics: run.epochs[3] });
  assert.equal(s.view.selectedEpoch, 1, 'scrubbed view stays');
  assert.deepEqual(s.run!.epochs.map((e) => e.epoch), [1, 2, 3, 4]);
  // The same epoch again replaces it.
  s = reduce(s, { type: 'epoch/added', metrics: run.epochs[3] });
  assert.equal(s.run!.epochs.length, 4);
});

test('selecting the latest epoch keeps following; the host can jump to an epoch', async () => {
  const run = await fakeRun();
  let s = reduce(empty, { type: 'run/state', run });
  s = selectEpoch(s, 4);
  assert.equal(s.view.followLatest, true);
  s = reduce(s, { type: 'view/selectEpoch', epoch: 2 });
  assert.deepEqual([s.view.selectedEpoch, s.view.followLatest], [2, false]);
  s = reduce(s, { type: 'view/selectEpoch', epoch: 99 });
  assert.equal(s.view.selectedEpoch, 4, 'an unknown epoch snaps to the nearest');
  s = reduce(s, { type: 'view/selectLayer', layer: 'block1/relu' });
  assert.equal(s.view.selectedLayer, 'block1/relu');
});

test('progress, findings and status', async () => {
  const run = await fakeRun();
  let s = reduce(empty, { type: 'batch/progress', epoch: 1, batch: 1, batchesPerEpoch: 2, loss: 1, imagesPerSec: 3 });
  s = reduce(s, { type: 'run/state', run });
  s = reduce(s, { type: 'batch/progress', epoch: 5, batch: 1, batchesPerEpoch: 8, loss: 0.5, imagesPerSec: 30 });
  assert.equal(s.progress?.batch, 1);
  const before = s.run!.findings.length;
  s = reduce(s, { type: 'finding/added', finding: { id: 'x', severity: 'info', cause: 'c', fix: 'f', evidence: {} } });
  assert.equal(s.run!.findings.length, before + 1);
  s = reduce(s, { type: 'run/status', status: 'crashed' });
  assert.equal(s.run!.live, false);
  assert.equal(s.progress, null);
  assert.equal(s.run!.info.status, 'crashed');
});

test('restored view state keeps valid fields and drops garbage', () => {
  assert.deepEqual(restoreView(undefined), DEFAULT_VIEW);
  assert.deepEqual(restoreView('nonsense'), DEFAULT_VIEW);
  const v = restoreView({ overlayOpacity: 0.8, normalisation: 'layer', hiddenClasses: [1, 'x'], colormap: 'jet', selectedEpoch: 3, followLatest: false });
  assert.equal(v.overlayOpacity, 0.8);
  assert.equal(v.normalisation, 'layer');
  assert.deepEqual(v.hiddenClasses, DEFAULT_VIEW.hiddenClasses);
  assert.equal(v.colormap, DEFAULT_VIEW.colormap);
  assert.deepEqual([v.selectedEpoch, v.followLatest], [3, false]);
});

test('a restored scrubbed epoch survives the handshake; a restored layer that no longer exists falls back', async () => {
  const run = await fakeRun();
  const restored: DashboardState = { ...empty, view: { ...DEFAULT_VIEW, selectedEpoch: 2, followLatest: false, selectedLayer: 'gone', hiddenClasses: [1], runDir: run.runDir! } };
  const s = reduce(restored, { type: 'run/state', run });
  assert.equal(s.view.selectedEpoch, 2);
  assert.equal(s.view.selectedLayer, 'stem/relu');
  assert.deepEqual(s.view.hiddenClasses, [1]);
});

test('chart columns follow the epochs', async () => {
  const run = await fakeRun();
  const loss = lossChart(run.epochs);
  assert.deepEqual(loss.epochs, [1, 2, 3, 4]);
  assert.deepEqual(loss.series[1].values, run.epochs.map((e) => e.val.loss));
  const iou = classIouChart(run.epochs, run.info.classes.map((c) => c.name));
  assert.equal(iou.series.length, run.info.classes.length);
  assert.deepEqual(iou.series[0].values, run.epochs.map((e) => e.val.iou[0]));
});
