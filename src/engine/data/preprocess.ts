// DeepLab-style preprocessing: scale keeping the aspect ratio, pad (image: mean colour, mask: ignore label), crop, flip, normalise.
import type { Normalization } from '../../protocol/config';

/**
 * Where the S×S network input comes from: the image is resized by `scale` (same factor on both axes), and output pixel
 * (x, y) shows pixel (x + offsetX, y + offsetY) of the resized image; outside it is padding. `flip` mirrors the output.
 */
export interface Placement {
  scale: number;
  offsetX: number;
  offsetY: number;
  flip: boolean;
}

export interface AugmentOptions {
  /** Random scale factor range on top of fitting the image into the input (DeepLab: 0.5–2.0). */
  scale: [number, number];
  flip: boolean;
  /** Random crop position; false: centred. */
  crop: boolean;
}

export interface RenderOptions {
  size: number;
  ignoreLabel: number;
  maskResize: 'nearest' | 'bilinear';
  normalize: Normalization;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** The colour used to pad images: the normalisation's mean, so that padding becomes (about) zero after normalising. */
export function padColor(mode: Normalization): [number, number, number] {
  if (mode === 'imagenet') return IMAGENET_MEAN.map((m) => Math.round(m * 255)) as [number, number, number];
  if (mode === '-1..1') return [128, 128, 128];
  return [0, 0, 0];
}

/** Evaluation: the whole image fitted into the input (longer side = size), centred, padded, no randomness. */
export function evalPlacement(width: number, height: number, size: number): Placement {
  const scale = size / Math.max(width, height);
  return centred(width, height, size, scale, false);
}

/**
 * Training: fit the image into the input, multiply by a random factor in `augment.scale`, then crop a random window
 * (DeepLab pads bottom/right when the scaled image is smaller than the input), then flip with probability 1/2.
 */
export function trainPlacement(
  width: number, height: number, size: number, augment: AugmentOptions, random: () => number,
): Placement {
  const [lo, hi] = augment.scale;
  const factor = lo + (hi - lo) * random();
  const scale = (size / Math.max(width, height)) * factor;
  const flip = augment.flip && random() < 0.5;
  if (!augment.crop) return centred(width, height, size, scale, flip);
  const [sw, sh] = scaledSize(width, height, scale);
  const offsetX = sw > size ? Math.floor(random() * (sw - size + 1)) : 0;
  const offsetY = sh > size ? Math.floor(random() * (sh - size + 1)) : 0;
  return { scale, offsetX, offsetY, flip };
}

function centred(width: number, height: number, size: number, scale: number, flip: boolean): Placement {
  const [sw, sh] = scaledSize(width, height, scale);
  return { scale, offsetX: Math.floor((sw - size) / 2), offsetY: Math.floor((sh - size) / 2), flip };
}

/** Size of the resized image, as an image resize would produce it. */
export function scaledSize(width: number, height: number, scale: number): [number, number] {
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** Per output column (or row): the source pixel pair and weight for bilinear, the source pixel for nearest, -1 for padding. */
interface AxisMap {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float32Array;
  nearest: Int32Array;
}

function axisMap(size: number, sourceLength: number, scaledLength: number, offset: number, flip: boolean): AxisMap {
  const lo = new Int32Array(size), hi = new Int32Array(size), nearest = new Int32Array(size);
  const weight = new Float32Array(size);
  const ratio = scaledLength / sourceLength;
  for (let i = 0; i < size; i++) {
    const u = (flip ? size - 1 - i : i) + offset;
    if (u < 0 || u >= scaledLength) {
      lo[i] = hi[i] = nearest[i] = -1;
      continue;
    }
    // Half-pixel centres, as tf.image.resize with halfPixelCenters.
    const src = Math.min(Math.max((u + 0.5) / ratio - 0.5, 0), sourceLength - 1);
    lo[i] = Math.floor(src);
    hi[i] = Math.min(lo[i] + 1, sourceLength - 1);
    weight[i] = src - lo[i];
    nearest[i] = Math.min(Math.floor((u + 0.5) / ratio), sourceLength - 1);
  }
  return { lo, hi, weight, nearest };
}

/** Resizes (bilinear), pads with `pad` and crops an RGB image into size×size according to the placement. */
export function placeImage(
  rgb: Uint8Array, width: number, height: number, p: Placement, size: number, pad: [number, number, number],
): Uint8Array {
  const [sw, sh] = scaledSize(width, height, p.scale);
  const xs = axisMap(size, width, sw, p.offsetX, p.flip);
  const ys = axisMap(size, height, sh, p.offsetY, false);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const y0 = ys.lo[y], y1 = ys.hi[y], wy = ys.weight[y];
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const x0 = xs.lo[x], x1 = xs.hi[x], wx = xs.weight[x];
      if (y0 < 0 || x0 < 0) {
        out[o] = pad[0]; out[o + 1] = pad[1]; out[o + 2] = pad[2];
        continue;
      }
      const a = (y0 * width + x0) * 3, b = (y0 * width + x1) * 3, c = (y1 * width + x0) * 3, d = (y1 * width + x1) * 3;
      for (let k = 0; k < 3; k++) {
        const top = rgb[a + k] + (rgb[b + k] - rgb[a + k]) * wx;
        const bottom = rgb[c + k] + (rgb[d + k] - rgb[c + k]) * wx;
        out[o + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return out;
}

/**
 * Same geometry for the mask. 'nearest' only ever copies existing label values; 'bilinear' interpolates label values
 * as numbers (the classic bug: it invents labels between classes and between a class and the ignore label).
 */
export function placeMask(
  labels: Uint8Array, width: number, height: number, p: Placement, size: number, ignoreLabel: number,
  mode: 'nearest' | 'bilinear',
): Uint8Array {
  const [sw, sh] = scaledSize(width, height, p.scale);
  const xs = axisMap(size, width, sw, p.offsetX, p.flip);
  const ys = axisMap(size, height, sh, p.offsetY, false);
  const out = new Uint8Array(size * size).fill(ignoreLabel);
  for (let y = 0; y < size; y++) {
    if (ys.lo[y] < 0) continue;
    for (let x = 0; x < size; x++) {
      if (xs.lo[x] < 0) continue;
      if (mode === 'nearest') {
        out[y * size + x] = labels[ys.nearest[y] * width + xs.nearest[x]];
      } else {
        const y0 = ys.lo[y] * width, y1 = ys.hi[y] * width, x0 = xs.lo[x], x1 = xs.hi[x];
        const top = labels[y0 + x0] + (labels[y0 + x1] - labels[y0 + x0]) * xs.weight[x];
        const bottom = labels[y1 + x0] + (labels[y1 + x1] - labels[y1 + x0]) * xs.weight[x];
        out[y * size + x] = Math.round(top + (bottom - top) * ys.weight[y]);
      }
    }
  }
  return out;
}

/** RGB bytes → float input: '-1..1' (MobileNet/Xception), '0..1', or 'imagenet' (mean/std per channel). */
export function normalizeRgb(rgb: Uint8Array, mode: Normalization, out = new Float32Array(rgb.length), offset = 0): Float32Array {
  if (mode === '-1..1') {
    for (let i = 0; i < rgb.length; i++) out[offset + i] = rgb[i] / 127.5 - 1;
  } else if (mode === '0..1') {
    for (let i = 0; i < rgb.length; i++) out[offset + i] = rgb[i] / 255;
  } else {
    for (let i = 0; i < rgb.length; i++) {
      const k = i % 3;
      out[offset + i] = (rgb[i] / 255 - IMAGENET_MEAN[k]) / IMAGENET_STD[k];
    }
  }
  return out;
}
