// Confusion matrix arithmetic for the heat map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellAt, describeCell, rowNormalise } from '../../../webview/src/model/confusion';

const matrix = [[90, 10, 0], [5, 0, 15], [0, 0, 0]];

test('rows sum to one; empty rows stay zero', () => {
  const n = rowNormalise(matrix);
  assert.ok(Math.abs(n[0].reduce((a, b) => a + b) - 1) < 1e-12);
  assert.ok(Math.abs(n[1].reduce((a, b) => a + b) - 1) < 1e-12);
  assert.deepEqual(n[2], [0, 0, 0]);
  assert.equal(n[1][2], 15 / 20);
});

test('cells describe counts and their share of the ground-truth class', () => {
  assert.deepEqual(describeCell(matrix, 1, 2), { truth: 1, predicted: 2, count: 15, share: 0.75 });
  assert.equal(describeCell(matrix, 3, 0), undefined);
});

test('hit-testing the heat map', () => {
  assert.deepEqual(cellAt(100 + 25, 8 + 45, 100, 8, 20, 3), { truth: 2, predicted: 1 });
  assert.equal(cellAt(99, 10, 100, 8, 20, 3), undefined);
  assert.equal(cellAt(100 + 60, 10, 100, 8, 20, 3), undefined);
});
