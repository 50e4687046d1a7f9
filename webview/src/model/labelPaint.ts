// Paints label maps, overlays, error maps and confidence maps into RGBA pixel buffers (ImageData.data). DOM-free.
import type { ClassInfo } from '../../../src/protocol/runFolder';
import { ERROR_MAP } from '../../../src/protocol/runFolder';

export type Rgb = [number, number, number];

/** Index → colour for all 256 label values (classes from run.json; other values grey). */
export function classColorTable(classes: ClassInfo[]): Uint8Array {
  const table = new Uint8Array(256 * 3).fill(128);
  for (const c of classes) if (c.id >= 0 && c.id < 256) table.set(c.color, c.id * 3);
  return table;
}

/** The diagonal hatching used for void pixels: a 6-pixel period, 2 pixels of stripe. */
export function isHatchStripe(x: number, y: number): boolean {
  return (x + y) % 6 < 2;
}

export const VOID_STRIPE: Rgb = [230, 230, 230];
export const VOID_GAP: Rgb = [90, 90, 90];
export const WRONG_COLOR: Rgb = [240, 60, 60];

function put(out: Uint8ClampedArray, i: number, r: number, g: number, b: number): void {
  const o = i * 4;
  out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = 255;
}

function putVoid(out: Uint8ClampedArray, i: number, width: number): void {
  const c = isHatchStripe(i % width, (i / width) | 0) ? VOID_STRIPE : VOID_GAP;
  put(out, i, c[0], c[1], c[2]);
}

export interface LabelPaintOptions {
  width: number;
  ignoreLabel: number;
  table: Uint8Array;
  /** hidden[classId] = true hides the class (painted with `hiddenColor`). */
  hidden: ArrayLike<boolean>;
  hiddenColor: Rgb;
}

/** Class colours; void hatched; hidden classes in the neutral colour. */
export function paintLabels(labels: Uint8Array, out: Uint8ClampedArray, o: LabelPaintOptions): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v === o.ignoreLabel) putVoid(out, i, o.width);
    else if (o.hidden[v]) put(out, i, o.hiddenColor[0], o.hiddenColor[1], o.hiddenColor[2]);
    else put(out, i, o.table[v * 3], o.table[v * 3 + 1], o.table[v * 3 + 2]);
  }
}

/** The input image (H*W*3). */
export function paintRgb(rgb: Uint8Array, out: Uint8ClampedArray): void {
  const n = rgb.length / 3;
  for (let i = 0; i < n; i++) put(out, i, rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
}

/** Input blended with the class colours at `opacity` (0..1); hidden classes and void pixels show the input alone. */
export function paintOverlay(rgb: Uint8Array, labels: Uint8Array, opacity: number, out: Uint8ClampedArray, o: LabelPaintOptions): void {
  const a = Math.max(0, Math.min(1, opacity));
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    const r = rgb[i * 3], g = rgb[i * 3 + 1], b = rgb[i * 3 + 2];
    if (v === o.ignoreLabel || o.hidden[v]) { put(out, i, r, g, b); continue; }
    const t = o.table;
    put(out, i, r + (t[v * 3] - r) * a, g + (t[v * 3 + 1] - g) * a, b + (t[v * 3 + 2] - b) * a);
  }
}

/** Error map: right pixels show the input dimmed, wrong pixels red, void pixels hatched. Pixels of hidden GT classes are dimmed further. */
export function paintErrors(errors: Uint8Array, rgb: Uint8Array, groundTruth: Uint8Array | undefined, out: Uint8ClampedArray, o: LabelPaintOptions): void {
  for (let i = 0; i < errors.length; i++) {
    const e = errors[i];
    const hidden = groundTruth ? o.hidden[groundTruth[i]] : false;
    if (e === ERROR_MAP.void) putVoid(out, i, o.width);
    else if (e === ERROR_MAP.wrong && !hidden) put(out, i, WRONG_COLOR[0], WRONG_COLOR[1], WRONG_COLOR[2]);
    else {
      const k = hidden ? 0.1 : 0.3;
      put(out, i, rgb[i * 3] * k, rgb[i * 3 + 1] * k, rgb[i * 3 + 2] * k);
    }
  }
}

/** Confidence (0..255) through a colour map LUT (256 × RGB). */
export function paintConfidence(confidence: Uint8Array, lut: Uint8Array, out: Uint8ClampedArray): void {
  for (let i = 0; i < confidence.length; i++) {
    const c = confidence[i] * 3;
    put(out, i, lut[c], lut[c + 1], lut[c + 2]);
  }
}

/** The k most probable classes of one pixel in a probs.u8 buffer ([H, W, C] uint8, 255 = probability 1). */
export function topClasses(probs: Uint8Array, pixel: number, numClasses: number, k = 3): { classId: number; probability: number }[] {
  const base = pixel * numClasses;
  const all: { classId: number; probability: number }[] = [];
  for (let c = 0; c < numClasses; c++) all.push({ classId: c, probability: probs[base + c] / 255 });
  all.sort((a, b) => b.probability - a.probability || a.classId - b.classId);
  return all.slice(0, k);
}
