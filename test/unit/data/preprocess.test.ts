// Preprocessing: nearest never invents labels, bilinear does, padding is the ignore label, flips keep image and mask aligned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  evalPlacement, normalizeRgb, padColor, placeImage, placeMask, scaledSize, trainPlacement, type Placement,
} from '../../../src/engine/data/preprocess';
import { seededRandom } from '../../../src/engine/data/random';
import { blockMask, labelColour, labelColouredImage } from './fixtures';

const IGNORE = 255;
const AUGMENT = { scale: [0.5, 2.0] as [number, number], flip: true, crop: true };

function distinct(values: ArrayLike<number>): Set<number> {
  return new Set(Array.from(values));
}

/** A mask with several classes, void borders, and (optionally) an isolated pixel. */
function testMask(w: number, h: number, isolatedPixel = true): Uint8Array {
  const labels = blockMask(w, h, [
    { x: 4, y: 5, w: 20, h: 14, label: 3 }, { x: 30, y: 8, w: 12, h: 25, label: 7 }, { x: 10, y: 28, w: 15, h: 9, label: 12 },
  ], 2);
  if (isolatedPixel) labels[w * 40 + 45] = 7;
  return labels;
}

describe('placeMask', () => {
  it('nearest never gives a mask a label value it did not have', () => {
    const w = 53, h = 47;
    const labels = testMask(w, h);
    const allowed = distinct(labels);
    allowed.add(IGNORE);
    const random = seededRandom(7);
    for (let trial = 0; trial < 60; trial++) {
      const p = trainPlacement(w, h, 32, AUGMENT, random);
      for (const v of distinct(placeMask(labels, w, h, p, 32, IGNORE, 'nearest'))) {
        assert.ok(allowed.has(v), `trial ${trial}: label ${v} appeared (placement ${JSON.stringify(p)})`);
      }
    }
  });

  it("'bilinear' really interpolates label values (the bug it exists to reproduce)", () => {
    const w = 53, h = 47;
    const labels = testMask(w, h);
    const allowed = distinct(labels);
    const p: Placement = { scale: 1.37, offsetX: 3, offsetY: 2, flip: false };
    const invented = [...distinct(placeMask(labels, w, h, p, 48, IGNORE, 'bilinear'))].filter((v) => !allowed.has(v));
    assert.ok(invented.length > 0, 'bilinear resizing produced no new label values');
  });

  it('pads with the ignore label (masks) and the normalisation mean (images)', () => {
    // 40×20 image fitted into 32×32: 32×16 content, centred → rows 0..7 and 24..31 are padding.
    const w = 40, h = 20;
    const labels = new Uint8Array(w * h).fill(4);
    const rgb = new Uint8Array(w * h * 3).fill(200);
    const p = evalPlacement(w, h, 32);
    assert.deepEqual(scaledSize(w, h, p.scale), [32, 16]);
    const mask = placeMask(labels, w, h, p, 32, IGNORE, 'nearest');
    const image = placeImage(rgb, w, h, p, 32, padColor('imagenet'));
    for (let y = 0; y < 32; y++) {
      const padded = y < 8 || y >= 24;
      for (let x = 0; x < 32; x++) {
        assert.equal(mask[y * 32 + x], padded ? IGNORE : 4, `mask at ${x},${y}`);
        assert.deepEqual([...image.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)], padded ? [124, 116, 104] : [200, 200, 200]);
      }
    }
    // Training: an image scaled below the input is padded bottom/right as DeepLab does.
    const small: Placement = { scale: 0.5, offsetX: 0, offsetY: 0, flip: false };
    const m = placeMask(labels, w, h, small, 32, IGNORE, 'nearest');
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      assert.equal(m[y * 32 + x], x < 20 && y < 10 ? 4 : IGNORE);
    }
  });
});

