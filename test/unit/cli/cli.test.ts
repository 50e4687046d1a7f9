// The segscope CLI: argument parsing, progress lines, one-line errors with exit codes, `train --json` and `bench --json`
// run as real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, UsageError } from '../../../src/cli/args';
import { formatDuration, ProgressDisplay } from '../../../src/cli/progress';
import type { RunEvent } from '../../../src/protocol/runEvents';
import { makeTinyRun } from '../train/tinyRun';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');

function cli(args: string[], timeout = 300_000) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout });
}

test('parseArgs: flags, values, --name=value, integers, and errors', () => {
  const spec = { epochs: { kind: 'int' as const }, json: { kind: 'flag' as const }, backend: { kind: 'string' as const } };
  assert.deepEqual(parseArgs(['a.json', '--epochs', '3', '--json', '--backend=wasm'], spec),
    { positional: ['a.json'], options: { epochs: 3, json: true, backend: 'wasm' } });
  assert.throws(() => parseArgs(['--nope'], spec), UsageError);
  assert.throws(() => parseArgs(['--epochs', 'x'], spec), /whole number/);
  assert.throws(() => parseArgs(['--epochs'], spec), /needs a value/);
  assert.throws(() => parseArgs(['--json=1'], spec), /takes no value/);
});

test('progress: plain lines off a TTY, an in-place bar on a TTY, durations', () => {
  assert.equal(formatDuration(65), '01:05');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '--:--');
  const backend = { name: 'wasm', reason: 'forced', skipped: [] };
  const batch = (b: number): RunEvent => ({ type: 'batch/end', time: '', epoch: 1, batch: b, step: b, loss: 0.5, imagesPerSec: 10, learningRate: 0.1 });
  let clock = 0;
  const plain: string[] = [];
  const p = new ProgressDisplay({ write: (t) => plain.push(t), isTTY: false }, () => clock);
  p.handle({ type: 'run/start', time: '', runDir: '/r', backend, epochs: 2, batchesPerEpoch: 10 });
  for (let b = 1; b <= 10; b++) { clock += 1000; p.handle(batch(b)); }
  const text = plain.join('');
  assert.match(text, /backend wasm \(forced\)/);
  // non-TTY: one line per 10 batches; ETA from 1 batch/s over the 10 remaining batches
  assert.match(text, /epoch 1\/2 batch 10\/10 loss 0\.5000 10\.0 img\/s ETA 00:10/);
  assert.ok(!text.includes('\r'));
  const tty: string[] = [];
  const t = new ProgressDisplay({ write: (s) => tty.push(s), isTTY: true, columns: 100 }, () => clock);
  t.handle({ type: 'run/start', time: '', runDir: '/r', backend, epochs: 2, batchesPerEpoch: 10 });
  t.handle(batch(5));
  assert.match(tty.at(-1)!, /^\r\x1b\[2K[█░]+ epoch 1\/2 batch 5\/10/);
});

test('segscope: unknown command exits 2; a missing config exits 1 with one line naming the file', () => {
  const unknown = cli(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const missing = cli(['train', '/no/such/dir/segscope.json']);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /\/no\/such\/dir\/segscope\.json/);
  const help = cli(['help']);
  assert.equal(help.status, 0);
  for (const c of ['train', 'bench', 'make-demo-data', 'audit']) assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
});

test('segscope train --json prints the run events as JSON lines and ends with run/end {runDir, val.miou}', async () => {
  const run = await makeTinyRun({ train: { epochs: 3, batchSize: 4 } });
  try {
    const configPath = path.join(run.dir, 'tiny.json');
    writeFileSync(configPath, JSON.stringify(run.config));
    const r = cli(['train', configPath, '--json', '--epochs', '1']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    assert.equal(lines[0].type, 'run/start');
    const end = lines.at(-1)!;
    assert.equal(end.type, 'run/end');
    if (end.type !== 'run/end') return;
    assert.equal(end.status, 'finished');
    assert.equal(end.epochsDone, 1); // --epochs overrides the config's 3
    assert.ok(typeof end.val?.miou === 'number');
    assert.ok(existsSync(path.join(end.runDir, 'epochs', '0001', 'metrics.json')));
    assert.equal(lines.filter((e) => e.type === 'epoch/end').length, 1);

    // --resume continues the same run folder: epoch 2 only, numbering kept
    const resumed = cli(['train', configPath, '--json', '--epochs', '2', '--resume', end.runDir]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const more = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const start = more[0];
    assert.ok(start.type === 'run/start' && start.runDir === end.runDir && start.resumedFrom, JSON.stringify(start));
    assert.deepEqual(more.filter((e) => e.type === 'epoch/end').map((e) => e.type === 'epoch/end' && e.epoch), [2]);
  } finally {
    run.cleanup();
  }
});

test('segscope bench --json prints one line with PyTorch\'s parameter count (1,337,365) and positive speeds', () => {
  const r = cli(['bench', '--size', '32', '--batch', '2', '--steps', '1', '--warmup', '0', '--backend', 'wasm', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const result = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(result), ['backend', 'size', 'batch', 'params', 'trainImagesPerSec', 'inferImagesPerSec', 'stepMsMedian']);
  assert.equal(result.params, 1_337_365);
  assert.equal(result.size, 32);
  assert.equal(result.batch, 2);
  assert.match(result.backend, /^wasm/);
  assert.ok(result.trainImagesPerSec > 0 && result.inferImagesPerSec > 0 && result.stepMsMedian > 0);
});

test('segscope train: SIGTERM stops at a batch boundary with a checkpoint, status "stopped", only complete epoch folders', async () => {
  const { spawn } = await import('node:child_process');
  const { readFileSync, readdirSync } = await import('node:fs');
  const run = await makeTinyRun({ train: { epochs: 50, batchSize: 4 } });
  try {
    const configPath = path.join(run.dir, 'tiny.json');
    writeFileSync(configPath, JSON.stringify(run.config));
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'train', configPath, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!signalled && out.includes('"type":"epoch/end"')) { signalled = true; child.kill('SIGTERM'); }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const end = events.at(-1)!;
    assert.ok(end.type === 'run/end' && end.status === 'stopped', JSON.stringify(end));
    const runDir = (events[0] as Extract<RunEvent, { type: 'run/start' }>).runDir;
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')).status, 'stopped');
    assert.ok(existsSync(path.join(runDir, 'checkpoint', 'state.json')));
    const epochs = readdirSync(path.join(runDir, 'epochs'));
    assert.ok(epochs.length >= 1 && epochs.length < 50);
    for (const e of epochs) {
      assert.match(e, /^\d{4}$/);
      assert.ok(existsSync(path.join(runDir, 'epochs', e, 'metrics.json')));
    }
  } finally {
    run.cleanup();
  }
});
