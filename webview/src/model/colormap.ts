// Perceptual colour maps (viridis, magma) as 256-entry RGB lookup tables, built by interpolating matplotlib's maps at nine anchors. DOM-free.

export type ColormapName = 'viridis' | 'magma' | 'gray';

const ANCHORS: Record<Exclude<ColormapName, 'gray'>, [number, number, number][]> = {
  viridis: [[68, 1, 84], [72, 40, 120], [59, 82, 139], [44, 114, 142], [33, 145, 140], [40, 174, 128], [94, 201, 98], [170, 220, 50], [253, 231, 37]],
  magma: [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122], [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]],
};

const cache = new Map<ColormapName, Uint8Array>();

/** 256 × RGB: entry i is the colour of value i/255. */
export function colormap(name: ColormapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    if (name === 'gray') { lut[i * 3] = lut[i * 3 + 1] = lut[i * 3 + 2] = i; continue; }
    const anchors = ANCHORS[name];
    const t = (i / 255) * (anchors.length - 1);
    const k = Math.min(anchors.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(anchors[k][c] * (1 - f) + anchors[k + 1][c] * f);
  }
  cache.set(name, lut);
  return lut;
}

/** Relative luminance (sRGB, 0..1) of a colour; used to check that a map is perceptually ordered and to pick text colours. */
export function luminance(r: number, g: number, b: number): number {
  const lin = (v: number) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function cssColor(lut: Uint8Array, value01: number): string {
  const i = Math.max(0, Math.min(255, Math.round(value01 * 255))) * 3;
  return `rgb(${lut[i]}, ${lut[i + 1]}, ${lut[i + 2]})`;
}

/** WCAG contrast ratio of two colours (1..21). */
export function contrastRatio(a: [number, number, number], b: [number, number, number]): number {
  const la = luminance(a[0], a[1], a[2]), lb = luminance(b[0], b[1], b[2]);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * A class colour made readable as a line on `background`: mixed step by step towards white (dark backgrounds) or black
 * (light backgrounds) until the contrast ratio reaches `minRatio`. Colours that already contrast are kept.
 */
export function readableOn(color: [number, number, number], background: [number, number, number], minRatio = 3): [number, number, number] {
  const target = luminance(background[0], background[1], background[2]) < 0.4 ? 255 : 0;
  let c = color;
  for (let step = 1; step <= 10 && contrastRatio(c, background) < minRatio; step++) {
    const t = step / 10;
    c = color.map((v) => Math.round(v + (target - v) * t)) as [number, number, number];
  }
  return c;
}
