// Drives the real trainer child process (src/trainer/main.ts through tsx) over IPC with TrainerConnection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TrainerConnection } from '../../../src/trainer/connection';
import type { TrainerToHost } from '../../../src/protocol/trainer';
import type { RunEvent } from '../../../src/protocol/runEvents';
import { runPaths, type RunInfo } from '../../../src/protocol/runFolder';
import { makeTinyRun } from '../train/tinyRun';

const TRAINER = path.resolve(__dirname, '../../../src/trainer/main.ts');
const LAYER = 'encoder/level2/conv1_relu';

function startTrainer(): Promise<TrainerConnection> {
  return TrainerConnection.start({ modulePath: TRAINER, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
}

const isType = <T extends TrainerToHost['type']>(type: T) => (m: TrainerToHost): m is Extract<TrainerToHost, { type: T }> => m.type === type;

test('trainer process: start → epoch/end → pause → stepBatch advances one batch → probe → stop leaves a complete run folder', async () => {
  const run = await makeTinyRun({ train: { epochs: 5, batchSize: 4 } }, 20);
  const trainer = await startTrainer();
  try {
    assert.ok(trainer.pid);
    const events: RunEvent[] = [];
    trainer.onEvent((e) => events.push(e));
    const firstEpoch = trainer.waitFor((m) => m.type === 'run/event' && m.event.type === 'epoch/end', 120_000);
    trainer.send({ type: 'run/start', configPath: run.configPath, config: run.config });
    await firstEpoch;

    const pausedP = trainer.waitFor(isType('run/paused'), 60_000);
    trainer.send({ type: 'run/pause' });
    const paused = await pausedP;
    assert.equal(paused.reason, 'request');
    const batchesBefore = events.filter((e) => e.type === 'batch/end').length;
    assert.equal(paused.position.step, batchesBefore);

    const steppedP = trainer.waitFor(isType('run/paused'), 60_000);
    trainer.send({ type: 'run/stepBatch' });
    const stepped = await steppedP;
    assert.equal(stepped.reason, 'step');
    assert.equal(stepped.position.step, paused.position.step + 1);
    assert.equal(events.filter((e) => e.type === 'batch/end').length, batchesBefore + 1);

    const probe = await trainer.requestProbe(run.config.watch!.images![0], LAYER);
    assert.equal(probe.layer, LAYER);
    await assert.rejects(trainer.requestProbe('no-such-image', LAYER), /no image/);

    const endP = trainer.waitFor((m) => m.type === 'run/event' && m.event.type === 'run/end', 60_000);
    trainer.send({ type: 'run/stop' });
    const end = (await endP) as Extract<TrainerToHost, { type: 'run/event' }>;
    assert.equal(end.event.type === 'run/end' && end.event.status, 'stopped');
    const exit = await trainer.whenExited();
    assert.equal(exit.code, 0);

    const runDir = (events[0] as Extract<RunEvent, { type: 'run/start' }>).runDir;
    const info = JSON.parse(readFileSync(path.join(runDir, runPaths.info), 'utf8')) as RunInfo;
    assert.equal(info.status, 'stopped');
    assert.ok(existsSync(path.join(runDir, 'checkpoint', 'state.json')));
    assert.ok(existsSync(path.join(runDir, probe.activation)));
    for (const name of readdirSync(path.join(runDir, 'epochs'))) {
      assert.match(name, /^\d{4}$/);
      assert.ok(existsSync(path.join(runDir, runPaths.metrics(Number(name)))));
    }
  } finally {
    await trainer.dispose();
    run.cleanup();
  }
});

test('trainer process: a bad config sends trainer/error and exits non-zero', async () => {
  const trainer = await startTrainer();
  try {
    const errorP = trainer.waitFor(isType('trainer/error'), 60_000);
    trainer.send({ type: 'run/start', configPath: '/nonexistent/segscope.json', config: { backend: 'cpu', data: { format: 'voc', root: 'nowhere' } } });
    const error = await errorP;
    assert.match(error.message, /nowhere|split|ENOENT|no such/i);
    const exit = await trainer.whenExited();
    assert.notEqual(exit.code, 0);
  } finally {
    await trainer.dispose();
  }
});
