// Colour maps: right endpoints, perceptually ordered (luminance rises monotonically), cached tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colormap, cssColor, luminance } from '../../../webview/src/model/colormap';

for (const [name, first, last] of [['viridis', [68, 1, 84], [253, 231, 37]], ['magma', [0, 0, 4], [252, 253, 191]]] as const) {
  test(`${name}: endpoints and monotonic luminance`, () => {
    const lut = colormap(name);
    assert.equal(lut.length, 768);
    assert.deepEqual([...lut.subarray(0, 3)], first);
    assert.deepEqual([...lut.subarray(765, 768)], last);
    let previous = -1;
    for (let i = 0; i < 256; i++) {
      const l = luminance(lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]);
      assert.ok(l > previous - 1e-9, `${name} luminance drops at ${i}`);
      previous = l;
    }
    assert.equal(colormap(name), lut, 'tables are cached');
  });
}

test('gray is the identity', () => {
  const lut = colormap('gray');
  for (let i = 0; i < 256; i++) assert.deepEqual([...lut.subarray(i * 3, i * 3 + 3)], [i, i, i]);
  assert.equal(cssColor(lut, 0.5), 'rgb(128, 128, 128)');
  assert.equal(cssColor(lut, 2), 'rgb(255, 255, 255)');
});

test('luminance matches the sRGB definition at known points', () => {
  assert.equal(luminance(0, 0, 0), 0);
  assert.ok(Math.abs(luminance(255, 255, 255) - 1) < 1e-12);
  assert.ok(Math.abs(luminance(255, 0, 0) - 0.2126) < 1e-12);
});

test('class colours are made readable on dark and light backgrounds, readable ones are kept', async () => {
  const { contrastRatio, readableOn } = await import('../../../webview/src/model/colormap');
  const dark: [number, number, number] = [24, 24, 24], light: [number, number, number] = [255, 255, 255];
  for (const color of [[0, 0, 0], [128, 0, 0], [0, 0, 128], [128, 128, 0], [192, 224, 224]] as [number, number, number][]) {
    assert.ok(contrastRatio(readableOn(color, dark), dark) >= 3, `${color} on dark`);
    assert.ok(contrastRatio(readableOn(color, light), light) >= 3, `${color} on light`);
  }
  assert.deepEqual(readableOn([0, 200, 0], dark), [0, 200, 0]);
  assert.ok(Math.abs(contrastRatio([0, 0, 0], [255, 255, 255]) - 21) < 1e-9);
});
