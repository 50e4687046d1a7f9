// Writes the built-in demo dataset: synthetic VOC-layout images of textured shapes, palette masks with void borders, and a segscope.json.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import type { SegScopeConfig } from '../../protocol/config';
import { encodePalettePng } from './codecs';
import { VOC_DIRS } from './layout';
import { vocPalette } from './palette';
import { hashSeed, seededRandom, shuffled } from './random';

export interface DemoOptions {
  /** Number of object classes (background comes on top). 1..20. Default 4. */
  classes?: number;
  /** Number of images. Default 200. */
  count?: number;
  /** Image side in pixels. Default 128. */
  size?: number;
  seed?: number;
}

export interface DemoResult {
  dir: string;
  configPath: string;
  /** Class names, index = label value ('background' first). */
  classes: string[];
  train: string[];
  val: string[];
}

export const DEMO_VOID = 255;
const MAX_OBJECT_CLASSES = 20;
const JPEG_QUALITY = 90;

const SHAPES = ['disc', 'square', 'triangle', 'ring', 'cross', 'diamond', 'star', 'ellipse'] as const;
type Shape = (typeof SHAPES)[number];
const TEXTURES = ['stripes', 'checker', 'dots', 'gradient', 'speckle', 'rings'] as const;
type Texture = (typeof TEXTURES)[number];

interface ObjectClass {
  name: string;
  shape: Shape;
  texture: Texture;
  /** Centre of the class' hue range (0..1); ranges overlap so that colour alone does not give the class away. */
  hue: number;
}

/**
 * The segscope.json written next to the demo data: the one place where the demo's model and training settings live.
 * Must train to val mIoU ≥ 0.7 within 10 minutes on wasm (2 cores).
 */
export function demoConfig(classes: string[], size: number, watchImages: string[]): SegScopeConfig {
  return {
    name: 'demo',
    seed: 1,
    backend: 'auto',
    data: {
      format: 'voc',
      root: '.',
      trainSplit: 'train',
      valSplit: 'val',
      classes,
      ignoreLabel: DEMO_VOID,
      inputSize: Math.min(size, 128),
      normalize: '-1..1',
      maskResize: 'nearest',
      augment: { scale: [0.75, 1.5], flip: true, crop: true },
    },
    model: { arch: 'unet', width: 0.5 },
    train: {
      epochs: 30,
      batchSize: 8,
      optimizer: { name: 'adam', learningRate: 0.005 },
      schedule: { type: 'poly', power: 0.9 },
    },
    loss: { type: 'ce' },
    watch: { images: watchImages.slice(0, 4), layers: ['encoder/level1/conv2_relu', 'encoder/level3/conv2_relu', 'bottleneck/conv2_relu'] },
  };
}

export function demoClasses(count: number): ObjectClass[] {
  const out: ObjectClass[] = [];
  for (let k = 0; k < count; k++) {
    const shape = SHAPES[k % SHAPES.length];
    const texture = TEXTURES[k % TEXTURES.length];
    out.push({ name: k < SHAPES.length ? shape : `${shape}-${texture}`, shape, texture, hue: k / count });
  }
  return out;
}

