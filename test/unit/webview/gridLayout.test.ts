// Feature grid layout: tiles fit, never overlap, and hit-testing maps every pixel back to its tile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridLayout, tileAt, tileOrigin } from '../../../webview/src/model/gridLayout';

const cases: [number, number, number][] = [[1, 64, 600], [8, 64, 600], [32, 32, 400], [64, 32, 700], [256, 32, 700], [300, 16, 350], [512, 8, 1200], [7, 128, 200]];

for (const [count, tile, width] of cases) {
  test(`${count} tiles of ${tile}px in ${width}px`, () => {
    const layout = gridLayout(count, tile, tile, width, { minTile: 20, maxTile: 128 });
    assert.ok(layout.columns * layout.rows >= count);
    assert.ok((layout.rows - 1) * layout.columns < count, 'no empty last row');
    assert.equal(layout.width, layout.columns * tile + (layout.columns - 1) * layout.gap);
    const shown = layout.width * layout.scale;
    if (layout.columns > 1) assert.ok(shown <= width + 1e-6, `shown ${shown} > ${width}`);
    assert.ok(tile * layout.scale >= 20 - 1e-9 && tile * layout.scale <= 128 + 1e-9);
    const covered = new Uint8Array(layout.width * layout.height);
    for (let i = 0; i < count; i++) {
      const { x, y } = tileOrigin(layout, i);
      assert.ok(x + tile <= layout.width && y + tile <= layout.height, `tile ${i} outside`);
      for (const [dx, dy] of [[0, 0], [tile - 1, 0], [0, tile - 1], [tile - 1, tile - 1], [tile >> 1, tile >> 1]]) {
        assert.equal(tileAt(layout, x + dx, y + dy), i);
      }
      for (let yy = y; yy < y + tile; yy++) for (let xx = x; xx < x + tile; xx++) {
        assert.equal(covered[yy * layout.width + xx], 0, 'overlap');
        covered[yy * layout.width + xx] = 1;
      }
    }
    if (layout.columns > 1) assert.equal(tileAt(layout, tile, 0), -1, 'gap is no tile');
    assert.equal(tileAt(layout, -1, 0), -1);
    assert.equal(tileAt(layout, layout.width, 0), -1);
  });
}
