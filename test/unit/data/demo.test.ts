// Demo data: VOC layout, palette masks read back by sharp, void borders around every object, colour not giving the class away.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../../src/config/resolve';
import { validateConfigText } from '../../../src/config/validate';
import type { SegScopeConfig } from '../../../src/protocol/config';
import { main } from '../../../src/cli/main';
import { makeDemoData, type DemoResult } from '../../../src/engine/data/demo';
import { openDataset } from '../../../src/engine/data';
import { vocPalette } from '../../../src/engine/data/palette';
import { sharpRgb, tempDir } from './fixtures';

const K = 4;
const SIZE = 64;
let tmp: ReturnType<typeof tempDir>;
let demo: DemoResult;
/** Labels of every image, read through sharp (libpng → RGB) and the VOC colour map, not through the engine's codecs. */
const labelsById = new Map<string, Uint8Array>();
const rgbById = new Map<string, Uint8Array>();

before(async () => {
  tmp = tempDir('demo');
  demo = await makeDemoData(path.join(tmp.dir, 'demo'), { classes: K, count: 40, size: SIZE, seed: 3 });
  const colourToIndex = new Map(vocPalette().map((c, i) => [c.join(','), i]));
  for (const id of [...demo.train, ...demo.val]) {
    const mask = await sharpRgb(path.join(demo.dir, 'SegmentationClass', `${id}.png`));
    assert.equal(mask.width, SIZE);
    const labels = new Uint8Array(SIZE * SIZE);
    for (let p = 0; p < labels.length; p++) {
      const key = `${mask.rgb[p * 3]},${mask.rgb[p * 3 + 1]},${mask.rgb[p * 3 + 2]}`;
      const index = colourToIndex.get(key);
      assert.ok(index !== undefined && (index <= K || index === 255), `${id}: colour ${key}`);
      labels[p] = index;
    }
    labelsById.set(id, labels);
    const image = await sharpRgb(path.join(demo.dir, 'JPEGImages', `${id}.jpg`));
    assert.equal(image.width, SIZE);
    assert.equal(image.height, SIZE);
    rgbById.set(id, image.rgb);
  }
});

after(() => tmp.remove());

