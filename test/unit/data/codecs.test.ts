// Codec tests: fixtures written by sharp, pngjs and a hand-built PNG writer are read back by the loader's codecs (jpeg-js, fast-png).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import {
  DecodeError, decodeImage, decodeMask, encodeGrayPng, encodePalettePng, encodeRgbPng,
} from '../../../src/engine/data/codecs';
import { vocPalette } from '../../../src/engine/data/palette';
import { blockMask, grayPng, jpeg, palettePng, rgbPng, sharpRgb, smoothImage } from './fixtures';

const IGNORE = 255;

describe('decodeMask', () => {
  it('reads palette indices of a palette PNG with 255 void borders, not its colours', () => {
    const w = 23, h = 17;
    const labels = blockMask(w, h, [{ x: 3, y: 2, w: 8, h: 9, label: 1 }, { x: 13, y: 6, w: 7, h: 8, label: 15 }], 2);
    assert.ok(labels.includes(255) && labels.includes(15) && labels.includes(0));
    // A palette where several indices share one colour: going through RGB could not recover the indices.
    const palette: [number, number, number][] = Array.from({ length: 256 }, (_, i) => (i === 15 ? [9, 9, 9] : [0, 0, 0]));
    const mask = decodeMask(palettePng(labels, w, h, palette), 'm.png', { ignoreLabel: IGNORE });
    assert.equal(mask.kind, 'palette');
    assert.equal(mask.width, w);
    assert.equal(mask.height, h);
    assert.deepEqual([...mask.labels], [...labels]);
  });

  for (const depth of [1, 2, 4] as const) {
    it(`unpacks ${depth}-bit palette PNGs (rows padded to whole bytes)`, () => {
      const w = 13, h = 5;
      const max = (1 << depth) - 1;
      const labels = Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + (i >> 3)) % (max + 1));
      const palette = vocPalette().slice(0, max + 1);
      const mask = decodeMask(palettePng(labels, w, h, palette, depth), 'd.png', { ignoreLabel: IGNORE });
      assert.deepEqual([...mask.labels], [...labels]);
    });
  }

  it('reads an 8-bit grayscale mask as raw values', () => {
    const w = 11, h = 9;
    const labels = blockMask(w, h, [{ x: 2, y: 2, w: 5, h: 4, label: 3 }], 1);
    const mask = decodeMask(grayPng(labels, w, h), 'g.png', { ignoreLabel: IGNORE });
    assert.equal(mask.kind, 'gray');
    assert.deepEqual([...mask.labels], [...labels]);
  });

  it('maps an RGB mask through colorToClass; unknown colours become the ignore label and are counted', () => {
    const w = 6, h = 4;
    const colours: [number, number, number][] = [[10, 20, 30], [200, 0, 0], [0, 200, 0], [1, 2, 3]];
    const truth = Uint8Array.from({ length: w * h }, (_, i) => i % 4);
    const rgb = new Uint8Array(w * h * 3);
    truth.forEach((c, i) => rgb.set(colours[c], i * 3));
    const table = { '10,20,30': 0, '200,0,0': 1, ' 0, 200, 0': 2 };
    const mask = decodeMask(rgbPng(rgb, w, h), 'rgb.png', { ignoreLabel: IGNORE, colorToClass: table });
    assert.equal(mask.kind, 'rgb');
    assert.deepEqual([...mask.labels], [...truth].map((c) => (c === 3 ? IGNORE : c)));
    assert.equal(mask.unknownColorPixels, truth.filter((c) => c === 3).length);
    assert.deepEqual(mask.unknownColors, ['1,2,3']);
  });

  it('rejects a JPEG mask and a truncated PNG, naming the file', async () => {
    const w = 32, h = 32;
    const jpg = await jpeg(smoothImage(w, h), w, h);
    assert.throws(() => decodeMask(jpg, 'mask.jpg', { ignoreLabel: IGNORE }), (e: unknown) =>
      e instanceof DecodeError && e.file === 'mask.jpg' && /JPEG/.test(e.why));
    const png = palettePng(Uint8Array.from({ length: w * h }, (_, i) => i % 7), w, h, vocPalette());
    for (const keep of [0.3, 0.6, 0.9]) {
      const truncated = png.subarray(0, Math.floor(png.length * keep));
      assert.throws(() => decodeMask(truncated, 'cut.png', { ignoreLabel: IGNORE }), (e: unknown) =>
        e instanceof DecodeError && e.file === 'cut.png');
    }
  });
});

