// Renders the strongest channels of one saved activation (.u8 + header) as a small PNG grid for the editor hover, as a
// base64 data URI of bounded size. Pure: no vscode, no files; the colours are the dashboard's (same colour maps, same
// per-channel scaling).
import { encode as encodePng } from 'fast-png';
import type { ActivationHeader } from '../protocol/runFolder';
import { colormap, type ColormapName } from '../../webview/src/model/colormap';
import { drawChannel } from '../../webview/src/model/featureGrid';

export interface ThumbnailOptions {
  /** How many channels, strongest first (header.strongest). */
  channels: number;
  columns: number;
  /** Longer side of one tile in pixels; the shorter side keeps the activation's aspect ratio. */
  tile: number;
  /** Transparent pixels between tiles, so the hover's own background shows through. */
  gap: number;
  colormap: ColormapName;
}

export const DEFAULT_THUMBNAIL: ThumbnailOptions = { channels: 8, columns: 4, tile: 48, gap: 2, colormap: 'viridis' };

/** Hovers carry the image inline: keep the base64 text below this many characters. */
export const MAX_DATA_URI_CHARS = 40_000;

export interface ThumbnailGrid {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  columns: number;
  /** Channel drawn in each tile, row by row. */
  channels: number[];
  /** RGBA, width × height; gaps are transparent. */
  rgba: Uint8Array;
}

/** Draws the strongest channels, each resampled (nearest neighbour) to a tile and coloured through the colour map. */
export function renderThumbnailGrid(activation: Uint8Array, header: ActivationHeader, options: ThumbnailOptions = DEFAULT_THUMBNAIL): ThumbnailGrid {
  const [h, w, count] = header.shape;
  if (activation.length < h * w * count) throw new Error(`activation of ${header.layer} has ${activation.length} bytes, header says ${h}×${w}×${count}`);
  const order = header.strongest.length === count ? header.strongest : Array.from({ length: count }, (_, i) => i);
  const channels = order.slice(0, Math.max(1, options.channels));
  const columns = Math.max(1, Math.min(options.columns, channels.length));
  const rows = Math.ceil(channels.length / columns);
  const tileWidth = w >= h ? options.tile : Math.max(1, Math.round((options.tile * w) / h));
  const tileHeight = h >= w ? options.tile : Math.max(1, Math.round((options.tile * h) / w));
  const width = columns * tileWidth + (columns - 1) * options.gap;
  const height = rows * tileHeight + (rows - 1) * options.gap;
  const rgba = new Uint8Array(width * height * 4);
  const lut = colormap(options.colormap);
  const plane = new Uint8ClampedArray(h * w * 4);
  // Source column and row of each tile pixel: the centre of the tile pixel, mapped back onto the activation.
  const sourceX = Array.from({ length: tileWidth }, (_, x) => Math.min(w - 1, Math.floor(((x + 0.5) * w) / tileWidth)));
  const sourceY = Array.from({ length: tileHeight }, (_, y) => Math.min(h - 1, Math.floor(((y + 0.5) * h) / tileHeight)));
  channels.forEach((channel, tile) => {
    drawChannel(activation, header, channel, 'channel', lut, plane);
    const x0 = (tile % columns) * (tileWidth + options.gap);
    const y0 = Math.floor(tile / columns) * (tileHeight + options.gap);
    for (let y = 0; y < tileHeight; y++) {
      const rowStart = sourceY[y] * w;
      let dst = ((y0 + y) * width + x0) * 4;
      for (let x = 0; x < tileWidth; x++, dst += 4) {
        const src = (rowStart + sourceX[x]) * 4;
        rgba[dst] = plane[src]; rgba[dst + 1] = plane[src + 1]; rgba[dst + 2] = plane[src + 2]; rgba[dst + 3] = 255;
      }
    }
  });
  return { width, height, tileWidth, tileHeight, columns, channels, rgba };
}

export function thumbnailPng(grid: ThumbnailGrid): Uint8Array {
  return encodePng({ width: grid.width, height: grid.height, data: grid.rgba, depth: 8, channels: 4 });
}

export interface ThumbnailImage {
  /** `data:image/png;base64,…` */
  dataUri: string;
  width: number;
  height: number;
  channels: number[];
}

/**
 * The grid as a PNG data URI no longer than `maxChars`: if the first try is too big (large, noisy activations compress
 * badly) the tiles shrink, then the channel count halves; undefined if even the smallest grid does not fit.
 */
export function thumbnailDataUri(activation: Uint8Array, header: ActivationHeader, options: ThumbnailOptions = DEFAULT_THUMBNAIL, maxChars = MAX_DATA_URI_CHARS): ThumbnailImage | undefined {
  const tries: ThumbnailOptions[] = [];
  for (const channels of [options.channels, Math.ceil(options.channels / 2)]) {
    for (const tile of [options.tile, Math.round(options.tile * 0.75), Math.round(options.tile / 2)]) tries.push({ ...options, channels, tile });
  }
  for (const attempt of tries) {
    const grid = renderThumbnailGrid(activation, header, attempt);
    const dataUri = `data:image/png;base64,${Buffer.from(thumbnailPng(grid)).toString('base64')}`;
    if (dataUri.length <= maxChars) return { dataUri, width: grid.width, height: grid.height, channels: grid.channels };
  }
  return undefined;
}
