// Lays out a grid of equally sized tiles (feature-map channels) to fit a width, and maps canvas pixels back to tiles. DOM-free.

export interface GridLayout {
  count: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  /** Gap between tiles, in native pixels. */
  gap: number;
  /** Size of the drawing buffer in native pixels. */
  width: number;
  height: number;
  /** CSS pixels per native pixel when shown. */
  scale: number;
}

export interface GridOptions {
  /** Smallest and largest tile size on screen, in CSS pixels. */
  minTile?: number;
  maxTile?: number;
  gap?: number;
}

/** Columns ≈ √count, shrunk or grown so that each tile shows at minTile..maxTile CSS pixels within `availableWidth`. */
export function gridLayout(count: number, tileWidth: number, tileHeight: number, availableWidth: number, options: GridOptions = {}): GridLayout {
  const minTile = options.minTile ?? 24;
  const maxTile = options.maxTile ?? 128;
  const gap = options.gap ?? 1;
  const n = Math.max(1, count);
  const width = Math.max(1, availableWidth);
  const squareColumns = Math.ceil(Math.sqrt(n));
  const shown = Math.max(minTile, Math.min(maxTile, Math.floor(width / squareColumns)));
  const scale = shown / tileWidth;
  const columns = Math.max(1, Math.min(n, Math.floor((width + gap * scale) / ((tileWidth + gap) * scale))));
  const rows = Math.ceil(n / columns);
  return {
    count, columns, rows, tileWidth, tileHeight, gap, scale,
    width: columns * tileWidth + (columns - 1) * gap,
    height: rows * tileHeight + (rows - 1) * gap,
  };
}

/** Top-left corner of tile `index` in native pixels. */
export function tileOrigin(layout: GridLayout, index: number): { x: number; y: number } {
  const column = index % layout.columns;
  const row = Math.floor(index / layout.columns);
  return { x: column * (layout.tileWidth + layout.gap), y: row * (layout.tileHeight + layout.gap) };
}

/** The tile under a native pixel, or -1 (gap or outside). */
export function tileAt(layout: GridLayout, x: number, y: number): number {
  if (x < 0 || y < 0 || x >= layout.width || y >= layout.height) return -1;
  const column = Math.floor(x / (layout.tileWidth + layout.gap));
  const row = Math.floor(y / (layout.tileHeight + layout.gap));
  if (x - column * (layout.tileWidth + layout.gap) >= layout.tileWidth) return -1;
  if (y - row * (layout.tileHeight + layout.gap) >= layout.tileHeight) return -1;
  const index = row * layout.columns + column;
  return index < layout.count ? index : -1;
}
