// The page's PNG decoder against independent encoders (fast-png, and pngjs which uses every scanline filter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'fast-png';
import { PNG } from 'pngjs';
import { decodePng, toRgb, toSingle } from '../../../webview/src/model/png';
import { seededRandom } from '../../fixtures/fakeRun';

function randomBytes(n: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

test('palette PNGs decode to their indices, not colours', async () => {
  const w = 37, h = 23;
  const indices = randomBytes(w * h, 1).map((v) => v % 21);
  const palette = Array.from({ length: 256 }, (_, i) => [i, 255 - i, (i * 7) % 256]);
  const png = await decodePng(encode({ width: w, height: h, data: indices, depth: 8, channels: 1, palette }));
  assert.equal(png.colorType, 3);
  assert.deepEqual([png.width, png.height], [w, h]);
  assert.deepEqual(toSingle(png), indices);
  const rgb = toRgb(png);
  for (let i = 0; i < w * h; i += 97) assert.deepEqual([...rgb.subarray(i * 3, i * 3 + 3)], palette[indices[i]]);
});

test('gray and RGB PNGs from fast-png decode exactly', async () => {
  const gray = randomBytes(64 * 48, 2);
  const g = await decodePng(encode({ width: 64, height: 48, data: gray, depth: 8, channels: 1 }));
  assert.deepEqual(toSingle(g), gray);
  const rgb = randomBytes(31 * 17 * 3, 3);
  const c = await decodePng(encode({ width: 31, height: 17, data: rgb, depth: 8, channels: 3 }));
  assert.deepEqual(toRgb(c), rgb);
});

test('RGBA PNGs from pngjs (adaptive filters: sub, up, average, paeth) decode exactly', async () => {
  const w = 50, h = 40;
  const image = new PNG({ width: w, height: h });
  const r = seededRandom(4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    // Smooth regions and noise, so the encoder picks different filters on different rows.
    image.data[i] = y < 20 ? x * 5 : Math.floor(r() * 256);
    image.data[i + 1] = (x + y) * 2;
    image.data[i + 2] = y % 3 === 0 ? 200 : Math.floor(r() * 256);
    image.data[i + 3] = 255 - x;
  }
  const bytes = PNG.sync.write(image, { filterType: -1 });
  const png = await decodePng(new Uint8Array(bytes));
  assert.equal(png.channels, 4);
  assert.deepEqual(png.data, new Uint8Array(image.data));
  for (const filterType of [0, 1, 2, 3, 4]) {
    const fixed = await decodePng(new Uint8Array(PNG.sync.write(image, { filterType })));
    assert.deepEqual(fixed.data, new Uint8Array(image.data), `filter ${filterType}`);
  }
});

test('non-PNG bytes and unsupported depths are refused', async () => {
  await assert.rejects(decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), /not a PNG/);
  const sixteen = encode({ width: 2, height: 2, data: new Uint16Array(4), depth: 16, channels: 1 });
  await assert.rejects(decodePng(sixteen), /bit depth 16/);
});
