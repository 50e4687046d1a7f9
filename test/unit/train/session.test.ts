// TrainingSession end to end on a tiny dataset: run folder contents, determinism, no tensor leaks, stop + resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TrainingSession } from '../../../src/engine/session/trainingSession';
import type { RunEvent } from '../../../src/protocol/runEvents';
import { runPaths, type ActivationHeader, type EpochMetrics, type RunInfo } from '../../../src/protocol/runFolder';
import { parseEventLines } from '../../../src/engine/run/eventLog';
import { makeTinyRun } from './tinyRun';

const WATCHED = 'encoder/level2/conv1_relu';

async function train(run: Awaited<ReturnType<typeof makeTinyRun>>, extra: Partial<Parameters<typeof TrainingSession.open>[0]> = {},
  during?: (s: TrainingSession, events: RunEvent[]) => void) {
  const events: RunEvent[] = [];
  const numTensorsAtEpochEnd: number[] = [];
  const session = await TrainingSession.open({
    configPath: run.configPath, config: run.config,
    ...extra,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'epoch/end') numTensorsAtEpochEnd.push(tf.memory().numTensors);
      extra.onEvent?.(e);
    },
  });
  during?.(session, events);
  const result = await session.run();
  session.dispose();
  const losses = events.filter((e): e is Extract<RunEvent, { type: 'batch/end' }> => e.type === 'batch/end').map((e) => e.loss);
  return { session, result, events, losses, numTensorsAtEpochEnd };
}

