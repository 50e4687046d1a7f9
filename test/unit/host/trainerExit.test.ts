// Trainer exits are classified from the exit code, signal, last stderr lines and whether the run ended cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyExit, StderrTail } from '../../../src/host/trainerExit';

test('the stderr tail keeps the last lines across chunk boundaries', () => {
  const tail = new StderrTail(3);
  tail.push('one\ntw');
  tail.push('o\nthree\nfour\nfi');
  assert.deepEqual(tail.last(), ['three', 'four', 'fi']);
  assert.deepEqual(tail.last(2), ['four', 'fi']);
});

const table: [string, Parameters<typeof classifyExit>, string][] = [
  ['clean finish', [0, null, [], 'finished'], 'finished'],
  ['early stop counts as finished', [0, null, [], 'early-stopped'], 'finished'],
  ['user stop', [0, null, [], 'stopped'], 'stopped'],
  ['V8 heap exhaustion', [134, null, ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory']], 'out-of-memory'],
  ['TF resource exhaustion', [1, null, [], undefined, 'ResourceExhaustedError: OOM when allocating tensor'], 'out-of-memory'],
  ['kernel OOM killer', [null, 'SIGKILL', ['epoch 3']], 'killed'],
  ['exit 137', [137, null, []], 'killed'],
  ['terminated', [null, 'SIGTERM', []], 'killed'],
  ['an exception', [1, null, ['Error: bad mask', '    at x']], 'crashed'],
  ['ended with crashed status', [1, null, ['boom'], 'crashed'], 'crashed'],
];

for (const [name, args, kind] of table) {
  test(`classifies: ${name}`, () => {
    const exit = classifyExit(...args);
    assert.equal(exit.kind, kind);
    assert.deepEqual(exit.stderrTail, args[2]);
  });
}

test('a crash summary quotes the trainer error, or the last stderr line', () => {
  assert.match(classifyExit(1, null, ['x'], undefined, 'mask 3 has 2 channels').summary, /mask 3 has 2 channels/);
  assert.match(classifyExit(1, null, ['first', 'Error: last words', '']).summary, /last words/);
});
