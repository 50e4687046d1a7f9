// Draws every channel of one saved activation (channel-major uint8, scaled per channel) into one RGBA buffer through a colour map, normalised per channel or per layer. DOM-free.
import type { ActivationHeader } from '../../../src/protocol/runFolder';
import { tileOrigin, type GridLayout } from './gridLayout';
import type { Rgb } from './labelPaint';

export type Normalisation = 'channel' | 'layer';

/** The float value of a stored byte: each channel was scaled from [min, max] to 0..255. */
export function activationValue(activation: Uint8Array, header: ActivationHeader, channel: number, x: number, y: number): number {
  const [h, w] = header.shape;
  const byte = activation[channel * h * w + y * w + x];
  return header.min[channel] + (byte / 255) * (header.max[channel] - header.min[channel]);
}

/**
 * Per channel, a 256-entry table from stored byte to colour-map index. Per channel: the identity (each channel uses the
 * whole map). Per layer: bytes go back to values and are rescaled to the layer's overall [min, max].
 */
export function byteToColorIndex(header: ActivationHeader, mode: Normalisation): Uint8Array[] {
  const channels = header.shape[2];
  const identity = new Uint8Array(256);
  for (let i = 0; i < 256; i++) identity[i] = i;
  if (mode === 'channel') {
    // A constant channel (min = max) carries no information: draw it at the bottom of the map.
    const flat = new Uint8Array(256);
    return Array.from({ length: channels }, (_, c) => (header.max[c] > header.min[c] ? identity : flat));
  }
  let lo = Infinity, hi = -Infinity;
  for (let c = 0; c < channels; c++) { lo = Math.min(lo, header.min[c]); hi = Math.max(hi, header.max[c]); }
  const range = hi > lo ? hi - lo : 1;
  return Array.from({ length: channels }, (_, c) => {
    const table = new Uint8Array(256);
    const min = header.min[c], span = header.max[c] - header.min[c];
    for (let i = 0; i < 256; i++) table[i] = Math.round(((min + (i / 255) * span - lo) / range) * 255);
    return table;
  });
}

export interface GridDrawOptions {
  layout: GridLayout;
  mode: Normalisation;
  /** 256 × RGB colour map. */
  lut: Uint8Array;
  /** Colour of the gaps between tiles. */
  background: Rgb;
  /** Channel drawn in each tile (default: 0..count-1). */
  order?: number[];
}

/** The LUT as packed RGBA words in the platform's byte order, so one store writes one pixel. */
function packedLut(lut: Uint8Array): Uint32Array {
  const packed = new Uint32Array(256);
  const bytes = new Uint8Array(packed.buffer);
  for (let i = 0; i < 256; i++) {
    bytes[i * 4] = lut[i * 3]; bytes[i * 4 + 1] = lut[i * 3 + 1]; bytes[i * 4 + 2] = lut[i * 3 + 2]; bytes[i * 4 + 3] = 255;
  }
  return packed;
}

function packedColor(r: number, g: number, b: number): number {
  return new Uint32Array(new Uint8Array([r, g, b, 255]).buffer)[0];
}

/** Fills `out` (RGBA, layout.width × layout.height) with the grid: one 32-bit store per pixel (256 channels of 32×32 take a few ms). */
export function drawFeatureGrid(activation: Uint8Array, header: ActivationHeader, out: Uint8ClampedArray, o: GridDrawOptions): void {
  const { layout } = o;
  const [h, w, channels] = header.shape;
  if (h !== layout.tileHeight || w !== layout.tileWidth) throw new Error(`tile ${layout.tileWidth}×${layout.tileHeight} does not match activation ${w}×${h}`);
  if (activation.length < h * w * channels) throw new Error(`activation has ${activation.length} bytes, header says ${h}×${w}×${channels}`);
  if (out.length < layout.width * layout.height * 4) throw new Error('output buffer is smaller than the grid');
  const pixels = new Uint32Array(out.buffer, out.byteOffset, layout.width * layout.height);
  pixels.fill(packedColor(o.background[0], o.background[1], o.background[2]));
  const lut = packedLut(o.lut);
  const tables = byteToColorIndex(header, o.mode);
  const plane = h * w;
  for (let tile = 0; tile < layout.count; tile++) {
    const channel = o.order ? o.order[tile] : tile;
    if (channel === undefined || channel >= channels) continue;
    const table = tables[channel];
    const { x: x0, y: y0 } = tileOrigin(layout, tile);
    let src = channel * plane;
    for (let y = 0; y < h; y++) {
      let dst = (y0 + y) * layout.width + x0;
      for (let x = 0; x < w; x++) pixels[dst++] = lut[table[activation[src++]]];
    }
  }
}

/** One channel alone (h × w RGBA), e.g. for the enlarged view and hover thumbnails. */
export function drawChannel(activation: Uint8Array, header: ActivationHeader, channel: number, mode: Normalisation, lut: Uint8Array, out: Uint8ClampedArray): void {
  const [h, w] = header.shape;
  const table = byteToColorIndex(header, mode)[channel];
  const base = channel * h * w;
  for (let i = 0; i < h * w; i++) {
    const c = table[activation[base + i]] * 3;
    out[i * 4] = lut[c]; out[i * 4 + 1] = lut[c + 1]; out[i * 4 + 2] = lut[c + 2]; out[i * 4 + 3] = 255;
  }
}
