// The real trainer's handling of run/start's lastEpochBoundary (TrainerLoop + TrainingSession in-process, tiny model):
// a step due after the run's last epoch (the final one, or where early stopping ends the run) halts there before
// run/end; without the flag, or with nothing due there, the run just ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainerLoop } from '../../../src/trainer/trainerLoop';
import type { HostToTrainer, TrainerToHost } from '../../../src/protocol/trainer';
import { makeTinyRun, type TinyRun } from '../train/tinyRun';

type Paused = Extract<TrainerToHost, { type: 'run/paused' }>;

/** Runs one tiny run through TrainerLoop, answering each run/paused with the next command; returns every message sent. */
async function drive(run: TinyRun, start: Partial<Extract<HostToTrainer, { type: 'run/start' }>>, onPause: ((p: Paused) => HostToTrainer)[])
  : Promise<{ messages: TrainerToHost[]; ok: boolean }> {
  const messages: TrainerToHost[] = [];
  let loop!: TrainerLoop;
  const ended = new Promise<boolean>((resolve) => {
    loop = new TrainerLoop({
      send: (message) => {
        messages.push(message);
        if (message.type === 'run/paused') {
          const answer = onPause.shift();
          assert.ok(answer, `unexpected pause at ${JSON.stringify(message.position)} (${message.reason})`);
          setImmediate(() => loop.handle(answer(message)));
        }
      },
      onRunEnded: resolve,
    });
  });
  loop.handle({ type: 'run/start', configPath: run.configPath, config: run.config, ...start });
  const ok = await ended;
  assert.equal(onPause.length, 0, 'every expected pause happened');
  return { messages, ok };
}

const types = (messages: TrainerToHost[]) => messages.map((m) => (m.type === 'run/event' ? m.event.type : m.type));
const runEnd = (messages: TrainerToHost[]) => {
  const end = messages.map((m) => (m.type === 'run/event' ? m.event : undefined)).find((e) => e?.type === 'run/end');
  assert.ok(end && end.type === 'run/end', 'a run/end event');
  return end;
};

test('lastEpochBoundary: a step due after the last epoch halts before run/end; resume or stop then finish the run', async () => {
  const run = await makeTinyRun({
    backend: 'cpu', model: { arch: 'unet', width: 0.125 }, data: { format: 'voc', root: '.', classes: ['background', 'disc', 'square'], inputSize: 16 },
    train: { epochs: 1, batchSize: 2, stepsPerEpoch: 2 }, watch: { images: [], layers: [] },
  }, 8);
  try {
    const stepEpoch = (): HostToTrainer => ({ type: 'run/stepEpoch' });
    const atLastEpoch = (command: HostToTrainer) => (p: Paused): HostToTrainer => {
      assert.equal(p.reason, 'step');
      assert.deepEqual(p.position, { epoch: 1, batch: 2, step: 2 });
      return command;
    };

    const resumed = await drive(run, { pauseOnStart: true, lastEpochBoundary: true }, [stepEpoch, atLastEpoch({ type: 'run/resume' })]);
    assert.equal(resumed.ok, true);
    const seen = types(resumed.messages);
    const lastPause = seen.lastIndexOf('run/paused');
    assert.ok(seen.lastIndexOf('epoch/end') < lastPause && lastPause < seen.indexOf('run/end'), seen.join(' '));
    assert.equal(runEnd(resumed.messages).status, 'finished');
    assert.equal(runEnd(resumed.messages).epochsDone, 1);

    // Stop while halted there: every epoch is done, so the run still ends as finished.
    const stopped = await drive(run, { pauseOnStart: true, lastEpochBoundary: true }, [stepEpoch, atLastEpoch({ type: 'run/stop' })]);
    assert.equal(runEnd(stopped.messages).status, 'finished');
    assert.equal(runEnd(stopped.messages).epochsDone, 1);

    // Early stopping ends the run after epoch 1 of 3 (patience 0): that epoch is the last one, so it has the boundary too.
    const early = { ...run, config: { ...run.config, train: { ...run.config.train, epochs: 3, earlyStopping: { metric: 'val.loss' as const, patience: 0 } } } };
    const stoppedEarly = await drive(early, { pauseOnStart: true, lastEpochBoundary: true }, [stepEpoch, atLastEpoch({ type: 'run/resume' })]);
    assert.equal(runEnd(stoppedEarly.messages).status, 'early-stopped');
    assert.equal(runEnd(stoppedEarly.messages).epochsDone, 1);

    // Without the flag the same step runs into the end of the run (the host's and the CLI's runs are unchanged).
    const plain = await drive(run, { pauseOnStart: true }, [stepEpoch]);
    assert.equal(types(plain.messages).filter((t) => t === 'run/paused').length, 1);
    assert.equal(runEnd(plain.messages).status, 'finished');

    // With the flag but nothing due there, the trainer does not halt.
    const free = await drive(run, { lastEpochBoundary: true }, []);
    assert.equal(types(free.messages).filter((t) => t === 'run/paused').length, 0);
    assert.equal(runEnd(free.messages).status, 'finished');
  } finally {
    run.cleanup();
  }
});