/** Writes count images into dir in the VOC layout and a segscope.json; returns what it wrote. */
export async function makeDemoData(dir: string, opts: DemoOptions = {}): Promise<DemoResult> {
  const k = opts.classes ?? 4;
  const count = opts.count ?? 200;
  const size = opts.size ?? 128;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > MAX_OBJECT_CLASSES) throw new Error(`--classes must be 1..${MAX_OBJECT_CLASSES}, got ${k}`);
  if (!Number.isInteger(count) || count < 2) throw new Error(`--count must be an integer ≥ 2, got ${count}`);
  if (!Number.isInteger(size) || size < 16 || size > 2048) throw new Error(`--size must be 16..2048, got ${size}`);
  const objectClasses = demoClasses(k);
  const classes = ['background', ...objectClasses.map((c) => c.name)];
  const palette = vocPalette();

  await mkdir(path.join(dir, VOC_DIRS.images), { recursive: true });
  await mkdir(path.join(dir, VOC_DIRS.masks), { recursive: true });
  await mkdir(path.join(dir, VOC_DIRS.splits), { recursive: true });

  const digits = Math.max(4, String(count).length);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `demo_${String(i + 1).padStart(digits, '0')}`;
    ids.push(id);
    const { rgb, labels } = renderDemoImage(size, objectClasses, seededRandom(hashSeed(seed, 'image', i)));
    const rgba = new Uint8Array(size * size * 4);
    for (let p = 0; p < size * size; p++) {
      rgba[p * 4] = rgb[p * 3]; rgba[p * 4 + 1] = rgb[p * 3 + 1]; rgba[p * 4 + 2] = rgb[p * 3 + 2]; rgba[p * 4 + 3] = 255;
    }
    const jpeg = encodeJpeg({ data: rgba, width: size, height: size }, JPEG_QUALITY).data;
    await writeFile(path.join(dir, VOC_DIRS.images, `${id}.jpg`), jpeg);
    await writeFile(path.join(dir, VOC_DIRS.masks, `${id}.png`), encodePalettePng(labels, size, size, palette));
  }

  const valCount = Math.max(1, Math.min(count - 1, Math.max(4, Math.round(count * 0.2))));
  const order = shuffled(ids, seededRandom(hashSeed(seed, 'split')));
  const val = order.slice(0, valCount).sort();
  const train = order.slice(valCount).sort();
  const splits = path.join(dir, VOC_DIRS.splits);
  await writeFile(path.join(splits, 'train.txt'), `${train.join('\n')}\n`);
  await writeFile(path.join(splits, 'val.txt'), `${val.join('\n')}\n`);
  await writeFile(path.join(splits, 'trainval.txt'), `${[...ids].sort().join('\n')}\n`);

  const configPath = path.join(dir, 'segscope.json');
  await writeFile(configPath, `${JSON.stringify(demoConfig(classes, size, val), null, 2)}\n`);
  return { dir, configPath, classes, train, val };
}

/** One demo image and its label map (0 background, 1..K objects, 255 a ~3 px void band at every object's edge). */
export function renderDemoImage(
  size: number, objectClasses: ObjectClass[], random: () => number,
): { rgb: Uint8Array; labels: Uint8Array } {
  const n = size * size;
  const image = new Float32Array(n * 3);
  paintBackground(image, size, random);
  const labels = new Uint8Array(n);
  const objectCount = 1 + Math.floor(random() * 4);
  const regions: Uint8Array[] = [];
  for (let o = 0; o < objectCount; o++) {
    const cls = Math.floor(random() * objectClasses.length);
    const region = paintObject(image, labels, size, objectClasses[cls], cls + 1, random);
    for (const r of regions) for (let p = 0; p < n; p++) if (region[p]) r[p] = 0;
    regions.push(region);
  }
  const noise = 10 + random() * 10;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) rgb[i] = clamp255(image[i] + (random() * 2 - 1) * noise);
  for (const region of regions) markVoidBorder(labels, region, size);
  return { rgb, labels };
}

/** Low-frequency colour waves plus fine noise, in a random colour: textured, but unlike any object texture. */
function paintBackground(image: Float32Array, size: number, random: () => number): void {
  const base = hsvToRgb(random(), 0.15 + random() * 0.45, 0.3 + random() * 0.5);
  const waves = Array.from({ length: 3 }, () => ({
    fx: (random() * 2 - 1) / (size * 0.3), fy: (random() * 2 - 1) / (size * 0.3), phase: random() * 6.283,
    amp: [0, 1, 2].map(() => 10 + random() * 25),
  }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        let v = base[c];
        for (const w of waves) v += w.amp[c] * Math.sin(6.283 * (w.fx * x + w.fy * y) + w.phase);
        image[o + c] = v;
      }
    }
  }
}

