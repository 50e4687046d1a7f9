// SegScope's wasm SIMD kernels that move 32-bit elements: 2-D transposes, and row-strided copies (concat and split
// along the channel axis).
#include "common.h"

/* Rows of x transposed per tile: the tile stays in cache while 4 output rows at a time are written sequentially. */
#define TRANSPOSE_TILE_ROWS 256

/* out = xᵀ for the rows [r0, r1) of x ([rows, cols] → [cols, rows]), in 4×4 blocks of SIMD shuffles, 32-bit elements. */
EXPORT(transpose2d)
void transpose2d(const float *x, int rows, int cols, float *out, int r0, int r1) {
  for (int t0 = r0; t0 < r1; t0 += TRANSPOSE_TILE_ROWS) {
    const int t1 = t0 + TRANSPOSE_TILE_ROWS < r1 ? t0 + TRANSPOSE_TILE_ROWS : r1;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      float *o0 = out + (long)c * rows, *o1 = o0 + rows, *o2 = o1 + rows, *o3 = o2 + rows;
      int r = t0;
      for (; r + 4 <= t1; r += 4) {
        const float *a = x + (long)r * cols + c;
        v128_t v0 = wasm_v128_load(a), v1 = wasm_v128_load(a + cols);
        v128_t v2 = wasm_v128_load(a + 2 * cols), v3 = wasm_v128_load(a + 3 * cols);
        v128_t u0 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5), u1 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
        v128_t u2 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5), u3 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
        wasm_v128_store(o0 + r, wasm_i64x2_shuffle(u0, u2, 0, 2));
        wasm_v128_store(o1 + r, wasm_i64x2_shuffle(u0, u2, 1, 3));
        wasm_v128_store(o2 + r, wasm_i64x2_shuffle(u1, u3, 0, 2));
        wasm_v128_store(o3 + r, wasm_i64x2_shuffle(u1, u3, 1, 3));
      }
      for (; r < t1; r++) {
        const float *a = x + (long)r * cols + c;
        o0[r] = a[0]; o1[r] = a[1]; o2[r] = a[2]; o3[r] = a[3];
      }
    }
    for (; c < cols; c++) {
      for (int r = t0; r < t1; r++) out[(long)c * rows + r] = x[(long)r * cols + c];
    }
  }
}

/* dst[r·dstStride + c] = src[r·srcStride + c] for c < width, rows [r0, r1) (a block of channels of an NHWC tensor). */
EXPORT(copy_rows)
void copy_rows(const float *src, int srcStride, float *dst, int dstStride, int width, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const float *s = src + (long)r * srcStride;
    float *d = dst + (long)r * dstStride;
    int c = 0;
    for (; c + 8 <= width; c += 8) {
      wasm_v128_store(d + c, wasm_v128_load(s + c));
      wasm_v128_store(d + c + 4, wasm_v128_load(s + c + 4));
    }
    for (; c + 4 <= width; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
    for (; c < width; c++) d[c] = s[c];
  }
}

/*
 * Constant padding of an NHWC tensor along height and width, for output rows [r0, r1) (index n·OH + oh): rows and
 * columns outside x ([N, H, W, C]) get `value`, the rest is x shifted by (padTop, padLeft). y is [N, OH, OW, C].
 */
EXPORT(pad_hw)
void pad_hw(const float *x, int H, int W, int C, int OH, int OW, int padTop, int padLeft, float value, float *y, int r0, int r1) {
  const v128_t v = wasm_f32x4_splat(value);
  const long rowWidth = (long)OW * C, left = (long)padLeft * C, inside = (long)W * C;
  for (int row = r0; row < r1; row++) {
    const int n = row / OH, ih = row % OH - padTop;
    float *out = y + (long)row * rowWidth;
    const int copy = ih >= 0 && ih < H;
    const long from = copy ? left : rowWidth, to = copy ? left + inside : rowWidth;
    long c = 0;
    for (; c + 4 <= from; c += 4) wasm_v128_store(out + c, v);
    for (; c < from; c++) out[c] = value;
    if (copy) {
      const float *in = x + ((long)n * H + ih) * inside;
      long i = 0;
      for (; i + 4 <= inside; i += 4) wasm_v128_store(out + left + i, wasm_v128_load(in + i));
      for (; i < inside; i++) out[left + i] = in[i];
      c = to;
    }
    for (; c + 4 <= rowWidth; c += 4) wasm_v128_store(out + c, v);
    for (; c < rowWidth; c++) out[c] = value;
  }
}

/* p[i] = 0 for doubles [begin, end) (per-thread float64 accumulators before a sum over rows). */
EXPORT(zero_doubles)
void zero_doubles(double *p, int begin, int end) {
  int i = begin;
  for (; i + 2 <= end; i += 2) wasm_v128_store(p + i, wasm_f64x2_splat(0.0));
  for (; i < end; i++) p[i] = 0.0;
}

/* out = a + b for elements [begin, end) of two tensors of the same shape (residual additions, summed gradients). */
EXPORT(add_arrays)
void add_arrays(const float *a, const float *b, float *out, int begin, int end) {
  int i = begin;
  for (; i + 4 <= end; i += 4) wasm_v128_store(out + i, wasm_f32x4_add(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  for (; i < end; i++) out[i] = a[i] + b[i];
}
