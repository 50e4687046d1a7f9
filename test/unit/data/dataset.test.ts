// openDataset on VOC-layout and folder fixtures: batches, skipping bad files, exact class counts, determinism, prefetch.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig, type ResolvedConfig } from '../../../src/config/resolve';
import type { DataConfig } from '../../../src/protocol/config';
import type { RunEvent } from '../../../src/protocol/runEvents';
import { openDataset, renderSettings, type SegBatch } from '../../../src/engine/data';
import { DecodeWorker, findWorkerScript } from '../../../src/engine/data/decodePool';
import { renderJob } from '../../../src/engine/data/sampleRenderer';
import { vocPalette } from '../../../src/engine/data/palette';
import {
  blockMask, grayPng, jpeg, labelColour, labelColouredImage, maskBytes, palettePng, rgbPng, tempDir, writeVoc,
  type FixtureSample,
} from './fixtures';

const CLASSES = ['background', 'cat', 'dog', 'bird'];
/** Tests about what is rendered decode on the test's own thread (worker start-up is slow under tsx); the worker gets its own tests. */
const ON_THREAD = { decodeWorker: false };
const SIZE = 32;
const palette = vocPalette();

function sampleOf(id: string, width: number, height: number, k: number, mask?: FixtureSample['mask']): FixtureSample {
  const blocks = [
    { x: 2 + (k % 5), y: 3, w: Math.floor(width / 3), h: Math.floor(height / 2), label: 1 + (k % 3) },
    { x: Math.floor(width / 2), y: Math.floor(height / 2) - (k % 3), w: Math.floor(width / 3), h: Math.floor(height / 3), label: 1 + ((k + 1) % 3) },
  ];
  return { id, width, height, labels: blockMask(width, height, blocks, 2), mask };
}

const good: FixtureSample[] = [
  sampleOf('a1', 40, 30, 0), sampleOf('a2', 30, 40, 1), sampleOf('a3', 50, 50, 2), sampleOf('a4', 36, 28, 3),
  sampleOf('a5', 44, 33, 4), sampleOf('a6', 32, 32, 5), sampleOf('gray1', 40, 30, 6, 'gray'), sampleOf('rgb1', 40, 30, 7, 'rgb'),
];
const BAD = ['corrupt', 'truncated', 'wrongsize', 'missing'];

let tmp: ReturnType<typeof tempDir>;
let root: string;

function config(data: Partial<DataConfig> = {}): ResolvedConfig {
  return resolveConfig({ data: { format: 'voc', root: 'voc', classes: CLASSES, inputSize: SIZE, ...data } });
}