/** Draws one object over what is there; returns its region (1 = drawn) and writes its label. */
function paintObject(
  image: Float32Array, labels: Uint8Array, size: number, cls: ObjectClass, label: number, random: () => number,
): Uint8Array {
  const radius = size * (0.14 + random() * 0.13);
  const cx = size * (0.15 + random() * 0.7), cy = size * (0.15 + random() * 0.7);
  const angle = random() * Math.PI * 2;
  const hue = (cls.hue + (random() * 2 - 1) * 0.3 + 1) % 1;
  const light = hsvToRgb(hue, 0.35 + random() * 0.55, 0.65 + random() * 0.35);
  const dark = hsvToRgb((hue + (random() * 2 - 1) * 0.08 + 1) % 1, 0.5 + random() * 0.5, 0.15 + random() * 0.3);
  const period = 4 + random() * 4;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const region = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Object-local coordinates, rotated, in units of the radius.
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const u = (dx * cos + dy * sin) / radius, v = (-dx * sin + dy * cos) / radius;
      if (!insideShape(cls.shape, u, v)) continue;
      const t = textureAt(cls.texture, dx * cos + dy * sin, -dx * sin + dy * cos, period, radius, random);
      const p = y * size + x;
      region[p] = 1;
      labels[p] = label;
      for (let c = 0; c < 3; c++) image[p * 3 + c] = light[c] * (1 - t) + dark[c] * t;
    }
  }
  return region;
}

function insideShape(shape: Shape, u: number, v: number): boolean {
  const r = Math.hypot(u, v);
  switch (shape) {
    case 'disc': return r <= 1;
    case 'square': return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
    case 'triangle': return v <= 0.6 && Math.abs(u) <= (v + 1) * 0.7;
    case 'ring': return r <= 1 && r >= 0.55;
    case 'cross': return (Math.abs(u) <= 1 && Math.abs(v) <= 0.3) || (Math.abs(v) <= 1 && Math.abs(u) <= 0.3);
    case 'diamond': return Math.abs(u) + Math.abs(v) <= 1;
    case 'star': {
      const a = Math.atan2(v, u);
      return r <= 0.55 + 0.45 * Math.pow(Math.abs(Math.cos(2.5 * a)), 2);
    }
    case 'ellipse': return (u * u) / 1 + (v * v) / 0.3 <= 1;
  }
}

/** 0 = light colour, 1 = dark colour, at object-local pixel offset (a, b). */
function textureAt(texture: Texture, a: number, b: number, period: number, radius: number, random: () => number): number {
  switch (texture) {
    case 'stripes': return Math.sin((a / period) * 6.283) > 0 ? 1 : 0;
    case 'checker': return (Math.floor(a / (period * 0.6)) + Math.floor(b / (period * 0.6))) & 1;
    case 'dots': {
      const cell = period * 1.2;
      const da = a - (Math.floor(a / cell) + 0.5) * cell, db = b - (Math.floor(b / cell) + 0.5) * cell;
      return Math.hypot(da, db) < cell * 0.3 ? 1 : 0;
    }
    case 'gradient': return Math.min(1, Math.hypot(a, b) / radius);
    case 'speckle': return random() < 0.5 ? 1 : 0;
    case 'rings': return Math.sin((Math.hypot(a, b) / period) * 6.283) > 0 ? 1 : 0;
  }
}

/** VOC-style void band: 2 px outside and 1 px inside the visible outline of the object. */
function markVoidBorder(labels: Uint8Array, region: Uint8Array, size: number): void {
  const outside: [number, number][] = [];
  for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (dx * dx + dy * dy <= 4 && (dx || dy)) outside.push([dx, dy]);
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < size && y < size && region[y * size + x] === 1;
  // The image edge is not an outline: pixels beyond it count as inside.
  const insideOrBeyond = (x: number, y: number) => x < 0 || y < 0 || x >= size || y >= size || region[y * size + x] === 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      if (region[p]) {
        if (!insideOrBeyond(x - 1, y) || !insideOrBeyond(x + 1, y) || !insideOrBeyond(x, y - 1) || !insideOrBeyond(x, y + 1)) {
          labels[p] = DEMO_VOID;
        }
      } else if (outside.some(([dx, dy]) => at(x + dx, y + dy))) {
        labels[p] = DEMO_VOID;
      }
    }
  }
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6), f = h * 6 - i;
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [r * 255, g * 255, b * 255];
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
