// RunControl: pause at boundaries, step one batch / one epoch, stop, and queued work while paused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunControl } from '../../../src/engine/session/runControl';

/** A fake loop: `epochs` × `batches`, calling the control like TrainingSession does. */
async function fakeLoop(control: RunControl, epochs: number, batches: number, log: string[]): Promise<string> {
  let step = 0;
  for (let e = 1; e <= epochs; e++) {
    for (let b = 0; b < batches; b++) {
      if ((await control.boundary(() => ({ epoch: e, batch: b, step }))) === 'stop') return 'stopped';
      step++;
      log.push(`batch ${e}.${b + 1}`);
      control.batchDone();
      await new Promise((r) => setImmediate(r));
    }
    log.push(`epoch ${e}`);
    control.epochDone();
    if (e < epochs && (await control.boundary(() => ({ epoch: e, batch: batches, step }))) === 'stop') return 'stopped';
  }
  return 'finished';
}

test('pause on start, step a batch, step an epoch, run a queued task while paused, then stop', async () => {
  const log: string[] = [];
  const actions: ((c: RunControl) => void)[] = [
    (c) => c.stepBatch(),
    (c) => { void c.enqueue(() => log.push('task')).then(() => c.stepEpoch()); },
    (c) => c.resume(),
  ];
  const control: RunControl = new RunControl({
    paused: (p, reason) => { log.push(`paused ${reason} ${p.epoch}.${p.batch}@${p.step}`); const a = actions.shift(); if (a) setImmediate(() => a(control)); },
    resumed: (p) => {
      log.push(`resumed ${p.step}`);
      // A pause request that arrives while a step is under way: the step's own pause answers it (no second pause).
      // Made here rather than from a timer, whose firing point among the loop's turns would depend on machine speed.
      if (p.step === 0) control.pause();
    },
  }, true);
  const result = await fakeLoop(control, 3, 3, log);
  assert.equal(result, 'finished');
  assert.deepEqual(log.slice(0, 12), [
    'paused start 1.0@0', 'resumed 0', 'batch 1.1', 'paused step 1.1@1', 'task', 'resumed 1', 'batch 1.2', 'batch 1.3', 'epoch 1',
    'paused step 1.3@3', 'resumed 3', 'batch 2.1',
  ]);
});

test('stop while paused ends the loop at once; stop while running ends it at the next boundary', async () => {
  const log: string[] = [];
  const control: RunControl = new RunControl({ paused: () => setImmediate(() => control.stop()), resumed: () => log.push('resumed') }, true);
  assert.equal(await fakeLoop(control, 2, 2, log), 'stopped');
  assert.deepEqual(log, []);
  const running = new RunControl({ paused: () => assert.fail('no pause expected'), resumed: () => undefined });
  const log2: string[] = [];
  setImmediate(() => running.stop());
  assert.equal(await fakeLoop(running, 5, 5, log2), 'stopped');
  assert.ok(log2.length >= 1 && log2.length < 5, log2.join(','));
});
