// The layer hover's feature-map thumbnail: the PNG grid decodes to the expected pixels, its data URI stays within bounds,
// the Markdown embeds it only when activation files exist, and rendered thumbnails are cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { quantizeActivation } from '../../../src/engine/probes/activationFile';
import { runPaths } from '../../../src/protocol/runFolder';
import { renderThumbnailGrid, thumbnailDataUri, thumbnailPng, DEFAULT_THUMBNAIL, MAX_DATA_URI_CHARS } from '../../../src/host/activationThumbnail';
import { LayerThumbnailCache, layerActivationPreview, type PreviewRun } from '../../../src/host/layerThumbnails';
import { activationPreviewMarkdown } from '../../../src/host/layerHover';
import { colormap } from '../../../webview/src/model/colormap';

/** Channel-last float activation where channel k at (x, y) is value(k, x, y). */
function syntheticActivation(h: number, w: number, c: number, value: (k: number, x: number, y: number) => number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = value(k, x, y);
  return out;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

test('the grid PNG decodes to the strongest channels, resampled and coloured like the dashboard', () => {
  const [h, w, c] = [4, 6, 10];
  // Channel 7 is constant and the largest on average (strongest, but flat); the others are ramps with distinct means.
  const value = (k: number, x: number, y: number) => (k === 7 ? 50 : k * 0.5 + x * (k + 1) - y * 0.25 * k);
  const floats = syntheticActivation(h, w, c, value);
  const { bytes, header } = quantizeActivation(floats, [h, w, c], 'block1/relu', 'img_1');
  const options = { ...DEFAULT_THUMBNAIL, channels: 8, columns: 4, tile: 12, gap: 2 };
  const png = decode(thumbnailPng(renderThumbnailGrid(bytes, header, options)));
  // Tiles are 12 wide and 12·4/6 = 8 high (the activation's aspect ratio), 4 columns, 2 rows, 2-pixel gaps.
  assert.equal(png.width, 4 * 12 + 3 * 2);
  assert.equal(png.height, 2 * 8 + 2);
  assert.equal(png.channels, 4);

  // Independently: channels by mean, strongest first, and each value scaled to its channel's own range.
  const mean = (k: number) => { let s = 0; for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) s += value(k, x, y); return s / (h * w); };
  const order = Array.from({ length: c }, (_, k) => k).sort((a, b) => mean(b) - mean(a) || a - b).slice(0, 8);
  assert.equal(order[0], 7);
  const lut = colormap('viridis');
  let mismatches = 0;
  for (let tile = 0; tile < 8; tile++) {
    const k = order[tile];
    let lo = Infinity, hi = -Infinity;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { lo = Math.min(lo, value(k, x, y)); hi = Math.max(hi, value(k, x, y)); }
    const x0 = (tile % 4) * 14, y0 = Math.floor(tile / 4) * 10;
    for (let ty = 0; ty < 8; ty++) {
      for (let tx = 0; tx < 12; tx++) {
        // 2× upscale in both directions: tile pixel (tx, ty) shows activation pixel (tx/2, ty/2).
        const v = value(k, Math.floor(tx / 2), Math.floor(ty / 2));
        const index = hi > lo ? Math.round(((v - lo) / (hi - lo)) * 255) : 0;
        const at = ((y0 + ty) * png.width + x0 + tx) * 4;
        const got = [png.data[at], png.data[at + 1], png.data[at + 2], png.data[at + 3]];
        const want = [lut[index * 3], lut[index * 3 + 1], lut[index * 3 + 2], 255];
        if (got.some((g, i) => Math.abs(g - want[i]) > (i < 3 ? 3 : 0))) mismatches++;
      }
    }
  }
  assert.equal(mismatches, 0, 'tile pixels that differ from the colour-mapped activation');
  // Gaps are transparent: the column between tiles 0 and 1, and the rows between the two tile rows.
  for (let y = 0; y < png.height; y++) assert.equal(png.data[(y * png.width + 12) * 4 + 3], 0, `gap pixel (12, ${y})`);
  for (let x = 0; x < png.width; x++) assert.equal(png.data[(8 * png.width + x) * 4 + 3], 0, `gap pixel (${x}, 8)`);
});

test('a layer with fewer channels than asked for shows them all, in one row', () => {
  const { bytes, header } = quantizeActivation(syntheticActivation(8, 8, 3, (k, x, y) => k + x * y), [8, 8, 3], 'l', 'i');
  const grid = renderThumbnailGrid(bytes, header, { ...DEFAULT_THUMBNAIL, tile: 16, gap: 1 });
  assert.deepEqual(grid.channels.slice().sort(), [0, 1, 2]);
  assert.equal(grid.width, 3 * 16 + 2);
  assert.equal(grid.height, 16);
});

