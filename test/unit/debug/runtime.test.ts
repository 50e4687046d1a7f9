// The runtime's decisions, driven by a scripted in-process trainer: which command it sends at each halt, and when it stops.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TrainingRuntime, type RunEnd, type RuntimeListener, type StopInfo } from '../../../src/debug/runtime';
import type { TrainerChannelEvents } from '../../../src/debug/trainerChannel';
import type { HostToTrainer, TrainerPosition } from '../../../src/protocol/trainer';
import type { RunEvent } from '../../../src/protocol/runEvents';
import type { EpochMetrics } from '../../../src/protocol/runFolder';

const time = '2026-01-01T00:00:00Z';

class ScriptedTrainer {
  sent: HostToTrainer['type'][] = [];
  start: Extract<HostToTrainer, { type: 'run/start' }> | undefined;
  events!: TrainerChannelEvents;
  starter = (events: TrainerChannelEvents) => {
    this.events = events;
    queueMicrotask(() => events.message({ type: 'trainer/ready', pid: 1 }));
    return { send: (m: HostToTrainer) => { this.sent.push(m.type); if (m.type === 'run/start') this.start = m; }, kill: () => events.exit(null, 'SIGTERM') };
  };
  event(event: RunEvent): void { this.events.message({ type: 'run/event', event }); }
  halt(position: TrainerPosition, reason: 'request' | 'step' | 'start' = 'step'): void {
    this.events.message({ type: 'run/paused', position, reason });
  }
  batch(epoch: number, batch: number, step: number, loss = 1): void {
    this.event({ type: 'batch/end', time, epoch, batch, step, loss, imagesPerSec: 1, learningRate: 0.01 });
  }
  epochEnd(epoch: number, miou: number): void {
    const split = { loss: 1, miou, pixelAccuracy: 0.5, iou: [miou, miou] };
    const metrics: EpochMetrics = { epoch, train: split, val: split, confusion: [], learningRate: 0.01, durationMs: 1, imagesPerSec: 1, layers: {}, watch: {} };
    this.event({ type: 'epoch/end', time, epoch, metrics, etaSec: 0 });
  }
  get last(): string | undefined { return this.sent.at(-1); }
}