async function collect(gen: AsyncGenerator<SegBatch>): Promise<SegBatch[]> {
  const out: SegBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

before(async () => {
  tmp = tempDir('dataset');
  root = path.join(tmp.dir, 'voc');
  const goodIds = good.map((s) => s.id);
  await writeVoc(root, good, {
    train: [...goodIds.slice(0, 3), 'corrupt', ...goodIds.slice(3), 'truncated', 'wrongsize', 'missing'],
    val: goodIds.slice(0, 3),
    allbad: ['corrupt', 'truncated', 'missing'],
    prefetch: ['a1', 'a2', 'a3', 'a4', 'corrupt', 'a5'],
  }, palette);
  const img = path.join(root, 'JPEGImages'), masks = path.join(root, 'SegmentationClass');
  const ok = sampleOf('x', 40, 30, 0);
  const goodJpeg = await jpeg(labelColouredImage(ok.labels, 40, 30), 40, 30);
  writeFileSync(path.join(img, 'corrupt.jpg'), Buffer.concat([goodJpeg.subarray(0, 30), Buffer.alloc(400, 0x55)]));
  writeFileSync(path.join(masks, 'corrupt.png'), maskBytes(ok, palette));
  writeFileSync(path.join(img, 'truncated.jpg'), goodJpeg);
  const fullPng = maskBytes(ok, palette);
  writeFileSync(path.join(masks, 'truncated.png'), fullPng.subarray(0, Math.floor(fullPng.length / 2)));
  writeFileSync(path.join(img, 'wrongsize.jpg'), goodJpeg);
  writeFileSync(path.join(masks, 'wrongsize.png'), palettePng(new Uint8Array(20 * 20), 20, 20, palette));
});

after(() => tmp.remove());

describe('openDataset (VOC layout)', () => {
  it('streams every readable sample once per epoch and skips bad files with events naming them', async () => {
    const events: RunEvent[] = [];
    const ds = await openDataset(config(), tmp.dir, 'train', (e) => events.push(e));
    const batches = await collect(ds.batches({ batchSize: 3, shuffle: true, augment: true, seed: 1, epoch: 1 }));
    const seen = batches.flatMap((b) => b.ids);
    assert.deepEqual([...seen].sort(), good.map((s) => s.id).sort());
    assert.deepEqual(batches.map((b) => b.batchSize), [3, 3, 2]);
    for (const b of batches) {
      assert.equal(b.size, SIZE);
      assert.equal(b.images.length, b.batchSize * SIZE * SIZE * 3);
      assert.ok(b.masks instanceof Int32Array);
      assert.equal(b.masks.length, b.batchSize * SIZE * SIZE);
      for (const v of new Set(b.masks)) assert.ok(v === 255 || (v >= 0 && v < CLASSES.length), `label ${v}`);
      for (const v of b.images) assert.ok(v >= -1 && v <= 1);
    }
    const skipped = events.filter((e) => e.type === 'data/skipped').map((e) => (e as { file: string }).file);
    const expected = [
      path.join(root, 'JPEGImages', 'corrupt.jpg'), path.join(root, 'SegmentationClass', 'truncated.png'),
      path.join(root, 'SegmentationClass', 'wrongsize.png'), path.join(root, 'JPEGImages', 'missing.jpg'),
      path.join(root, 'SegmentationClass', 'missing.png'),
    ];
    assert.deepEqual([...skipped].sort(), [...expected].sort());
    assert.deepEqual([...ds.ids].sort(), good.map((s) => s.id).sort());
    // A second epoch reports nothing new.
    await collect(ds.batches({ batchSize: 3, shuffle: true, augment: true, seed: 1, epoch: 2 }));
    await ds.close?.();
    assert.equal(events.filter((e) => e.type === 'data/skipped').length, expected.length);
    assert.deepEqual(events.filter((e) => e.type === 'warning'), []);
  });

  it('is deterministic by (seed, epoch)', async () => {
    const run = async (seed: number, epoch: number) => {
      const ds = await openDataset(config(), tmp.dir, 'train', undefined, ON_THREAD);
      return collect(ds.batches({ batchSize: 4, shuffle: true, augment: true, seed, epoch }));
    };
    const a = await run(5, 1), b = await run(5, 1), c = await run(5, 2);
    assert.deepEqual(a.map((x) => x.ids), b.map((x) => x.ids));
    a.forEach((batch, i) => {
      assert.deepEqual(batch.images, b[i].images);
      assert.deepEqual(batch.masks, b[i].masks);
    });
    const sameOrder = JSON.stringify(a.map((x) => x.ids)) === JSON.stringify(c.map((x) => x.ids));
    const sameMasks = a.every((batch, i) => c[i] && batch.masks.every((v, j) => v === c[i].masks[j]));
    assert.ok(!(sameOrder && sameMasks), 'epoch 2 gave exactly the same batches as epoch 1');
  });

  it('counts class pixels exactly (computed independently from the fixture labels)', async () => {
    const ds = await openDataset(config(), tmp.dir, 'train');
    const expected = new Array(CLASSES.length).fill(0);
    for (const s of good) for (const v of s.labels) if (v !== 255) expected[v]++;
    assert.deepEqual(await ds.classPixelCounts!(), expected);
  });

  it('gives deterministic, unaugmented samples with image and mask aligned', async () => {
    const ds = await openDataset(config(), tmp.dir, 'val');
    const s = await ds.sample('a1');
    const again = await ds.sample('a1');
    assert.deepEqual(s.mask, again.mask);
    assert.deepEqual(s.rgb, again.rgb);
    assert.equal(s.image.length, SIZE * SIZE * 3);
    // a1 is 40×30: fitted to 32×24, 4 rows of padding above and below.
    for (let x = 0; x < SIZE; x++) {
      assert.equal(s.mask[x], 255);
      assert.equal(s.mask[(SIZE - 1) * SIZE + x], 255);
    }
    let checked = 0;
    for (let y = 6; y < 26; y++) for (let x = 2; x < 30; x++) {
      const v = s.mask[y * SIZE + x];
      const near = [-2, -1, 0, 1, 2];
      if (v === 255 || !near.every((dy) => near.every((dx) => s.mask[(y + dy) * SIZE + x + dx] === v))) continue;
      const c = labelColour(v);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(s.rgb[(y * SIZE + x) * 3 + k] - c[k]) <= 12, `pixel ${x},${y}`);
      checked++;
    }
    assert.ok(checked > 100);
    await assert.rejects(ds.sample('nope'), /not in split/);
  });

  it('stops with an error naming the split file when nothing in it is readable', async () => {
    await assert.rejects(openDataset(config({ trainSplit: 'allbad' }), tmp.dir, 'train'),
      (e: Error) => e.message.includes(path.join(root, 'ImageSets', 'Segmentation', 'allbad.txt')));
    await assert.rejects(openDataset(config({ trainSplit: 'nosuchsplit' }), tmp.dir, 'train'), /nosuchsplit\.txt/);
  });

  it('prepares the next batch while the consumer still holds the current one', async () => {
    const events: RunEvent[] = [];
    const ds = await openDataset(config({ trainSplit: 'prefetch' }), tmp.dir, 'train', (e) => events.push(e));
    const gen = ds.batches({ batchSize: 2, shuffle: false, augment: false, seed: 1, epoch: 1 });
    const first = await gen.next();
    assert.deepEqual(first.value?.ids, ['a1', 'a2']);
    // Batch 2 is a3,a4; the corrupt file is only reached while producing batch 3, which prefetch starts
    // once batch 2 is handed out. Without prefetch, nothing past batch 1 is decoded until next() is called again.
    const second = await gen.next();
    assert.deepEqual(second.value?.ids, ['a3', 'a4']);
    const deadline = Date.now() + 5000;
    while (!events.some((e) => e.type === 'data/skipped') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(events.some((e) => e.type === 'data/skipped' && e.file.endsWith('corrupt.jpg')), 'batch 3 was not prepared ahead');
    const third = await gen.next();
    assert.deepEqual(third.value?.ids, ['a5']);
    assert.equal((await gen.next()).done, true);
    await ds.close?.();
  });

  it('honours dropLast, limitBatches and data.limit', async () => {
    const ds = await openDataset(config(), tmp.dir, 'train', undefined, ON_THREAD);
    const dropped = await collect(ds.batches({ batchSize: 3, shuffle: false, augment: false, seed: 1, epoch: 1, dropLast: true }));
    assert.deepEqual(dropped.map((b) => b.batchSize), [3, 3]);
    const limited = await collect(ds.batches({ batchSize: 2, shuffle: false, augment: false, seed: 1, epoch: 1, limitBatches: 2 }));
    assert.equal(limited.length, 2);
    const few = await openDataset(config({ limit: 2 }), tmp.dir, 'train');
    assert.deepEqual(few.ids, ['a1', 'a2']);
  });

  it("with maskResize 'bilinear' training masks gain values that were never labels", async () => {
    const allowed = new Set([0, 1, 2, 3, 255]);
    const count = async (maskResize: 'nearest' | 'bilinear') => {
      const ds = await openDataset(config({ maskResize }), tmp.dir, 'train', undefined, ON_THREAD);
      let invented = 0;
      for await (const b of ds.batches({ batchSize: 4, shuffle: true, augment: true, seed: 2, epoch: 1 })) {
        for (const v of b.masks) if (!allowed.has(v)) invented++;
      }
      return invented;
    };
    assert.equal(await count('nearest'), 0);
    assert.ok((await count('bilinear')) > 0);
  });
});

describe('decoding on a worker thread', () => {
  it('renders exactly what the training thread renders, and reports bad files the same way', async () => {
    assert.ok(findWorkerScript(), 'decode worker script not found');
    const settings = renderSettings(config());
    const worker = DecodeWorker.start(settings)!;
    try {
      for (const id of ['a1', 'rgb1', 'corrupt', 'wrongsize']) {
        const files = { id, image: path.join(root, 'JPEGImages', `${id}.jpg`), mask: path.join(root, 'SegmentationClass', `${id}.png`) };
        const job = { files, augment: true, seed: 4, epoch: 2 };
        assert.deepEqual(await worker.run(job), await renderJob(job, settings), id);
      }
    } finally {
      await worker.close();
    }
    await assert.rejects(worker.run({ files: { id: 'x', image: 'x', mask: 'y' }, augment: false, seed: 0, epoch: 0 }), /closed/);
  });

  it('gives the same batches with and without the worker', async () => {
    const opts = { batchSize: 3, shuffle: true, augment: true, seed: 9, epoch: 3 };
    const events: RunEvent[] = [];
    const withWorker = await openDataset(config(), tmp.dir, 'train', (e) => events.push(e), { decodeWorker: true });
    const onThread = await openDataset(config(), tmp.dir, 'train', undefined, { decodeWorker: false });
    const a = await collect(withWorker.batches(opts)), b = await collect(onThread.batches(opts));
    await withWorker.close?.();
    assert.deepEqual(events.filter((e) => e.type === 'warning'), [], 'the worker failed and decoding fell back');
    assert.equal(a.length, b.length);
    a.forEach((batch, i) => {
      assert.deepEqual(batch.ids, b[i].ids);
      assert.deepEqual(batch.images, b[i].images);
      assert.deepEqual(batch.masks, b[i].masks);
    });
  });
});

describe('openDataset (image/mask folders)', () => {
  it('reads gray masks and RGB masks through colorToClass, split folders by name', async () => {
    const base = path.join(tmp.dir, 'folders');
    const colours: Record<number, [number, number, number]> = { 0: [0, 0, 0], 1: [250, 10, 10], 2: [10, 250, 10], 3: [10, 10, 250], 255: [255, 255, 255] };
    const samples = [sampleOf('f1', 40, 30, 1), sampleOf('f2', 30, 30, 2)];
    for (const split of ['train', 'val']) {
      mkdirSync(path.join(base, split, 'images'), { recursive: true });
      mkdirSync(path.join(base, split, 'masks'), { recursive: true });
    }
    for (const s of samples) {
      writeFileSync(path.join(base, 'train', 'images', `${s.id}.jpg`), await jpeg(labelColouredImage(s.labels, s.width, s.height), s.width, s.height));
      const rgb = new Uint8Array(s.width * s.height * 3);
      s.labels.forEach((v, i) => rgb.set(colours[v], i * 3));
      writeFileSync(path.join(base, 'train', 'masks', `${s.id}.png`), rgbPng(rgb, s.width, s.height));
      writeFileSync(path.join(base, 'val', 'images', `${s.id}.jpg`), await jpeg(labelColouredImage(s.labels, s.width, s.height), s.width, s.height));
      writeFileSync(path.join(base, 'val', 'masks', `${s.id}.png`), grayPng(s.labels, s.width, s.height));
    }
    const colorToClass = Object.fromEntries(Object.entries(colours).map(([k, c]) => [c.join(','), Number(k)]));
    const cfg = config({ format: 'folders', root: 'folders', colorToClass });
    for (const split of ['train', 'val'] as const) {
      const ds = await openDataset(cfg, tmp.dir, split);
      assert.deepEqual(ds.ids, ['f1', 'f2']);
      const expected = new Array(CLASSES.length).fill(0);
      for (const s of samples) for (const v of s.labels) if (v !== 255) expected[v]++;
      assert.deepEqual(await ds.classPixelCounts!(), expected, split);
    }
  });
});