test('a run writes a complete run folder with maps, activations, layer statistics and a checkpoint', async () => {
  const run = await makeTinyRun({ watch: { layers: [WATCHED] } });
  try {
    const { result, events } = await train(run);
    assert.equal(result.status, 'finished');
    assert.equal(result.epochsDone, 2);
    const dir = result.runDir;
    assert.match(path.basename(dir), /^\d{8}-\d{6}-tiny$/);
    assert.equal(path.dirname(dir), path.join(run.dir, '.segscope', 'runs'));
    const info = JSON.parse(readFileSync(path.join(dir, runPaths.info), 'utf8')) as RunInfo;
    assert.equal(info.status, 'finished');
    assert.equal(info.epochsDone, 2);
    assert.equal(info.backend.name, 'wasm');
    assert.ok(info.model.layers.some((l) => l.name === WATCHED));
    assert.deepEqual(info.watch.layers, [WATCHED]);
    // watch.images not given: the first 4 val images
    const valIds = readFileSync(path.join(run.dir, 'ImageSets/Segmentation/val.txt'), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(info.watch.images.map((w) => w.id), valIds.slice(0, 4));
    for (const w of info.watch.images) {
      assert.ok(existsSync(path.join(dir, w.input)) && existsSync(path.join(dir, w.groundTruth)));
    }
    // events.jsonl holds the same events as the callback, run/start first and run/end last
    const logged = parseEventLines(readFileSync(path.join(dir, runPaths.events), 'utf8'));
    assert.deepEqual(logged.map((e) => e.type), events.map((e) => e.type));
    assert.equal(logged[0].type, 'run/start');
    assert.equal(logged.at(-1)!.type, 'run/end');
    const start = logged[0] as Extract<RunEvent, { type: 'run/start' }>;
    assert.equal(logged.filter((e) => e.type === 'batch/end').length, 2 * start.batchesPerEpoch);

    for (const epoch of [1, 2]) {
      const metrics = JSON.parse(readFileSync(path.join(dir, runPaths.metrics(epoch)), 'utf8')) as EpochMetrics;
      assert.equal(metrics.epoch, epoch);
      assert.ok(metrics.val.miou >= 0 && metrics.val.miou <= 1);
      assert.equal(metrics.confusion.length, 3);
      // every non-input layer has statistics; weighted trainable layers have a gradient norm and an update ratio
      const names = info.model.layers.filter((l) => l.className !== 'InputLayer').map((l) => l.name);
      assert.deepEqual(Object.keys(metrics.layers).sort(), [...names].sort());
      const conv = metrics.layers['encoder/level1/conv1'];
      assert.ok(conv.gradNorm! > 0 && conv.updateRatio! > 0, JSON.stringify(conv));
      assert.equal(metrics.layers['encoder/level1/conv1_relu'].gradNorm, undefined);
      assert.ok(metrics.layers['encoder/level1/conv1_relu'].zeros > 0);
      for (const image of info.watch.images.map((w) => w.id)) {
        for (const file of [runPaths.argmax(epoch, image), runPaths.confidence(epoch, image), runPaths.error(epoch, image)]) {
          assert.deepEqual([...readFileSync(path.join(dir, file)).subarray(1, 4)], [...Buffer.from('PNG')]);
        }
        assert.equal(readFileSync(path.join(dir, runPaths.probabilities(epoch, image))).length, 32 * 32 * 3);
        const header = JSON.parse(readFileSync(path.join(dir, runPaths.activationHeader(epoch, image, WATCHED)), 'utf8')) as ActivationHeader;
        const bytes = readFileSync(path.join(dir, runPaths.activation(epoch, image, WATCHED)));
        assert.equal(bytes.length, header.shape[0] * header.shape[1] * header.shape[2]);
        assert.deepEqual(header.shape.slice(0, 2), [16, 16]);
        assert.ok(metrics.watch[image].pixelAccuracy >= 0);
      }
    }
    assert.ok(existsSync(path.join(dir, 'checkpoint', 'model.json')));
    assert.ok(existsSync(path.join(dir, 'checkpoint', 'weights.bin')));
    assert.ok(existsSync(path.join(dir, 'checkpoint', 'optimizer.bin')));
    // no temp leftovers anywhere
    const all = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? [e.name, ...all(path.join(d, e.name))] : [e.name]);
    assert.deepEqual(all(dir).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    run.cleanup();
  }
});

test('same config and seed give the same losses (wasm, 2 epochs) and no tensors leak across epochs with probes on', async () => {
  const run = await makeTinyRun({ watch: { layers: [WATCHED, 'head/logits'] }, train: { epochs: 3, batchSize: 4, optimizer: { name: 'adam' } } });
  try {
    const before = tf.memory().numTensors;
    const a = await train(run);
    const afterFirst = tf.memory().numTensors;
    const b = await train(run);
    assert.ok(a.losses.length >= 6);
    assert.equal(a.losses.length, b.losses.length);
    a.losses.forEach((loss, i) => assert.ok(Math.abs(loss - b.losses[i]) <= 1e-5, `batch ${i}: ${loss} vs ${b.losses[i]}`));
    // identical tensor count at every epoch end, and nothing left after dispose
    assert.equal(new Set(a.numTensorsAtEpochEnd).size, 1, `numTensors at epoch ends: ${a.numTensorsAtEpochEnd}`);
    assert.equal(new Set(b.numTensorsAtEpochEnd).size, 1, `numTensors at epoch ends: ${b.numTensorsAtEpochEnd}`);
    assert.equal(afterFirst, before, 'the disposed session left tensors behind');
  } finally {
    run.cleanup();
  }
});

test('a different seed gives different losses (the determinism check can fail)', async () => {
  const run = await makeTinyRun({ train: { epochs: 1, batchSize: 4, stepsPerEpoch: 2 } });
  try {
    const a = await train(run);
    run.config.seed = 8;
    const b = await train(run);
    assert.notDeepEqual(a.losses, b.losses);
  } finally {
    run.cleanup();
  }
});

test('stop mid-epoch saves a checkpoint; resume continues the same run folder and reproduces the uninterrupted losses', async () => {
  // 3 epochs of 2 batches, stopped after batch 3: the batches after the resume depend on the restored Adam moments.
  const run = await makeTinyRun({ train: { epochs: 3, batchSize: 4, optimizer: { name: 'adam', learningRate: 0.003 }, schedule: { type: 'poly', power: 0.9 } } });
  try {
    const full = await train(run);
    const perEpoch = (full.events[0] as Extract<RunEvent, { type: 'run/start' }>).batchesPerEpoch;
    const stopAfter = perEpoch + 1; // one batch into epoch 2
    let session: TrainingSession | undefined;
    let batches = 0;
    const first = await train(run, {
      onEvent: (e) => { if (e.type === 'batch/end' && ++batches === stopAfter) session!.stop(); },
    }, (s) => { session = s; });
    assert.equal(first.result.status, 'stopped');
    assert.equal(first.losses.length, stopAfter);
    const info = JSON.parse(readFileSync(path.join(first.result.runDir, runPaths.info), 'utf8')) as RunInfo;
    assert.equal(info.status, 'stopped');
    assert.equal(info.epochsDone, 1);
    assert.deepEqual(readdirSync(path.join(first.result.runDir, 'epochs')), ['0001']);

    const second = await train(run, { resumeRunDir: first.result.runDir });
    assert.equal(second.result.status, 'finished');
    assert.equal(second.result.runDir, first.result.runDir);
    const start = second.events[0] as Extract<RunEvent, { type: 'run/start' }>;
    assert.ok(start.resumedFrom);
    const steps = second.events.filter((e): e is Extract<RunEvent, { type: 'batch/end' }> => e.type === 'batch/end');
    assert.equal(steps[0].epoch, 2);
    assert.equal(steps[0].step, stopAfter + 1);
    const resumed = [...first.losses, ...second.losses];
    assert.equal(resumed.length, full.losses.length);
    resumed.forEach((loss, i) => assert.ok(Math.abs(loss - full.losses[i]) <= 1e-5, `batch ${i}: ${loss} vs ${full.losses[i]}`));
    assert.deepEqual(readdirSync(path.join(first.result.runDir, 'epochs')), ['0001', '0002', '0003']);
    const log = parseEventLines(readFileSync(path.join(first.result.runDir, runPaths.events), 'utf8'));
    assert.equal(log.filter((e) => e.type === 'run/start').length, 2);
  } finally {
    run.cleanup();
  }
});

test('pause, stepBatch and stepEpoch stop at batch boundaries; probe requests are answered while paused', async () => {
  const run = await makeTinyRun({ train: { epochs: 2, batchSize: 4 } }, 20);
  try {
    const paused: { epoch: number; batch: number; step: number; reason: string }[] = [];
    let session!: TrainingSession;
    const events: RunEvent[] = [];
    const actions: (() => void)[] = [];
    session = await TrainingSession.open({
      configPath: run.configPath, config: run.config, pauseOnStart: true,
      onEvent: (e) => events.push(e),
      onPaused: (position, reason) => {
        paused.push({ ...position, reason });
        const next = actions.shift();
        if (next) setImmediate(next);
      },
    });
    let probe: Awaited<ReturnType<TrainingSession['requestProbe']>> | undefined;
    actions.push(
      () => session.stepBatch(),
      () => session.stepBatch(),
      () => { void session.requestProbe(run.config.watch!.images![0], WATCHED).then((p) => { probe = p; session.stepEpoch(); }); },
      () => session.stop(),
    );
    const result = await session.run();
    session.dispose();
    assert.equal(result.status, 'stopped');
    const perEpoch = (events[0] as Extract<RunEvent, { type: 'run/start' }>).batchesPerEpoch;
    assert.deepEqual(paused.map((p) => [p.reason, p.epoch, p.batch, p.step]), [
      ['start', 1, 0, 0], ['step', 1, 1, 1], ['step', 1, 2, 2], ['step', 1, perEpoch, perEpoch],
    ]);
    assert.ok(probe);
    assert.equal(probe!.layer, WATCHED);
    assert.ok(existsSync(path.join(result.runDir, probe!.activation)));
    assert.ok(probe!.stats.std >= 0 && probe!.stats.max >= probe!.stats.min);
    assert.equal(events.filter((e) => e.type === 'epoch/end').length, 1);
  } finally {
    run.cleanup();
  }
});

test('same config and seed give the same losses on the cpu backend too (2 epochs)', async () => {
  const run = await makeTinyRun({
    backend: 'cpu', model: { arch: 'unet', width: 0.125 }, data: { format: 'voc', root: '.', classes: ['background', 'disc', 'square'], inputSize: 16 },
    train: { epochs: 2, batchSize: 2, stepsPerEpoch: 2 }, watch: { images: [], layers: [] },
  }, 8);
  try {
    const a = await train(run);
    const b = await train(run);
    assert.equal(a.losses.length, 4);
    a.losses.forEach((loss, i) => assert.ok(Math.abs(loss - b.losses[i]) <= 1e-5, `batch ${i}: ${loss} vs ${b.losses[i]}`));
    assert.equal((a.events[0] as Extract<RunEvent, { type: 'run/start' }>).backend.name, 'cpu');
  } finally {
    run.cleanup();
  }
});

test('an error in the middle of training marks the run crashed, ends with run/end, and leaves only complete epochs', async () => {
  const { engineParts } = await import('../../../src/engine/session/engineParts');
  const real = engineParts();
  let calls = 0;
  const parts = {
    ...real,
    makeLoss: (...args: Parameters<typeof real.makeLoss>) => {
      const loss = real.makeLoss(...args);
      return (labels: tf.Tensor, output: tf.Tensor) => {
        // Count only training steps (under a gradient tape): health probes and validation also call the loss.
        const inTrainingStep = (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
        if (inTrainingStep && ++calls === 4) throw new Error('boom in batch 4');
        return loss(labels, output);
      };
    },
  };
  const run = await makeTinyRun({ train: { epochs: 3, batchSize: 4 } });
  try {
    const { result, events } = await train(run, { parts });
    assert.equal(result.status, 'crashed');
    assert.match(result.error!, /boom/);
    const end = events.at(-1)!;
    assert.ok(end.type === 'run/end' && end.status === 'crashed' && /boom/.test(end.error ?? ''));
    const info = JSON.parse(readFileSync(path.join(result.runDir, runPaths.info), 'utf8')) as RunInfo;
    assert.equal(info.status, 'crashed');
    assert.deepEqual(readdirSync(path.join(result.runDir, 'epochs')), ['0001']);
  } finally {
    run.cleanup();
  }
});