describe('makeDemoData', () => {
  it('writes the VOC layout with disjoint train/val splits and a trainval union', () => {
    const read = (name: string) => readFileSync(path.join(demo.dir, 'ImageSets', 'Segmentation', `${name}.txt`), 'utf8').trim().split('\n');
    const train = read('train'), val = read('val'), trainval = read('trainval');
    assert.equal(train.length + val.length, 40);
    assert.ok(val.length >= 4);
    assert.equal(train.filter((id) => val.includes(id)).length, 0);
    assert.deepEqual([...train, ...val].sort(), [...trainval].sort());
    for (const id of trainval) {
      assert.ok(existsSync(path.join(demo.dir, 'JPEGImages', `${id}.jpg`)));
      assert.ok(existsSync(path.join(demo.dir, 'SegmentationClass', `${id}.png`)));
    }
  });

  it('writes a segscope.json that resolves and opens', async () => {
    const text = readFileSync(demo.configPath, 'utf8');
    assert.deepEqual(validateConfigText(text).problems, []);
    const raw = JSON.parse(text) as SegScopeConfig;
    const cfg = resolveConfig(raw);
    assert.equal(cfg.data.format, 'voc');
    assert.equal(cfg.data.root, '.');
    assert.equal(cfg.data.inputSize, SIZE);
    assert.deepEqual(cfg.data.classes, demo.classes);
    assert.equal(cfg.data.classes[0], 'background');
    assert.equal(cfg.numClasses, K + 1);
    assert.equal(cfg.data.ignoreLabel, 255);
    assert.equal(cfg.watch.images.length, 4);
    for (const id of cfg.watch.images) assert.ok(demo.val.includes(id));
    const ds = await openDataset(cfg, demo.dir, 'train');
    assert.equal(ds.ids.length, demo.train.length);
  });

  it('puts a void border between any two different labels (no two labelled pixels of different classes within 2 px)', () => {
    const offsets: [number, number][] = [];
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (dx * dx + dy * dy <= 5) offsets.push([dx, dy]);
    let objects = 0;
    for (const [id, labels] of labelsById) {
      for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
        const v = labels[y * SIZE + x];
        if (v === 255) continue;
        for (const [dx, dy] of offsets) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= SIZE || ny >= SIZE) continue;
          const w = labels[ny * SIZE + nx];
          assert.ok(w === 255 || w === v, `${id}: ${v} at ${x},${y} touches ${w} at ${nx},${ny}`);
        }
      }
      const present = new Set(labels);
      assert.ok(present.has(255), `${id} has no void pixels`);
      objects += [...present].filter((v) => v > 0 && v < 255).length;
    }
    assert.ok(objects >= 40, 'every image should hold at least one object');
  });

  it('has a void fraction like VOC (a few percent) and uses every class', () => {
    let voidPixels = 0;
    const classImages = new Array(K + 1).fill(0);
    for (const labels of labelsById.values()) {
      for (const v of labels) if (v === 255) voidPixels++;
      for (const v of new Set(labels)) if (v <= K) classImages[v]++;
    }
    const fraction = voidPixels / (40 * SIZE * SIZE);
    assert.ok(fraction > 0.02 && fraction < 0.25, `void fraction ${fraction}`);
    for (let c = 1; c <= K; c++) assert.ok(classImages[c] >= 5, `class ${c} in ${classImages[c]} images`);
  });

  it('does not let colour alone give the class away', () => {
    // Nearest-class-mean on pixel colour over object pixels: fitted and scored on the same data (optimistic on purpose).
    const sums = Array.from({ length: K + 1 }, () => [0, 0, 0, 0]);
    for (const [id, labels] of labelsById) {
      const rgb = rgbById.get(id)!;
      labels.forEach((v, p) => {
        if (v === 0 || v === 255) return;
        for (let c = 0; c < 3; c++) sums[v][c] += rgb[p * 3 + c];
        sums[v][3]++;
      });
    }
    const means = sums.map((s) => s.slice(0, 3).map((x) => x / Math.max(1, s[3])));
    let right = 0, total = 0;
    for (const [id, labels] of labelsById) {
      const rgb = rgbById.get(id)!;
      labels.forEach((v, p) => {
        if (v === 0 || v === 255) return;
        let best = 1, bestDist = Infinity;
        for (let c = 1; c <= K; c++) {
          const d = (rgb[p * 3] - means[c][0]) ** 2 + (rgb[p * 3 + 1] - means[c][1]) ** 2 + (rgb[p * 3 + 2] - means[c][2]) ** 2;
          if (d < bestDist) { bestDist = d; best = c; }
        }
        if (best === v) right++;
        total++;
      });
    }
    const accuracy = right / total;
    assert.ok(accuracy < 0.6, `colour alone classifies ${(accuracy * 100).toFixed(1)} % of object pixels`);
  });

  it('is deterministic by seed', async () => {
    const again = await makeDemoData(path.join(tmp.dir, 'again'), { classes: K, count: 6, size: SIZE, seed: 3 });
    const other = await makeDemoData(path.join(tmp.dir, 'other'), { classes: K, count: 6, size: SIZE, seed: 4 });
    const file = (dir: string, sub: string, name: string) => readFileSync(path.join(dir, sub, name));
    assert.deepEqual(file(again.dir, 'JPEGImages', 'demo_0001.jpg'), file(demo.dir, 'JPEGImages', 'demo_0001.jpg'));
    assert.deepEqual(file(again.dir, 'SegmentationClass', 'demo_0002.png'), file(demo.dir, 'SegmentationClass', 'demo_0002.png'));
    assert.notDeepEqual(file(other.dir, 'SegmentationClass', 'demo_0001.png'), file(demo.dir, 'SegmentationClass', 'demo_0001.png'));
  });
});

describe('segscope make-demo-data', () => {
  it('parses its options and rejects bad ones', async () => {
    const dir = path.join(tmp.dir, 'cli');
    const log = console.log, error = console.error;
    const output: string[] = [];
    console.log = (...a: unknown[]) => output.push(a.join(' '));
    console.error = (...a: unknown[]) => output.push(a.join(' '));
    try {
      assert.equal(await main(['make-demo-data', dir, '--classes', '2', '--count=5', '--size', '32', '--seed', '9']), 0);
      assert.equal(await main(['make-demo-data']), 2);
      assert.equal(await main(['make-demo-data', dir, '--count', 'many']), 2);
      assert.equal(await main(['make-demo-data', dir, '--colour', '3']), 2);
      assert.equal(await main(['make-demo-data', dir, '--classes', '99']), 1);
    } finally {
      console.log = log;
      console.error = error;
    }
    const cfg = JSON.parse(readFileSync(path.join(dir, 'segscope.json'), 'utf8')) as SegScopeConfig;
    assert.equal(cfg.data.classes?.length, 3);
    assert.equal(readFileSync(path.join(dir, 'ImageSets', 'Segmentation', 'trainval.txt'), 'utf8').trim().split('\n').length, 5);
    assert.ok(output.some((line) => /--classes must be/.test(line)));
  });
});
