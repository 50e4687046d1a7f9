// The VOC colour map against VOC's published colours and an independent per-bit computation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vocColorToClass, vocPalette } from '../../../src/engine/data/palette';

/** VOC devkit's labelcolormap, written as bitget loops over the 8 bits of each index (a different route than the engine's). */
function devkitColour(index: number): [number, number, number] {
  const c = [0, 0, 0];
  let id = index;
  for (let j = 0; j < 8; j++) {
    for (let ch = 0; ch < 3; ch++) {
      const bit = Math.floor(id / 2 ** ch) % 2;
      c[ch] += bit * 2 ** (7 - j);
    }
    id = Math.floor(id / 8);
  }
  return c as [number, number, number];
}

describe('vocPalette', () => {
  it('has 256 entries matching the devkit formula', () => {
    const palette = vocPalette();
    assert.equal(palette.length, 256);
    for (let i = 0; i < 256; i++) assert.deepEqual(palette[i], devkitColour(i), `index ${i}`);
  });

  it('gives the well-known VOC colours', () => {
    const p = vocPalette();
    assert.deepEqual(p[0], [0, 0, 0]);
    assert.deepEqual(p[1], [128, 0, 0]); // aeroplane
    assert.deepEqual(p[15], [192, 128, 128]); // person
    assert.deepEqual(p[20], [0, 64, 128]); // tvmonitor
    assert.deepEqual(p[255], [224, 224, 192]); // void
  });

  it('vocColorToClass maps the first classes and void', () => {
    const table = vocColorToClass(21, 255);
    assert.equal(table['128,0,0'], 1);
    assert.equal(table['224,224,192'], 255);
    assert.equal(Object.keys(table).length, 22);
  });
});
