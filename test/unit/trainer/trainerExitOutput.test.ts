// The exit verdict of a dying trainer includes the last lines it wrote to stderr, even when the host was busy as it died,
// when it died before `trainer/ready`, and without waiting forever when a grandchild keeps its stderr open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TrainerController, type StartRequest } from '../../../src/host/trainerController';
import type { TrainerExit } from '../../../src/host/trainerExit';
import { STDIO_GRACE_MS } from '../../../src/trainer/connection';
import { forkLauncher } from '../../../src/trainer/launcher';

const dyingTrainer = path.resolve(__dirname, '../../fixtures/dyingTrainer.mjs');
const LAST_WORDS = 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory (dying trainer 7f3a)';
const work = mkdtempSync(path.join(tmpdir(), 'segscope-dying-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const request: StartRequest = { configPath: path.join(work, 'segscope.json'), config: { data: { format: 'voc', root: '.' } } };

/** Starts the dying trainer under a controller; resolves with the verdict and how long after the start it came. */
function startDying(env: Record<string, string>): { controller: TrainerController; verdict: Promise<{ exit: TrainerExit; afterMs: number }> } {
  const controller = new TrainerController(forkLauncher(dyingTrainer, { cwd: work, env: { SEGSCOPE_DYING_LAST_WORDS: LAST_WORDS, ...env } }));
  const started = Date.now();
  const verdict = new Promise<{ exit: TrainerExit; afterMs: number }>((resolve) => controller.listen({ onExit: (exit) => resolve({ exit, afterMs: Date.now() - started }) }));
  controller.start(request);
  return { controller, verdict };
}

/**
 * Blocks this thread (without spinning) until `file` exists plus `extraMs`, as a busy extension host would be. Gives up
 * after `limitMs` (where a pipe holds less than the dump, the trainer cannot finish writing while nobody reads).
 */
function blockUntil(file: string, extraMs: number, limitMs = 10_000): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + limitMs;
  while (!existsSync(file) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 20);
  Atomics.wait(cell, 0, 0, extraMs);
}

function assertSawLastWords(exit: TrainerExit): void {
  assert.equal(exit.code, 134);
  assert.ok(exit.stderrTail.includes(LAST_WORDS), `stderr tail misses the last line:\n${exit.stderrTail.slice(-4).join('\n')}`);
  assert.equal(exit.kind, 'out-of-memory', exit.summary);
}

test('a trainer that dies right after ready while the host is busy: the verdict has its last stderr line', { timeout: 60_000 }, async () => {
  const marker = path.join(work, 'after-ready.exiting');
  const { verdict } = startDying({ SEGSCOPE_DYING_WHEN: 'after-ready', SEGSCOPE_DYING_KB: '120', SEGSCOPE_DYING_MARKER: marker });
  // The dump, `trainer/ready` and the exit all wait for the host at once, as when the extension host is busy rendering:
  // the host learns of the exit with part of the dump still unread (deciding on 'exit', the old code missed the last line).
  blockUntil(marker, 300);
  assertSawLastWords((await verdict).exit);
});

test('a trainer that dies before it is ready: its stderr still reaches the verdict', { timeout: 60_000 }, async () => {
  const { verdict } = startDying({ SEGSCOPE_DYING_WHEN: 'before-ready', SEGSCOPE_DYING_KB: '120' });
  assertSawLastWords((await verdict).exit);
});

test('a grandchild that keeps stderr open does not hold back the verdict', { timeout: 60_000 }, async () => {
  const pidFile = path.join(work, 'grandchild.pid');
  const { verdict } = startDying({ SEGSCOPE_DYING_WHEN: 'after-ready', SEGSCOPE_DYING_KB: '1', SEGSCOPE_DYING_GRANDCHILD: pidFile });
  try {
    const { exit, afterMs } = await verdict;
    assertSawLastWords(exit);
    // The grandchild sleeps for 60 s; the verdict comes after the stdio grace period, not when the grandchild ends.
    assert.ok(afterMs < STDIO_GRACE_MS + 10_000, `verdict after ${afterMs} ms`);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.doesNotThrow(() => process.kill(grandchild, 0), 'the grandchild should still hold stderr when the verdict comes');
  } finally {
    if (existsSync(pidFile)) try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* already gone */ }
  }
});
