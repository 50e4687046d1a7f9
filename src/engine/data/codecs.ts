// Image and mask codecs: JPEG/PNG bytes → RGB pixels or raw class indices, and label/RGB/gray maps → PNG bytes.
import { decode as decodePng, encode as encodePng, type DecodedPng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';

export interface DecodedImage {
  width: number;
  height: number;
  /** H*W*3, row-major. */
  rgb: Uint8Array;
}

/** How the label values were read: palette indices, gray values, or RGB colours mapped through a table. */
export type MaskKind = 'palette' | 'gray' | 'rgb';

export interface DecodedMask {
  width: number;
  height: number;
  /** H*W raw label values (ignore label included). */
  labels: Uint8Array;
  kind: MaskKind;
  /** RGB masks only: pixels whose colour is not in the table (written as the ignore label). */
  unknownColorPixels: number;
  /** RGB masks only: up to a few of the unknown colours, as "r,g,b". */
  unknownColors: string[];
}

export interface MaskDecodeOptions {
  /** "r,g,b" → class index, for RGB masks. */
  colorToClass?: Record<string, number>;
  /** Written for RGB pixels whose colour is not in the table. */
  ignoreLabel: number;
}

const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Raised for any file that cannot be decoded; the message names the file and the reason. */
export class DecodeError extends Error {
  constructor(readonly file: string, readonly why: string) {
    super(`${file}: ${why}`);
    this.name = 'DecodeError';
  }
}

type Container = 'png' | 'jpeg' | 'unknown';

function containerOf(bytes: Uint8Array): Container {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return 'unknown';
}

function readPng(bytes: Uint8Array, fileName: string): DecodedPng {
  try {
    const png = decodePng(bytes);
    const expected = png.depth < 8
      ? Math.ceil((png.width * png.depth) / 8) * png.height * png.channels
      : png.width * png.height * png.channels;
    if (png.width <= 0 || png.height <= 0 || png.data.length < expected) throw new Error('image data is incomplete');
    return png;
  } catch (e) {
    throw new DecodeError(fileName, `unreadable PNG (${(e as Error).message})`);
  }
}

/** PNG samples as one 8-bit value per channel: sub-byte depths unpacked (row-padded), 16-bit reduced to the high byte. */
function samples8(png: DecodedPng): Uint8Array {
  const { width, height, channels, depth, data } = png;
  if (depth === 8) return data instanceof Uint8Array ? data : Uint8Array.from(data);
  const out = new Uint8Array(width * height * channels);
  if (depth === 16) {
    for (let i = 0; i < out.length; i++) out[i] = data[i] >> 8;
    return out;
  }
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * channels; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      out[y * width * channels + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Gray sub-byte values are scaled to 0..255 for images (as a viewer would show them). */
function scaleGray(values: Uint8Array, depth: number): Uint8Array {
  if (depth >= 8) return values;
  const factor = 255 / ((1 << depth) - 1);
  return values.map((v) => Math.round(v * factor));
}

function pngToRgb(png: DecodedPng, fileName: string): Uint8Array {
  const values = samples8(png);
  const n = png.width * png.height;
  const rgb = new Uint8Array(n * 3);
  if (png.palette) {
    const palette = png.palette;
    for (let i = 0; i < n; i++) {
      const color = palette[values[i]];
      if (!color) throw new DecodeError(fileName, `palette index ${values[i]} outside the palette`);
      rgb[i * 3] = color[0]; rgb[i * 3 + 1] = color[1]; rgb[i * 3 + 2] = color[2];
    }
    return rgb;
  }
  const c = png.channels;
  const v = c <= 2 ? scaleGray(values, png.depth) : values;
  for (let i = 0; i < n; i++) {
    if (c <= 2) {
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = v[i * c];
    } else {
      rgb[i * 3] = v[i * c]; rgb[i * 3 + 1] = v[i * c + 1]; rgb[i * 3 + 2] = v[i * c + 2];
    }
  }
  return rgb;
}

/** Decodes a JPEG or PNG photo (recognised by its signature, not its name) to RGB; alpha is dropped. */
export function decodeImage(bytes: Uint8Array, fileName: string): DecodedImage {
  const container = containerOf(bytes);
  if (container === 'png') {
    const png = readPng(bytes, fileName);
    return { width: png.width, height: png.height, rgb: pngToRgb(png, fileName) };
  }
  if (container === 'jpeg') {
    try {
      const jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
      if (!jpeg.width || !jpeg.height || jpeg.data.length < jpeg.width * jpeg.height * 3) throw new Error('no image data');
      return { width: jpeg.width, height: jpeg.height, rgb: jpeg.data };
    } catch (e) {
      throw new DecodeError(fileName, `unreadable JPEG (${(e as Error).message})`);
    }
  }
  throw new DecodeError(fileName, 'neither a PNG nor a JPEG file');
}

/**
 * Decodes a mask to raw label values: a palette PNG gives its palette indices (never its colours), an 8-bit gray PNG
 * its gray values, an RGB(A) PNG its colours looked up in `colorToClass` (unknown colours → ignore label).
 */
export function decodeMask(bytes: Uint8Array, fileName: string, opts: MaskDecodeOptions): DecodedMask {
  const container = containerOf(bytes);
  if (container === 'jpeg') throw new DecodeError(fileName, 'mask is a JPEG; lossy compression changes label values, use PNG');
  if (container !== 'png') throw new DecodeError(fileName, 'mask is not a PNG file');
  const png = readPng(bytes, fileName);
  const { width, height, channels } = png;
  const n = width * height;
  const values = samples8(png);
  const base = { width, height, unknownColorPixels: 0, unknownColors: [] as string[] };
  if (png.palette) return { ...base, labels: values, kind: 'palette' };
  if (channels <= 2) {
    if (png.depth === 16) {
      const raw = png.data;
      for (let i = 0; i < n; i++) {
        if (raw[i * channels] > 255) throw new DecodeError(fileName, `16-bit gray mask holds value ${raw[i * channels]} > 255`);
      }
      const labels = new Uint8Array(n);
      for (let i = 0; i < n; i++) labels[i] = raw[i * channels];
      return { ...base, labels, kind: 'gray' };
    }
    const labels = channels === 1 ? values : new Uint8Array(n).map((_, i) => values[i * 2]);
    return { ...base, labels, kind: 'gray' };
  }
  const table = opts.colorToClass ?? {};
  const lookup = new Map<number, number>();
  for (const [key, cls] of Object.entries(table)) {
    const parts = key.split(',').map((p) => Number(p.trim()));
    if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) continue;
    lookup.set((parts[0] << 16) | (parts[1] << 8) | parts[2], cls);
  }
  const labels = new Uint8Array(n);
  let unknownColorPixels = 0;
  const unknownColors = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = values[i * channels], g = values[i * channels + 1], b = values[i * channels + 2];
    const cls = lookup.get((r << 16) | (g << 8) | b);
    if (cls === undefined) {
      labels[i] = opts.ignoreLabel;
      unknownColorPixels++;
      if (unknownColors.size < 8) unknownColors.add(`${r},${g},${b}`);
    } else {
      labels[i] = cls;
    }
  }
  return { width, height, labels, kind: 'rgb', unknownColorPixels, unknownColors: [...unknownColors] };
}

/** 8-bit palette PNG whose pixel values are `indices` (palette padded to 256 entries so every index is valid). */
export function encodePalettePng(
  indices: Uint8Array, width: number, height: number, palette: [number, number, number][],
): Uint8Array {
  checkSize(indices, width, height, 1);
  const full: number[][] = [];
  for (let i = 0; i < 256; i++) full.push(palette[i] ? [...palette[i]] : [0, 0, 0]);
  return encodePng({ width, height, data: indices, depth: 8, channels: 1, palette: full });
}

export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  checkSize(rgb, width, height, 3);
  return encodePng({ width, height, data: rgb, depth: 8, channels: 3 });
}

export function encodeGrayPng(gray: Uint8Array, width: number, height: number): Uint8Array {
  checkSize(gray, width, height, 1);
  return encodePng({ width, height, data: gray, depth: 8, channels: 1 });
}

function checkSize(data: Uint8Array, width: number, height: number, channels: number): void {
  if (data.length !== width * height * channels) {
    throw new Error(`expected ${width}x${height}x${channels} = ${width * height * channels} values, got ${data.length}`);
  }
}
