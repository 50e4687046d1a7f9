// Encodes one activation [H, W, C] (float32, channel-last) as the run format's .u8: channel-major, each channel scaled
// from its own [min, max] to 0..255, plus its ActivationHeader.
import type { ActivationHeader } from '../../protocol/runFolder';

export function quantizeActivation(
  values: Float32Array, shape: [number, number, number], layer: string, image: string,
): { bytes: Uint8Array; header: ActivationHeader } {
  const [h, w, c] = shape;
  const pixels = h * w;
  if (values.length !== pixels * c) throw new Error(`activation of ${layer}: ${values.length} values for shape [${shape}]`);
  const min = new Array<number>(c).fill(Infinity);
  const max = new Array<number>(c).fill(-Infinity);
  const sums = new Float64Array(c);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < c; k++) {
      const v = values[p * c + k];
      if (v < min[k]) min[k] = v;
      if (v > max[k]) max[k] = v;
      sums[k] += v;
    }
  }
  const bytes = new Uint8Array(pixels * c);
  for (let k = 0; k < c; k++) {
    const range = max[k] - min[k];
    const scale = range > 0 ? 255 / range : 0;
    const base = k * pixels;
    for (let p = 0; p < pixels; p++) bytes[base + p] = Math.round((values[p * c + k] - min[k]) * scale);
  }
  const strongest = Array.from({ length: c }, (_, k) => k).sort((a, b) => sums[b] - sums[a] || a - b);
  return { bytes, header: { layer, image, shape: [h, w, c], min, max, strongest } };
}

/** Inverse of quantizeActivation for one channel (readers and tests). */
export function dequantizeChannel(bytes: Uint8Array, header: ActivationHeader, channel: number): Float32Array {
  const pixels = header.shape[0] * header.shape[1];
  const out = new Float32Array(pixels);
  const lo = header.min[channel], range = header.max[channel] - lo;
  for (let p = 0; p < pixels; p++) out[p] = lo + (bytes[channel * pixels + p] / 255) * range;
  return out;
}
