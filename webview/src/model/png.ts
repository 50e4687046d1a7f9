// Decodes the PNGs of a run folder (8-bit gray, RGB, RGBA and palette, not interlaced) to raw samples, so label maps give class indices rather than colours. DOM-free: runs in the page and in node tests.

export interface DecodedPng {
  width: number;
  height: number;
  /** Samples per pixel in `data`: 1 (gray or palette index), 2 (gray+alpha), 3 (RGB), 4 (RGBA). */
  channels: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  data: Uint8Array;
  /** Palette PNGs: RGB triples. */
  palette?: Uint8Array;
}

type Inflate = (zlib: Uint8Array) => Promise<Uint8Array>;

interface DecompressionStreamLike { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }

/** zlib inflate with the platform's DecompressionStream (Chromium and node ≥ 18). */
export const inflateZlib: Inflate = async (zlib) => {
  const Stream = (globalThis as unknown as { DecompressionStream: new (format: string) => DecompressionStreamLike }).DecompressionStream;
  const stream = new Blob([zlib as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new Stream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export async function decodePng(bytes: Uint8Array, inflate: Inflate = inflateZlib): Promise<DecodedPng> {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8); height = view.getUint32(pos + 12);
      depth = bytes[pos + 16]; colorType = bytes[pos + 17]; interlace = bytes[pos + 20];
    } else if (type === 'PLTE') palette = body.slice();
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  const channels = CHANNELS[colorType];
  if (!channels) throw new Error(`unsupported PNG colour type ${colorType}`);
  if (depth !== 8) throw new Error(`unsupported PNG bit depth ${depth} (only 8-bit maps are written to run folders)`);
  if (interlace !== 0) throw new Error('interlaced PNGs are not supported');
  let total = 0;
  for (const part of idat) total += part.length;
  const zlib = new Uint8Array(total);
  let offset = 0;
  for (const part of idat) { zlib.set(part, offset); offset += part.length; }
  const raw = await inflate(zlib);
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error('PNG data is truncated');
  const data = new Uint8Array(height * stride);
  unfilter(raw, data, width, height, channels);
  return { width, height, channels, colorType, data, palette };
}

/** Reverses the five PNG scanline filters in place into `out`. */
function unfilter(raw: Uint8Array, out: Uint8Array, width: number, height: number, bpp: number): void {
  const stride = width * bpp;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[src + x];
      const a = x >= bpp ? out[dst + x - bpp] : 0;
      const b = y > 0 ? out[up + x] : 0;
      const c = x >= bpp && y > 0 ? out[up + x - bpp] : 0;
      let predicted: number;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${filter} in row ${y}`);
      }
      out[dst + x] = (value + predicted) & 0xff;
    }
  }
}

/** RGB samples of a decoded PNG (palette expanded, gray replicated), H*W*3. */
export function toRgb(png: DecodedPng): Uint8Array {
  const n = png.width * png.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (png.colorType === 3 && png.palette) {
      const p = png.data[i] * 3;
      rgb[i * 3] = png.palette[p]; rgb[i * 3 + 1] = png.palette[p + 1]; rgb[i * 3 + 2] = png.palette[p + 2];
    } else if (png.channels >= 3) {
      const s = i * png.channels;
      rgb[i * 3] = png.data[s]; rgb[i * 3 + 1] = png.data[s + 1]; rgb[i * 3 + 2] = png.data[s + 2];
    } else {
      const g = png.data[i * png.channels];
      rgb[i * 3] = g; rgb[i * 3 + 1] = g; rgb[i * 3 + 2] = g;
    }
  }
  return rgb;
}

/** One value per pixel: palette index, gray value, or (RGB) the first channel. */
export function toSingle(png: DecodedPng): Uint8Array {
  if (png.channels === 1) return png.data;
  const n = png.width * png.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = png.data[i * png.channels];
  return out;
}