describe('training runtime decisions', () => {
  let dir: string;
  let trainer: ScriptedTrainer;
  let stops: StopInfo[];
  let ends: RunEnd[];
  let changed: { id: number; verified: boolean }[];
  let runtime: TrainingRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'segscope-runtime-'));
    const config = path.join(dir, 'segscope.json');
    writeFileSync(config, JSON.stringify({ name: 'r', data: { format: 'folders', root: '.', classes: ['bg', 'cat'] }, train: { epochs: 4 } }));
    trainer = new ScriptedTrainer();
    stops = [];
    ends = [];
    changed = [];
    const listener: RuntimeListener = {
      stopped: (s) => stops.push(s), output: () => {}, ended: (e) => ends.push(e), breakpointChanged: (b) => changed.push(b), timeline: () => {},
    };
    runtime = new TrainingRuntime(trainer.starter, listener);
    runtime.loadConfig({ configPath: config });
    runtime.setFindingFilters([]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function started(): Promise<void> {
    runtime.start();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(trainer.last, 'run/start');
    trainer.event({ type: 'run/start', time, runDir: dir, backend: { name: 'x', reason: '', skipped: [] }, epochs: 4, batchesPerEpoch: 2 });
  }

  it('lets the trainer run freely when nothing can stop it, and pauses on request', async () => {
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    assert.equal(trainer.last, 'run/resume');
    runtime.pause();
    assert.equal(trainer.last, 'run/pause');
    trainer.batch(1, 1, 1);
    trainer.halt({ epoch: 1, batch: 1, step: 1 }, 'request');
    assert.equal(stops.length, 1);
    assert.equal(stops[0].reason, 'pause');
    assert.deepEqual(stops[0].position, { epoch: 1, batch: 1, step: 1, atEpochEnd: false });
  });

  it('steps epoch by epoch for epoch breakpoints and stops only where the condition holds', async () => {
    runtime.setFunctionBreakpoints([{ name: 'every epoch', condition: 'miou > 0.5' }]);
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    assert.equal(trainer.last, 'run/stepEpoch');
    trainer.batch(1, 1, 1); trainer.batch(1, 2, 2); trainer.epochEnd(1, 0.3);
    trainer.halt({ epoch: 1, batch: 2, step: 2 });
    assert.equal(stops.length, 0, 'miou 0.3 does not stop');
    assert.equal(trainer.last, 'run/stepEpoch');
    trainer.batch(2, 1, 3); trainer.batch(2, 2, 4); trainer.epochEnd(2, 0.6);
    trainer.halt({ epoch: 2, batch: 2, step: 4 });
    assert.equal(stops.length, 1);
    assert.equal(stops[0].reason, 'breakpoint');
    assert.equal(runtime.evaluate('miou'), 0.6);
  });

  it('steps batch by batch for batch breakpoints, and finishes an epoch whose last batch is done before stepping on', async () => {
    runtime.setFunctionBreakpoints([{ name: 'batch 2', hitCondition: '% 2' }]);
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    assert.equal(trainer.last, 'run/stepBatch');
    trainer.batch(1, 1, 1);
    trainer.halt({ epoch: 1, batch: 1, step: 1 });
    assert.equal(trainer.last, 'run/stepBatch');
    trainer.batch(1, 2, 2);
    // A trainer that halts between the last batch and validation: the runtime asks it to finish the epoch.
    trainer.halt({ epoch: 1, batch: 2, step: 2 });
    assert.equal(stops.length, 0, 'first hit of batch 2 does not pass "% 2"');
    assert.equal(trainer.last, 'run/stepEpoch');
    trainer.epochEnd(1, 0.2);
    trainer.halt({ epoch: 1, batch: 2, step: 2 });
    assert.equal(trainer.last, 'run/stepBatch');
    trainer.batch(2, 1, 3);
    trainer.halt({ epoch: 2, batch: 1, step: 3 });
    trainer.batch(2, 2, 4);
    trainer.halt({ epoch: 2, batch: 2, step: 4 });
    assert.equal(stops.length, 1);
    assert.equal(stops[0].position.epoch, 2);
  });

  it('treats a condition on metrics that do not exist yet as false, not as an error', async () => {
    const states = runtime.setFunctionBreakpoints([{ name: 'batch 1', condition: 'miou < 0.5' }]);
    assert.equal(states[0].verified, true);
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    trainer.batch(1, 1, 1);
    trainer.halt({ epoch: 1, batch: 1, step: 1 });
    assert.equal(stops.length, 0, 'no epoch has finished: miou has no value, the breakpoint does not fire');
    trainer.batch(1, 2, 2); trainer.epochEnd(1, 0.3);
    trainer.halt({ epoch: 1, batch: 2, step: 2 });
    trainer.batch(2, 1, 3);
    trainer.halt({ epoch: 2, batch: 1, step: 3 });
    assert.equal(stops.length, 1);
    assert.deepEqual(stops[0].breakpointIds, [states[0].id]);
    assert.deepEqual(changed, []);
  });

  it('disables a breakpoint whose condition fails at run time, with the reason', async () => {
    const states = runtime.setFunctionBreakpoints([{ name: 'every epoch', condition: 'layers["nope"].mean > 0' }]);
    assert.equal(states[0].verified, true, 'layer names are not known before the run');
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    trainer.batch(1, 1, 1); trainer.batch(1, 2, 2); trainer.epochEnd(1, 0.3);
    trainer.halt({ epoch: 1, batch: 2, step: 2 });
    assert.equal(stops.length, 0);
    assert.equal(changed.length, 1);
    assert.equal(changed[0].verified, false);
    assert.match((changed[0] as { message?: string }).message ?? '', /layers has no "nope"/);
    assert.equal(trainer.last, 'run/resume', 'nothing left that could stop the run');
  });

  it('makes a freely running trainer halt when a breakpoint is added', async () => {
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    assert.equal(trainer.last, 'run/resume');
    runtime.setFunctionBreakpoints([{ name: 'epoch 3' }]);
    assert.equal(trainer.last, 'run/pause');
    trainer.halt({ epoch: 1, batch: 1, step: 1 }, 'request');
    assert.equal(stops.length, 0);
    assert.equal(trainer.last, 'run/stepEpoch');
  });

  it('stops on an enabled finding filter and ignores disabled ones', async () => {
    runtime.setFindingFilters(['collapse']);
    await started();
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    trainer.batch(1, 1, 1);
    trainer.event({ type: 'finding', time, finding: { id: 'num/nan', severity: 'error', cause: 'NaN.', fix: 'Lower lr.', evidence: {} } });
    trainer.halt({ epoch: 1, batch: 1, step: 1 });
    assert.equal(stops.length, 0);
    trainer.batch(1, 2, 2);
    trainer.event({ type: 'finding', time, finding: { id: 'pred/collapse', severity: 'error', cause: 'All background.', fix: 'Weights.', evidence: {} } });
    trainer.epochEnd(1, 0.1);
    trainer.halt({ epoch: 1, batch: 2, step: 2 });
    assert.equal(stops.length, 1);
    assert.equal(stops[0].reason, 'exception');
    assert.equal(stops[0].finding?.id, 'pred/collapse');
    assert.equal(runtime.evaluate('finding.id'), 'pred/collapse');
  });

  it('asks for a boundary after the last epoch, stops there on a last-epoch breakpoint, and a step then lets the run end', async () => {
    runtime.setFunctionBreakpoints([{ name: 'epoch 4' }]);
    await started();
    assert.equal(trainer.start?.lastEpochBoundary, true);
    trainer.halt({ epoch: 1, batch: 0, step: 0 }, 'start');
    let step = 0;
    for (let epoch = 1; epoch <= 4; epoch++) {
      assert.equal(trainer.last, 'run/stepEpoch');
      trainer.batch(epoch, 1, ++step); trainer.batch(epoch, 2, ++step); trainer.epochEnd(epoch, 0.1 * epoch);
      trainer.halt({ epoch, batch: 2, step });
      assert.equal(stops.length, epoch === 4 ? 1 : 0, `stops after epoch ${epoch}`);
    }
    assert.equal(stops[0].reason, 'breakpoint');
    assert.deepEqual(stops[0].position, { epoch: 4, batch: 2, step: 8, atEpochEnd: true });
    assert.equal(runtime.evaluate('miou'), 0.1 * 4);
    runtime.stepBatch();
    assert.equal(trainer.last, 'run/stepBatch');
    assert.equal(runtime.isStopped, false);
    trainer.event({ type: 'run/end', time, runDir: dir, status: 'finished', epochsDone: 4 });
    assert.deepEqual(ends.map((e) => e.status), ['finished']);
    assert.equal(stops.length, 1);
  });
});
