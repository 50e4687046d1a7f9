// Test fixtures for the data tests, written with encoders other than the loader's (sharp, pngjs, a PNG writer built on node:zlib).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import sharp from 'sharp';

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `segscope-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A palette PNG (colour type 3) written chunk by chunk, so that the pixel values are exactly `indices`
 * (sharp's palette mode re-quantises and renumbers indices; pngjs cannot write palettes). depth 1/2/4/8.
 */
export function palettePng(
  indices: ArrayLike<number>, width: number, height: number, palette: [number, number, number][], depth: 1 | 2 | 4 | 8 = 8,
): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = depth; header[9] = 3; header[10] = 0; header[11] = 0; header[12] = 0;
  const rowBytes = Math.ceil((width * depth) / 8);
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      raw[y * (rowBytes + 1) + 1 + (bit >> 3)] |= indices[y * width + x] << (8 - depth - (bit & 7));
    }
  }
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((c, i) => plte.set(c, i * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('PLTE', plte), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function grayPng(values: ArrayLike<number>, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(Array.from(values));
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

export function rgbPng(rgb: ArrayLike<number>, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(Array.from(rgb));
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

export async function jpeg(rgb: ArrayLike<number>, width: number, height: number, quality = 95): Promise<Buffer> {
  return sharp(Buffer.from(Array.from(rgb)), { raw: { width, height, channels: 3 } }).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

/** sharp's (libjpeg/libpng) decode of a file to raw RGB, as the reference the loader is compared with. */
export async function sharpRgb(file: string | Buffer): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

/** A smooth, varied photo-like image (JPEG survives it well). */
export function smoothImage(width: number, height: number, seed = 0): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      rgb[o] = 128 + 100 * Math.sin((x + seed) / 9);
      rgb[o + 1] = 128 + 100 * Math.cos((y + 2 * seed) / 7);
      rgb[o + 2] = ((x + y + seed) * 2) % 256;
    }
  }
  return rgb;
}

/** A label map of axis-aligned blocks with a void (255) border of `border` px around each block. */
export function blockMask(width: number, height: number, blocks: { x: number; y: number; w: number; h: number; label: number }[], border = 0, ignore = 255): Uint8Array {
  const labels = new Uint8Array(width * height);
  for (const b of blocks) {
    for (let y = b.y - border; y < b.y + b.h + border; y++) {
      for (let x = b.x - border; x < b.x + b.w + border; x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const inside = x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h;
        const innerEdge = inside && (x < b.x + border || x >= b.x + b.w - border || y < b.y + border || y >= b.y + b.h - border);
        labels[y * width + x] = inside && !innerEdge ? b.label : ignore;
      }
    }
  }
  return labels;
}

export interface FixtureSample {
  id: string;
  width: number;
  height: number;
  labels: Uint8Array;
  /** How the mask is written (default palette). */
  mask?: 'palette' | 'gray' | 'rgb';
}

/** Writes a VOC-layout tree: JPEGImages/*.jpg (sharp), SegmentationClass/*.png, ImageSets/Segmentation/<split>.txt. */
export async function writeVoc(
  root: string, samples: FixtureSample[], splits: Record<string, string[]>, palette: [number, number, number][],
): Promise<void> {
  for (const sub of ['JPEGImages', 'SegmentationClass', path.join('ImageSets', 'Segmentation')]) mkdirSync(path.join(root, sub), { recursive: true });
  for (const s of samples) {
    writeFileSync(path.join(root, 'JPEGImages', `${s.id}.jpg`), await jpeg(labelColouredImage(s.labels, s.width, s.height), s.width, s.height));
    writeFileSync(path.join(root, 'SegmentationClass', `${s.id}.png`), maskBytes(s, palette));
  }
  for (const [name, ids] of Object.entries(splits)) writeFileSync(path.join(root, 'ImageSets', 'Segmentation', `${name}.txt`), `${ids.join('\n')}\n`);
}

export function maskBytes(s: FixtureSample, palette: [number, number, number][]): Buffer {
  if (s.mask === 'gray') return grayPng(s.labels, s.width, s.height);
  if (s.mask === 'rgb') {
    const rgb = new Uint8Array(s.width * s.height * 3);
    s.labels.forEach((v, i) => rgb.set(palette[v], i * 3));
    return rgbPng(rgb, s.width, s.height);
  }
  return palettePng(s.labels, s.width, s.height, palette);
}

/** An image whose colour tells the label (so alignment of image and mask can be checked after augmentation). */
export function labelColouredImage(labels: Uint8Array, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  labels.forEach((v, i) => {
    const c = labelColour(v);
    rgb[i * 3] = c[0]; rgb[i * 3 + 1] = c[1]; rgb[i * 3 + 2] = c[2];
  });
  return rgb;
}

export function labelColour(label: number): [number, number, number] {
  return label === 255 ? [128, 128, 128] : [(label * 60) % 256, 255 - ((label * 60) % 256), (label * 110) % 256];
}