test('the data URI stays within its bound, shrinking the grid for noisy activations', () => {
  const random = seeded(7);
  const { bytes, header } = quantizeActivation(syntheticActivation(128, 128, 16, () => random()), [128, 128, 16], 'noisy', 'i');
  const full = thumbnailDataUri(bytes, header);
  assert.ok(full && full.dataUri.length <= MAX_DATA_URI_CHARS, `default bound: ${full?.dataUri.length}`);
  const first = renderThumbnailGrid(bytes, header);
  const firstChars = Buffer.from(thumbnailPng(first)).toString('base64').length;
  const tight = thumbnailDataUri(bytes, header, DEFAULT_THUMBNAIL, Math.floor(firstChars / 2));
  assert.ok(tight, 'a smaller grid fits half the size of the full one');
  assert.ok(tight.dataUri.length <= firstChars / 2, `tight bound: ${tight.dataUri.length}`);
  assert.ok(tight.width * tight.height < first.width * first.height, 'the grid shrank');
  assert.match(tight.dataUri, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  assert.equal(thumbnailDataUri(bytes, header, DEFAULT_THUMBNAIL, 100), undefined, 'nothing fits in 100 characters');
});

/** A run folder with one watched layer's activation saved at `savedEpoch`. */
function makeRun(savedEpoch: number): { runDir: string; cleanup: () => void } {
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'segscope-hover-'));
  const { bytes, header } = quantizeActivation(syntheticActivation(16, 16, 12, (k, x, y) => Math.sin(k + x / 3) * y), [16, 16, 12], 'block1/relu', 'img_1');
  const file = path.join(runDir, runPaths.activation(savedEpoch, 'img_1', 'block1/relu'));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  writeFileSync(path.join(runDir, runPaths.activationHeader(savedEpoch, 'img_1', 'block1/relu')), JSON.stringify(header));
  return { runDir, cleanup: () => rmSync(runDir, { recursive: true, force: true }) };
}

function previewRun(runDir: string, latestEpoch: number | undefined, images = ['img_1']): PreviewRun {
  return {
    runDir,
    info: { watch: { layers: ['block1/relu'], images: images.map((id) => ({ id, input: '', groundTruth: '' })) } },
    latestEpoch: latestEpoch === undefined ? undefined : { epoch: latestEpoch },
  };
}

test('the hover embeds a data-URI image only when the watched layer has activation files', async (t) => {
  const { runDir, cleanup } = makeRun(2);
  t.after(cleanup);
  const cache = new LayerThumbnailCache();
  const watch = 'command:segscope.watchLayer?%5B%22x%22%5D';

  const saved = await layerActivationPreview(previewRun(runDir, 2), 'block1/relu', cache);
  assert.equal(saved.kind, 'thumbnail');
  const md = activationPreviewMarkdown('block1/relu', saved, watch);
  const uri = /!\[[^\]]*\]\((data:image\/png;base64,[^)]+)\)/.exec(md)?.[1];
  assert.ok(uri, `an image with a data URI in: ${md.slice(0, 200)}`);
  const png = decode(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'));
  assert.equal(png.width, 4 * 48 + 3 * 2);
  assert.equal(png.height, 2 * 48 + 2);
  assert.match(md, /Strongest 8 of 12 channels on \*img\\_1\* at epoch 2/);

  const cases: [string, PreviewRun, string, RegExp][] = [
    ['not watched', previewRun(runDir, 2), 'stem/conv', /Not a watched layer.*\[Watch this layer\]\(command:segscope\.watchLayer/],
    ['no file at the latest epoch', previewRun(runDir, 3), 'block1/relu', /no saved activations on img_1 at epoch 3/],
    ['no epoch yet', previewRun(runDir, undefined), 'block1/relu', /no epoch has finished yet/],
    ['no watch image', previewRun(runDir, 2, []), 'block1/relu', /watches no images/],
  ];
  for (const [what, run, layer, expected] of cases) {
    const preview = await layerActivationPreview(run, layer, cache);
    assert.notEqual(preview.kind, 'thumbnail', what);
    const text = activationPreviewMarkdown(layer, preview, watch);
    assert.ok(!text.includes('data:image'), `${what}: no image`);
    assert.ok(!text.includes('!['), `${what}: no image`);
    assert.match(text, expected, what);
  }
  const notWatched = activationPreviewMarkdown('stem/conv', { kind: 'not-watched' });
  assert.match(notWatched, /`watch\.layers`/, 'without a command it says how');
  assert.ok(!notWatched.includes('\n'), 'one line');
});

test('thumbnails are cached per run, epoch, layer and image; failed reads are not', async (t) => {
  const { runDir, cleanup } = makeRun(2);
  t.after(cleanup);
  const reads: string[] = [];
  const cache = new LayerThumbnailCache(async (file) => { reads.push(file); return readFile(file); }, 2);
  const key = { runDir, epoch: 2, layer: 'block1/relu', image: 'img_1' };
  const first = await cache.get(key);
  assert.equal(reads.length, 2, 'header and activation read once');
  const again = await cache.get({ ...key, runDir: runDir + path.sep });
  assert.equal(reads.length, 2, 'a cache hit reads nothing');
  assert.equal(again.thumbnail?.dataUri, first.thumbnail?.dataUri);

  await assert.rejects(cache.get({ ...key, epoch: 3 }), /ENOENT/);
  await assert.rejects(cache.get({ ...key, epoch: 3 }), /ENOENT/);
  assert.equal(reads.length, 6, 'a missing file is tried again on the next hover');
  assert.equal(cache.size, 1, 'only the rendered thumbnail is kept');

  // Capacity 2: a third thumbnail evicts the least recently used one.
  const other = makeRun(5);
  t.after(other.cleanup);
  await cache.get({ ...key, runDir: other.runDir, epoch: 5 });
  const { runDir: third, cleanup: cleanupThird } = makeRun(2);
  t.after(cleanupThird);
  await cache.get({ ...key, runDir: third });
  assert.equal(cache.size, 2);
  const before = reads.length;
  await cache.get(key);
  assert.equal(reads.length, before + 2, 'the oldest entry was evicted and is read again');
});
