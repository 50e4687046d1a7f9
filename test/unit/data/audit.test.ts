// Audit: every problem kind named by file, exact class statistics, and the `segscope audit` command's JSON and exit codes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../../src/config/resolve';
import { VOC_CLASSES } from '../../../src/protocol/config';
import { main } from '../../../src/cli/main';
import { auditDataset, type AuditReport } from '../../../src/engine/data/audit';
import { makeDemoData } from '../../../src/engine/data/demo';
import { vocPalette } from '../../../src/engine/data/palette';
import { blockMask, jpeg, maskBytes, palettePng, smoothImage, tempDir, writeVoc, type FixtureSample } from './fixtures';

const CLASSES = ['background', 'a', 'b', 'c'];
const palette = vocPalette();
let tmp: ReturnType<typeof tempDir>;
let root: string;

function sample(id: string, w: number, h: number, label: number, mask?: FixtureSample['mask']): FixtureSample {
  return { id, width: w, height: h, labels: blockMask(w, h, [{ x: 3, y: 4, w: 10, h: 8, label }], 2), mask };
}

const clean = [sample('p1', 30, 20, 1), sample('p2', 24, 24, 2), sample('g1', 30, 20, 3, 'gray'), sample('r1', 20, 30, 2, 'rgb')];
const badValues = sample('badvalues', 30, 20, 1);
badValues.labels[0] = 9;
badValues.labels[1] = 128;
const all = [...clean, badValues];

