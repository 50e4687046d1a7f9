// The SegScope Timeline text (line N = epoch N) and the debugger's number format.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber } from '../../../src/debug/format';
import { timelineText, timelineUri } from '../../../src/debug/timeline';
import { isTimelinePath, TIMELINE_SCHEME } from '../../../src/debug/breakpoints';
import type { EpochMetrics } from '../../../src/protocol/runFolder';

describe('number format', () => {
  const cases: [number | null, string][] = [
    [3, '3'], [0.123456, '0.1235'], [12.34567, '12.35'], [1e-4, '1e-4'], [0.00012346, '1.235e-4'], [2.5e7 + 0.5, '2.5e+7'], [2.5e7, '25000000'],
    [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [null, 'null'], [0, '0'], [-0.5, '-0.5'],
  ];
  for (const [value, text] of cases) it(`${value} → ${text}`, () => assert.equal(formatNumber(value), text));
});

describe('timeline', () => {
  const split = (miou: number, loss: number) => ({ loss, miou, pixelAccuracy: 0.5, iou: [] });
  const metrics = (epoch: number): EpochMetrics => ({
    epoch, train: split(0.4, 0.9), val: split(0.3 + epoch / 10, 1.2), confusion: [], learningRate: 0.001,
    durationMs: 1500, imagesPerSec: 1, layers: {}, watch: {},
  });

  it('has one line per epoch, line N = epoch N, finished epochs with their numbers', () => {
    const known = new Map([[1, metrics(1)], [2, metrics(2)]]);
    const lines = timelineText(4, known, { epoch: 3, batch: 5, batchesPerEpoch: 9 }).trimEnd().split('\n');
    assert.equal(lines.length, 4);
    lines.forEach((line, i) => assert.ok(line.startsWith(`epoch ${i + 1} · `), line));
    assert.match(lines[1], new RegExp(`val mIoU ${formatNumber(0.3 + 2 / 10)} · val loss 1.2 · train loss 0.9 · lr 0.001 · 1.5 s`));
    assert.equal(lines[2], 'epoch 3 · running (batch 5/9)');
    assert.equal(lines[3], 'epoch 4 · pending');
  });

  it('names the config in its URI, which breakpoints recognise', () => {
    const uri = timelineUri('my run', '/w/a b/segscope.json');
    assert.ok(uri.startsWith(`${TIMELINE_SCHEME}:/my%20run.${TIMELINE_SCHEME}?`));
    assert.equal(decodeURIComponent(uri.split('?')[1]), '/w/a b/segscope.json');
    assert.ok(isTimelinePath(uri));
    assert.ok(!isTimelinePath('/w/segscope.json'));
  });
});
