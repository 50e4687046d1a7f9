// Table-driven tests of what a SegScope breakpoint means: function-breakpoint text, hit counts, and the "epochs" line of segscope.json.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describePlace, findEpochsLine, parseFunctionBreakpoint, parseHitCondition, placeMatches, type Boundary,
} from '../../../src/debug/breakpoints';

/** Every boundary of a run of 12 epochs × 10 batches, in order. */
function boundaries(epochs = 12, batches = 10): Boundary[] {
  const all: Boundary[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let batch = 1; batch <= batches; batch++) all.push({ kind: 'batch', epoch, batch });
    all.push({ kind: 'epoch', epoch });
  }
  return all;
}

const label = (b: Boundary) => (b.kind === 'epoch' ? `e${b.epoch}` : `e${b.epoch}b${b.batch}`);

describe('function breakpoints', () => {
  const cases: [string, (b: Boundary) => boolean, string][] = [
    ['epoch 5', (b) => b.kind === 'epoch' && b.epoch === 5, 'end of epoch 5'],
    ['Epoch   5 ', (b) => b.kind === 'epoch' && b.epoch === 5, 'end of epoch 5'],
    ['epochs 3..10', (b) => b.kind === 'epoch' && b.epoch >= 3 && b.epoch <= 10, 'end of epochs 3..10'],
    ['every 5 epochs', (b) => b.kind === 'epoch' && b.epoch % 5 === 0, 'end of every 5 epochs'],
    ['every epoch', (b) => b.kind === 'epoch', 'end of every epoch'],
    ['batch 7', (b) => b.kind === 'batch' && b.batch === 7, 'batch 7 of each epoch'],
    ['every 4 batches', (b) => b.kind === 'batch' && b.batch % 4 === 0, 'every 4 batches of each epoch'],
    ['epoch 2 batch 3', (b) => b.kind === 'batch' && b.epoch === 2 && b.batch === 3, 'batch 3 of epoch 2'],
    ['epoch 2..3 batch 10', (b) => b.kind === 'batch' && b.epoch >= 2 && b.epoch <= 3 && b.batch === 10, 'batch 10 of epochs 2..3'],
  ];
  for (const [text, expected, description] of cases) {
    it(`"${text}" stops exactly where expected`, () => {
      const place = parseFunctionBreakpoint(text);
      const all = boundaries();
      assert.deepEqual(all.filter((b) => placeMatches(place, b)).map(label), all.filter(expected).map(label));
      assert.equal(describePlace(place), description);
    });
  }

  const errors: [string, RegExp][] = [
    ['', /Empty breakpoint/],
    ['epoch 0', /count from 1/],
    ['epoch 5..3', /runs backwards/],
    ['epoch 3...5', /not an epoch or a range/],
    ['epoch five', /not an epoch or a range/],
    ['batch -1', /not a batch number/],
    ['every 0 epochs', /count from 1/],
    ['main', /not a training breakpoint; write one of `epoch 5`/],
    ['miou < 0.3', /not a training breakpoint/],
  ];
  for (const [text, message] of errors) {
    it(`rejects "${text}"`, () => assert.throws(() => parseFunctionBreakpoint(text), message));
  }
});

describe('hit conditions', () => {
  const cases: [string, number[]][] = [
    ['3', [3, 4, 5, 6, 7, 8]],
    ['>= 3', [3, 4, 5, 6, 7, 8]],
    ['> 3', [4, 5, 6, 7, 8]],
    ['== 3', [3]],
    ['=3', [3]],
    ['< 3', [1, 2]],
    ['<= 3', [1, 2, 3]],
    ['% 3', [3, 6]],
  ];
  for (const [text, expected] of cases) {
    it(`"${text}" passes on hits ${expected.join(',')}`, () => {
      const test = parseHitCondition(text);
      assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].filter(test), expected);
    });
  }
  for (const text of ['', 'three', '>> 3', '% 0', '3.5']) {
    it(`rejects "${text}"`, () => assert.throws(() => parseHitCondition(text)));
  }
});

describe('the "epochs" line of segscope.json', () => {
  it('finds the line of the key, not of other keys or values', () => {
    const text = ['{', '  "name": "epochs",', '  "train": {', '    "batchSize": 4,', '    "epochs": 30', '  }', '}'].join('\n');
    assert.equal(findEpochsLine(text), 5);
    assert.equal(findEpochsLine(text.replace(/\n/g, '\r\n')), 5);
    assert.equal(findEpochsLine('{ "train": {} }'), undefined);
    const nested = ['{', '  // how long', '  "other": { "epochs": 3 },', '  "train": {', '    "epochs": 30,', '  },', '}'].join('\n');
    assert.equal(findEpochsLine(nested), 5);
  });
});