async function captureRun(args: string[]): Promise<{ code: number; out: string }> {
  const log = console.log, error = console.error;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  console.error = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    return { code: await main(['audit', ...args]), out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

before(async () => {
  tmp = tempDir('audit');
  root = path.join(tmp.dir, 'voc');
  await writeVoc(root, all, {
    train: ['p1', 'p2', 'g1', 'r1', 'badvalues', 'wrongsize', 'corrupt', 'truncated', 'nomask', 'nothing'],
    val: ['p1'],
  }, palette);
  const img = (id: string) => path.join(root, 'JPEGImages', `${id}.jpg`);
  const msk = (id: string) => path.join(root, 'SegmentationClass', `${id}.png`);
  const photo = await jpeg(smoothImage(30, 20), 30, 20);
  writeFileSync(img('wrongsize'), photo);
  writeFileSync(msk('wrongsize'), palettePng(new Uint8Array(25 * 20).fill(1), 25, 20, palette));
  writeFileSync(img('corrupt'), Buffer.concat([photo.subarray(0, 40), Buffer.alloc(100, 3)]));
  writeFileSync(msk('corrupt'), maskBytes(sample('corrupt', 30, 20, 3), palette));
  writeFileSync(img('truncated'), photo);
  const png = maskBytes(sample('truncated', 30, 20, 3), palette);
  writeFileSync(msk('truncated'), png.subarray(0, png.length - 30));
  writeFileSync(img('nomask'), photo);
  writeFileSync(msk('noimage'), maskBytes(sample('noimage', 30, 20, 1), palette));
  writeFileSync(img('unlabelled'), photo);
});

after(() => tmp.remove());

describe('auditDataset', () => {
  let report: AuditReport;
  before(async () => {
    report = await auditDataset(resolveConfig({ data: { format: 'voc', root: 'voc', classes: CLASSES } }), tmp.dir);
  });

  it('names every problem file in the right list', () => {
    const files = (list: { file: string }[]) => list.map((i) => path.relative(root, i.file)).sort();
    assert.deepEqual(files(report.unreadable), ['JPEGImages/corrupt.jpg', 'JPEGImages/nothing.jpg', 'SegmentationClass/truncated.png']);
    assert.deepEqual(files(report.sizeMismatches), ['SegmentationClass/wrongsize.png']);
    assert.deepEqual(files(report.masksWithBadValues), ['SegmentationClass/badvalues.png']);
    assert.match(report.masksWithBadValues[0].detail, /9, 128/);
    assert.deepEqual(files(report.rgbMasks), ['SegmentationClass/r1.png']);
    assert.deepEqual(files(report.imagesWithoutMasks), ['JPEGImages/nomask.jpg']);
    assert.deepEqual(files(report.masksWithoutImages), ['SegmentationClass/noimage.png']);
    assert.equal(report.unlabelledImages, 1);
    assert.equal(report.problemCount, 3 + 1 + 1 + 1 + 1 + 1);
    // Palette: p1, p2, badvalues, wrongsize, corrupt's mask.
    assert.deepEqual(report.maskKinds, { palette: 5, gray: 1, rgb: 1 });
  });

  it('counts images, sizes, class pixels, per-class images and void exactly', () => {
    // Pairs with both files: the 5 fixtures + wrongsize, corrupt, truncated.
    assert.equal(report.imageCount, 8);
    // Readable masks: fixtures, wrongsize (25×20, all 1) and corrupt's mask (its image is the unreadable part).
    const masks = [...all.map((s) => s.labels), new Uint8Array(25 * 20).fill(1), sample('corrupt', 30, 20, 3).labels];
    const pixels = new Array(CLASSES.length).fill(0);
    const images = new Array(CLASSES.length).fill(0);
    let voidPixels = 0, total = 0;
    for (const labels of masks) {
      const present = new Set<number>();
      for (const v of labels) {
        total++;
        if (v === 255) voidPixels++;
        else if (v < CLASSES.length) { pixels[v]++; present.add(v); }
      }
      for (const v of present) images[v]++;
    }
    assert.deepEqual(report.classPixels, pixels);
    assert.deepEqual(report.classImageCounts, images);
    assert.equal(report.voidPixels, voidPixels);
    assert.equal(report.totalPixels, total);
    assert.ok(Math.abs(report.voidFraction - voidPixels / total) < 1e-12);
    const labelled = pixels.reduce((a, b) => a + b, 0);
    report.classFrequencies.forEach((f, i) => assert.ok(Math.abs(f - pixels[i] / labelled) < 1e-12));
    // Readable images: 5 fixtures (30×20 ×3, 24×24, 20×30) + wrongsize, truncated (30×20).
    assert.equal(report.sizes.count, 7);
    assert.equal(report.sizes.minWidth, 20);
    assert.equal(report.sizes.maxWidth, 30);
    assert.equal(report.sizes.minHeight, 20);
    assert.equal(report.sizes.maxHeight, 30);
    assert.ok(Math.abs(report.sizes.meanWidth - (30 * 5 + 24 + 20) / 7) < 1e-9);
    assert.deepEqual(report.sizes.common[0], { width: 30, height: 20, count: 5 });
    assert.deepEqual(report.splits.map((s) => [s.name, s.count]), [['train', 10], ['val', 1]]);
  });
});

describe('segscope audit', () => {
  it('--json prints one object with the report fields and exits 1 when problems exist', async () => {
    const { code, out } = await captureRun([root, '--json']);
    assert.equal(code, 1);
    const parsed = JSON.parse(out) as AuditReport;
    for (const key of ['imageCount', 'sizes', 'classPixels', 'classImageCounts', 'voidFraction', 'masksWithBadValues',
      'sizeMismatches', 'rgbMasks', 'imagesWithoutMasks', 'masksWithoutImages', 'unreadable']) {
      assert.ok(key in parsed, key);
    }
    // No segscope.json in the folder: VOC layout with VOC's classes, so label 9 is a valid class there.
    assert.deepEqual(parsed.classes, [...VOC_CLASSES]);
    assert.equal(parsed.masksWithBadValues.length, 1);
    assert.match(parsed.masksWithBadValues[0].detail, /: 128$/);
  });

  it('reads the dataset through a segscope.json and prints a readable text report', async () => {
    const configPath = path.join(tmp.dir, 'segscope.json');
    writeFileSync(configPath, JSON.stringify({ data: { format: 'voc', root: 'voc', classes: CLASSES } }));
    const { code, out } = await captureRun([configPath]);
    assert.equal(code, 1);
    assert.match(out, /masks whose size differs from their image: 1/);
    assert.ok(out.includes(path.join(root, 'SegmentationClass', 'wrongsize.png')));
    assert.match(out, /masks with values outside .*: 1\n.*badvalues\.png: 2 pixels hold values outside 0\.\.3 and 255: 9, 128/);
  });

  it('exits 0 on the demo data and 2 on a bad target', async () => {
    const demo = await makeDemoData(path.join(tmp.dir, 'demo'), { count: 6, size: 32 });
    const { code, out } = await captureRun([demo.dir]);
    assert.equal(code, 0, out);
    assert.match(out, /no problems found/);
    assert.equal((await captureRun([path.join(tmp.dir, 'nope')])).code, 2);
    assert.equal((await captureRun([])).code, 2);
  });
});