describe('decodeImage', () => {
  it('decodes a sharp-written JPEG like libjpeg does (within rounding)', async () => {
    const w = 48, h = 36;
    const bytes = await jpeg(smoothImage(w, h), w, h, 92);
    const ours = decodeImage(bytes, 'a.jpg');
    const reference = await sharpRgb(bytes);
    assert.equal(ours.width, w);
    assert.equal(ours.height, h);
    let maxDiff = 0;
    for (let i = 0; i < ours.rgb.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.rgb[i] - reference.rgb[i]));
    assert.ok(maxDiff <= 3, `max difference to libjpeg ${maxDiff}`);
  });

  it('decodes RGB, RGBA and gray PNGs exactly', () => {
    const w = 7, h = 5;
    const rgb = smoothImage(w, h, 3);
    assert.deepEqual([...decodeImage(rgbPng(rgb, w, h), 'a.png').rgb], [...rgb]);
    const rgbaPng = new PNG({ width: w, height: h });
    for (let i = 0; i < w * h; i++) rgbaPng.data.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 77], i * 4);
    assert.deepEqual([...decodeImage(PNG.sync.write(rgbaPng), 'b.png').rgb], [...rgb]);
    const gray = Uint8Array.from({ length: w * h }, (_, i) => i * 7);
    const out = decodeImage(grayPng(gray, w, h), 'g.png').rgb;
    assert.deepEqual([...out], [...gray].flatMap((v) => [v, v, v]));
  });

  it('rejects corrupt JPEGs and files that are no image, naming the file', async () => {
    const w = 40, h = 30;
    const good = await jpeg(smoothImage(w, h), w, h);
    const truncated = good.subarray(0, Math.floor(good.length * 0.6));
    const garbage = Buffer.concat([good.subarray(0, 20), Buffer.alloc(300, 7)]);
    for (const [name, bytes] of [['t.jpg', truncated], ['g.jpg', garbage], ['x.jpg', Buffer.from('not an image')]] as const) {
      assert.throws(() => decodeImage(bytes, name), (e: unknown) => e instanceof DecodeError && e.file === name, name);
    }
  });
});

describe('encoders', () => {
  it('encodePalettePng writes the indices and the palette (read back by sharp)', async () => {
    const w = 9, h = 6;
    const indices = Uint8Array.from({ length: w * h }, (_, i) => [0, 1, 2, 15, 255][i % 5]);
    const palette = vocPalette();
    const png = encodePalettePng(indices, w, h, palette);
    const { rgb } = await sharpRgb(Buffer.from(png));
    assert.deepEqual([...rgb], [...indices].flatMap((i) => palette[i]));
    const meta = await sharp(Buffer.from(png)).metadata();
    assert.equal(meta.isPalette, true);
  });

  it('encodeRgbPng and encodeGrayPng round-trip through pngjs', () => {
    const w = 5, h = 4;
    const rgb = smoothImage(w, h, 1);
    const readRgb = PNG.sync.read(Buffer.from(encodeRgbPng(rgb, w, h)));
    assert.deepEqual([...readRgb.data].filter((_, i) => i % 4 !== 3), [...rgb]);
    const gray = Uint8Array.from({ length: w * h }, (_, i) => i * 13);
    const readGray = PNG.sync.read(Buffer.from(encodeGrayPng(gray, w, h)));
    assert.deepEqual([...readGray.data].filter((_, i) => i % 4 === 0), [...gray]);
    assert.throws(() => encodeGrayPng(gray, w + 1, h), /expected/);
  });
});
