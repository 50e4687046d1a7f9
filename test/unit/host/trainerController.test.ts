// The trainer controller against the fake trainer child process: a whole run, pause/resume, stop, and an out-of-memory crash with its stderr tail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TrainerController, type StartRequest, type TrainingState } from '../../../src/host/trainerController';
import { forkLauncher } from '../../../src/trainer/launcher';
import type { TrainerExit } from '../../../src/host/trainerExit';
import type { RunEvent } from '../../../src/protocol/runEvents';
import { runPaths } from '../../../src/protocol/runFolder';

const root = path.resolve(__dirname, '../../..');
const fakeTrainer = path.join(root, 'test/fixtures/fakeTrainer.ts');
const work = mkdtempSync(path.join(tmpdir(), 'segscope-controller-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function request(name: string): StartRequest {
  return {
    configPath: path.join(work, name, 'segscope.json'),
    config: { name, data: { format: 'voc', root: '.', classes: ['background', 'disc', 'square'], inputSize: 32 }, train: { epochs: 2 }, watch: { layers: ['stem/relu'] } },
  };
}

function run(env: Record<string, string>, req: StartRequest, during?: (c: TrainerController, e: RunEvent) => void) {
  const controller = new TrainerController(forkLauncher(fakeTrainer, { cwd: work, env: { SEGSCOPE_FAKE_BATCH_MS: '5', SEGSCOPE_FAKE_BATCHES: '3', ...env } }));
  const events: RunEvent[] = [];
  const states: TrainingState[] = [];
  const done = new Promise<{ exit: TrainerExit; runDir: string | undefined }>((resolve) => controller.listen({
    onEvent: (e) => { events.push(e); during?.(controller, e); },
    onState: (s) => states.push(s),
    onExit: (exit, runDir) => resolve({ exit, runDir }),
  }));
  controller.start(req);
  assert.throws(() => controller.start(req), /already in progress/);
  return { controller, events, states, done };
}

test('a whole run: events in order, run folder complete, clean finish', { timeout: 60_000 }, async () => {
  const { events, states, done } = run({}, request('whole'));
  const { exit, runDir } = await done;
  assert.equal(exit.kind, 'finished');
  assert.ok(runDir && existsSync(path.join(runDir, runPaths.metrics(2))));
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'run/start');
  assert.equal(types.at(-1), 'run/end');
  assert.equal(types.filter((t) => t === 'epoch/end').length, 2);
  assert.equal(types.filter((t) => t === 'batch/end').length, 6);
  assert.deepEqual([states[0], states.at(-1)], ['starting', 'idle']);
  assert.ok(states.includes('running'));
});

// The pause and stop tests race a host→trainer message against the fake's batches: 10 batches per epoch leave the message
// hundreds of milliseconds to arrive on a loaded machine (3 batches of 20 ms left it 20–80 ms), and cost nothing when it does.
test('pause and resume go through the paused state', { timeout: 60_000 }, async () => {
  let paused = false;
  const { states, done } = run({ SEGSCOPE_FAKE_BATCH_MS: '20', SEGSCOPE_FAKE_BATCHES: '10' }, request('pause'), (c, e) => {
    if (e.type === 'batch/end' && e.step === 1 && !paused) { paused = true; c.pause(); setTimeout(() => c.resume(), 150); }
  });
  const { exit } = await done;
  assert.equal(exit.kind, 'finished');
  const i = states.indexOf('paused');
  assert.ok(i > 0, `states: ${states.join(' → ')}`);
  assert.equal(states[i + 1], 'running');
});

test('stop ends the run early as stopped', { timeout: 60_000 }, async () => {
  const { events, done } = run({ SEGSCOPE_FAKE_BATCH_MS: '20', SEGSCOPE_FAKE_BATCHES: '10' }, request('stop'), (c, e) => { if (e.type === 'batch/end' && e.step === 2) c.stop(); });
  const { exit } = await done;
  assert.equal(exit.kind, 'stopped');
  assert.equal(events.filter((e) => e.type === 'epoch/end').length, 0);
});

test('an out-of-memory crash is reported with the stderr tail; the run folder stays readable', { timeout: 60_000 }, async () => {
  const { done } = run({ SEGSCOPE_FAKE_CRASH_EPOCH: '1' }, request('oom'));
  const { exit, runDir } = await done;
  assert.equal(exit.kind, 'out-of-memory');
  assert.equal(exit.code, 134);
  assert.ok(exit.stderrTail.some((l) => /heap out of memory/.test(l)), exit.stderrTail.join('\n'));
  assert.ok(runDir && existsSync(path.join(runDir, runPaths.metrics(1))));
});