describe('placement geometry', () => {
  it('flips keep image and mask aligned under random scale and crop', () => {
    const w = 61, h = 45;
    // No isolated pixel: nearest may skip a single pixel that bilinear still blends in.
    const labels = testMask(w, h, false);
    const rgb = labelColouredImage(labels, w, h);
    const random = seededRandom(3);
    let flipped = 0, checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const p = trainPlacement(w, h, 40, AUGMENT, random);
      if (p.flip) flipped++;
      const mask = placeMask(labels, w, h, p, 40, IGNORE, 'nearest');
      const image = placeImage(rgb, w, h, p, 40, [1, 2, 3]);
      const near = [-2, -1, 0, 1, 2];
      for (let y = 2; y < 38; y++) {
        for (let x = 2; x < 38; x++) {
          const v = mask[y * 40 + x];
          // Away from label edges (further than bilinear's reach at scale ≥ 0.5) the image's colour is the label's colour.
          const uniform = near.every((dy) => near.every((dx) => mask[(y + dy) * 40 + x + dx] === v));
          if (!uniform || v === IGNORE) continue;
          assert.deepEqual([...image.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)], labelColour(v), `trial ${trial} at ${x},${y}`);
          checked++;
        }
      }
    }
    assert.ok(flipped > 5 && flipped < 35, `flip rate ${flipped}/40`);
    assert.ok(checked > 1000);
  });

  it('a flipped placement is the mirror image of the unflipped one', () => {
    const w = 30, h = 30;
    const labels = testMask(w, h);
    const rgb = labelColouredImage(labels, w, h);
    const p: Placement = { scale: 0.9, offsetX: -1, offsetY: 0, flip: false };
    const a = placeMask(labels, w, h, p, 24, IGNORE, 'nearest');
    const b = placeMask(labels, w, h, { ...p, flip: true }, 24, IGNORE, 'nearest');
    const ia = placeImage(rgb, w, h, p, 24, [0, 0, 0]);
    const ib = placeImage(rgb, w, h, { ...p, flip: true }, 24, [0, 0, 0]);
    for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++) {
      assert.equal(b[y * 24 + x], a[y * 24 + 23 - x]);
      for (let c = 0; c < 3; c++) assert.equal(ib[(y * 24 + x) * 3 + c], ia[(y * 24 + 23 - x) * 3 + c]);
    }
  });

  it('scale 1 without offset is the identity; evaluation is deterministic and centred', () => {
    const w = 16, h = 16;
    const labels = testMask(w, h);
    const rgb = labelColouredImage(labels, w, h);
    const p = evalPlacement(w, h, 16);
    assert.deepEqual(p, { scale: 1, offsetX: 0, offsetY: 0, flip: false });
    assert.deepEqual([...placeMask(labels, w, h, p, 16, IGNORE, 'nearest')], [...labels]);
    assert.deepEqual([...placeMask(labels, w, h, p, 16, IGNORE, 'bilinear')], [...labels]);
    assert.deepEqual([...placeImage(rgb, w, h, p, 16, [0, 0, 0])], [...rgb]);
    // 100×50 into 64 → 64×32 content, 16 rows of padding above.
    const q = evalPlacement(100, 50, 64);
    assert.equal(q.offsetY, -16);
    assert.equal(q.offsetX, 0);
  });

  it('random placements follow the scale range and are reproducible from the seed', () => {
    const a = seededRandom(11), b = seededRandom(11);
    for (let i = 0; i < 50; i++) {
      const p = trainPlacement(200, 100, 64, AUGMENT, a);
      assert.deepEqual(trainPlacement(200, 100, 64, AUGMENT, b), p);
      const factor = p.scale / (64 / 200);
      assert.ok(factor >= 0.5 && factor <= 2.0, `factor ${factor}`);
      const [sw, sh] = scaledSize(200, 100, p.scale);
      assert.ok(p.offsetX >= 0 && p.offsetX <= Math.max(0, sw - 64));
      assert.ok(p.offsetY >= 0 && p.offsetY <= Math.max(0, sh - 64));
    }
  });
});

describe('normalizeRgb', () => {
  it('implements -1..1, 0..1 and imagenet', () => {
    const rgb = Uint8Array.from([0, 255, 51, 102, 127, 204]);
    const close = (a: Float32Array, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-5, `${a[i]} vs ${v}`));
    close(normalizeRgb(rgb, '-1..1'), [...rgb].map((v) => (v - 127.5) / 127.5));
    close(normalizeRgb(rgb, '0..1'), [...rgb].map((v) => v / 255));
    const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
    close(normalizeRgb(rgb, 'imagenet'), [...rgb].map((v, i) => (v / 255 - mean[i % 3]) / std[i % 3]));
    const into = new Float32Array(10);
    normalizeRgb(rgb, '0..1', into, 4);
    assert.equal(into[3], 0);
    assert.ok(Math.abs(into[5] - 1) < 1e-6);
  });
});
