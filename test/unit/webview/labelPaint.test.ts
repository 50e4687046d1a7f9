// Label maps, overlays, error maps and the pixel readout's top-3 probabilities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_MAP, type ClassInfo } from '../../../src/protocol/runFolder';
import {
  classColorTable, isHatchStripe, paintErrors, paintLabels, paintOverlay, topClasses, VOID_GAP, VOID_STRIPE, WRONG_COLOR, type LabelPaintOptions,
} from '../../../webview/src/model/labelPaint';

const classes: ClassInfo[] = [{ id: 0, name: 'bg', color: [0, 0, 0] }, { id: 1, name: 'a', color: [200, 10, 10] }, { id: 2, name: 'b', color: [10, 200, 10] }];
const width = 6;
const labels = Uint8Array.from([0, 1, 2, 255, 1, 2, 255, 255, 255, 255, 0, 0]);
const rgb = Uint8Array.from({ length: labels.length * 3 }, (_, i) => (i * 11) % 256);

function options(hidden: boolean[] = []): LabelPaintOptions {
  return { width, ignoreLabel: 255, table: classColorTable(classes), hidden, hiddenColor: [33, 33, 33] };
}

function pixel(out: Uint8ClampedArray, i: number): number[] {
  return [...out.subarray(i * 4, i * 4 + 4)];
}

test('labels get class colours, void pixels the hatch, hidden classes the neutral colour', () => {
  const out = new Uint8ClampedArray(labels.length * 4);
  paintLabels(labels, out, options([false, false, true]));
  labels.forEach((v, i) => {
    const x = i % width, y = Math.floor(i / width);
    const expected = v === 255 ? (isHatchStripe(x, y) ? VOID_STRIPE : VOID_GAP) : v === 2 ? [33, 33, 33] : classes[v].color;
    assert.deepEqual(pixel(out, i), [...expected, 255], `pixel ${i}`);
  });
  const stripes = [...labels.keys()].filter((i) => labels[i] === 255).map((i) => isHatchStripe(i % width, Math.floor(i / width)));
  assert.ok(stripes.includes(true) && stripes.includes(false), 'void shows both hatch colours');
});

test('overlay blends linearly with opacity; void and hidden show the input', () => {
  for (const opacity of [0, 0.25, 1]) {
    const out = new Uint8ClampedArray(labels.length * 4);
    paintOverlay(rgb, labels, opacity, out, options([false, true]));
    labels.forEach((v, i) => {
      const input = [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]];
      // Uint8ClampedArray rounds half to even: compute the expectation the same way.
      const expected = v === 255 || v === 1 ? input : [...Uint8ClampedArray.from(input.map((c, k) => c + (classes[v].color[k] - c) * opacity))];
      assert.deepEqual(pixel(out, i).slice(0, 3), expected, `opacity ${opacity} pixel ${i}`);
    });
  }
});

test('error map: wrong is red, right is dimmed input, void is hatched, all distinct', () => {
  const errors = Uint8Array.from([ERROR_MAP.right, ERROR_MAP.wrong, ERROR_MAP.void, ERROR_MAP.right, ERROR_MAP.wrong, ERROR_MAP.void]);
  const gt = Uint8Array.from([0, 1, 255, 1, 2, 255]);
  const out = new Uint8ClampedArray(errors.length * 4);
  paintErrors(errors, rgb, gt, out, options([false, false, true]));
  assert.deepEqual(pixel(out, 1).slice(0, 3), WRONG_COLOR);
  assert.deepEqual(pixel(out, 0).slice(0, 3), [0, 1, 2].map((k) => Math.round(rgb[k] * 0.3)));
  assert.deepEqual(pixel(out, 2).slice(0, 3), isHatchStripe(2, 0) ? VOID_STRIPE : VOID_GAP);
  // Pixel 4 is wrong but its GT class is hidden: dimmed, not red.
  assert.notDeepEqual(pixel(out, 4).slice(0, 3), WRONG_COLOR);
});

test('top classes are sorted by probability', () => {
  const numClasses = 4;
  const probs = Uint8Array.from([10, 200, 30, 15, /* pixel 1 */ 0, 0, 255, 0]);
  assert.deepEqual(topClasses(probs, 0, numClasses).map((t) => t.classId), [1, 2, 3]);
  const best = topClasses(probs, 1, numClasses, 2);
  assert.deepEqual(best.map((t) => t.classId), [2, 0]);
  assert.equal(best[0].probability, 1);
});
