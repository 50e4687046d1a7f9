// SegScope's wasm SIMD kernels for matrix products over pixels: A·B (1×1 convolutions forward and their input
// gradients), Aᵀ·B without transposes (1×1 and dense weight gradients), and the weight gradient of any convolution.
#include "common.h"

/*
 * c[i, j] += Σ_{r < rows} a[r·aStride + i]·b[r·bStride + j] for i < I, j < J: float32 sums over the rows, added into the
 * float64 c ([I, J]). 4×8 register tiles; leftover rows of c one at a time over 4 columns; leftover columns scalar.
 */
static void accumulate_products(const float *a, int aStride, const float *b, int bStride, int rows, int I, int J, double *c) {
  int i = 0;
  for (; i + 4 <= I; i += 4) {
    int j = 0;
    for (; j + 8 <= J; j += 8) {
      v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) {
        const v128_t b0 = wasm_v128_load(br), b1 = wasm_v128_load(br + 4);
        const v128_t a0 = wasm_v128_load32_splat(ar), a1 = wasm_v128_load32_splat(ar + 1);
        const v128_t a2 = wasm_v128_load32_splat(ar + 2), a3 = wasm_v128_load32_splat(ar + 3);
        s0 = madd(s0, a0, b0); s1 = madd(s1, a0, b1); s2 = madd(s2, a1, b0); s3 = madd(s3, a1, b1);
        s4 = madd(s4, a2, b0); s5 = madd(s5, a2, b1); s6 = madd(s6, a3, b0); s7 = madd(s7, a3, b1);
      }
      double *ci = c + (long)i * J + j;
      add_to_doubles(ci, s0); add_to_doubles(ci + 4, s1);
      add_to_doubles(ci + J, s2); add_to_doubles(ci + J + 4, s3);
      add_to_doubles(ci + 2 * J, s4); add_to_doubles(ci + 2 * J + 4, s5);
      add_to_doubles(ci + 3 * J, s6); add_to_doubles(ci + 3 * J + 4, s7);
    }
    for (; j < J; j++) {
      float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) {
        s0 += ar[0] * br[0]; s1 += ar[1] * br[0]; s2 += ar[2] * br[0]; s3 += ar[3] * br[0];
      }
      c[(long)i * J + j] += s0; c[(long)(i + 1) * J + j] += s1;
      c[(long)(i + 2) * J + j] += s2; c[(long)(i + 3) * J + j] += s3;
    }
  }
  for (; i < I; i++) {
    int j = 0;
    for (; j + 4 <= J; j += 4) {
      v128_t s = wasm_f32x4_splat(0.f);
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) s = madd(s, wasm_v128_load32_splat(ar), wasm_v128_load(br));
      add_to_doubles(c + (long)i * J + j, s);
    }
    for (; j < J; j++) {
      float s = 0.f;
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) s += ar[0] * br[0];
      c[(long)i * J + j] += s;
    }
  }
}

/* Rows of a matrix product summed in float32 before they are added into the float64 result (they stay in cache). */
#define PRODUCT_CHUNK 256

/*
 * c[i, j] += Σ_r a[r, i]·b[r, j] for rows [r0, r1) of a ([M, I]) and b ([M, J]); c is [I, J] float64 (not reset).
 */
EXPORT(matmul_at_b)
void matmul_at_b(const float *a, const float *b, int I, int J, double *c, int r0, int r1) {
  for (int q0 = r0; q0 < r1; q0 += PRODUCT_CHUNK) {
    const int q1 = q0 + PRODUCT_CHUNK < r1 ? q0 + PRODUCT_CHUNK : r1;
    accumulate_products(a + (long)q0 * I, I, b + (long)q0 * J, J, q1 - q0, I, J, c);
  }
}

/*
 * dw of conv2d (NHWC, any kernel, stride, dilation, padding) over output rows [r0, r1) (index n·OH + oh):
 * dw[kh, kw, ci, co] += Σ_ow x[n, ih, iw, ci]·dy[n, oh, ow, co], into float64 `acc` ([KH·KW·C·CO], not reset).
 */
EXPORT(conv_filter_grad)
void conv_filter_grad(const int *g, const float *x, const float *dy, double *acc, int r0, int r1) {
  const int H = g[G_H], W = g[G_W], C = g[G_C], OH = g[G_OH], OW = g[G_OW], KH = g[G_KH], KW = g[G_KW];
  const int SH = g[G_SH], SW = g[G_SW], DH = g[G_DH], DW = g[G_DW], PT = g[G_PT], PL = g[G_PL], CO = g[G_CO];
  for (int row = r0; row < r1; row++) {
    const int n = row / OH, oh = row % OH;
    const float *drow = dy + (long)row * OW * CO;
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * SH - PT + kh * DH;
      if (ih < 0 || ih >= H) continue;
      const float *xrow = x + ((long)n * H + ih) * W * C;
      for (int kw = 0; kw < KW; kw++) {
        const int off = kw * DW - PL, ow0 = first_inside(off, SW), ow1 = end_inside(off, SW, W, OW);
        if (ow1 <= ow0) continue;
        accumulate_products(xrow + (long)(ow0 * SW + off) * C, SW * C, drow + (long)ow0 * CO, CO, ow1 - ow0, C, CO,
                            acc + ((long)kh * KW + kw) * C * CO);
      }
    }
  }
}

/* Rows of A per tile of a product: B's column block (K × 8 floats) stays in cache while they pass. */
#define PRODUCT_TILE_ROWS 64

/*
 * out[r, j] = Σ_k a[r, k]·b[k, j] for rows [r0, r1) of a ([M, K]) and out ([M, N]); b is [K, N]. 4×8 register tiles
 * (float32 sums, as a convolution's), then leftover rows one at a time and leftover columns by 4 and singly.
 */
EXPORT(matmul_a_b)
void matmul_a_b(const float *a, const float *b, int K, int N, float *out, int r0, int r1) {
  for (int t0 = r0; t0 < r1; t0 += PRODUCT_TILE_ROWS) {
    const int t1 = t0 + PRODUCT_TILE_ROWS < r1 ? t0 + PRODUCT_TILE_ROWS : r1;
    int j = 0;
    for (; j + 8 <= N; j += 8) {
      int r = t0;
      for (; r + 4 <= t1; r += 4) {
        v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        const float *a0 = a + (long)r * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
        const float *bk = b + j;
        for (int k = 0; k < K; k++, bk += N) {
          const v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4);
          v128_t av = wasm_v128_load32_splat(a0 + k);
          s0 = madd(s0, av, b0); s1 = madd(s1, av, b1);
          av = wasm_v128_load32_splat(a1 + k);
          s2 = madd(s2, av, b0); s3 = madd(s3, av, b1);
          av = wasm_v128_load32_splat(a2 + k);
          s4 = madd(s4, av, b0); s5 = madd(s5, av, b1);
          av = wasm_v128_load32_splat(a3 + k);
          s6 = madd(s6, av, b0); s7 = madd(s7, av, b1);
        }
        float *o = out + (long)r * N + j;
        wasm_v128_store(o, s0); wasm_v128_store(o + 4, s1);
        wasm_v128_store(o + N, s2); wasm_v128_store(o + N + 4, s3);
        wasm_v128_store(o + 2 * N, s4); wasm_v128_store(o + 2 * N + 4, s5);
        wasm_v128_store(o + 3 * N, s6); wasm_v128_store(o + 3 * N + 4, s7);
      }
      for (; r < t1; r++) {
        v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0;
        const float *ar = a + (long)r * K, *bk = b + j;
        for (int k = 0; k < K; k++, bk += N) {
          const v128_t av = wasm_v128_load32_splat(ar + k);
          s0 = madd(s0, av, wasm_v128_load(bk)); s1 = madd(s1, av, wasm_v128_load(bk + 4));
        }
        wasm_v128_store(out + (long)r * N + j, s0); wasm_v128_store(out + (long)r * N + j + 4, s1);
      }
    }
    for (; j + 4 <= N; j += 4) {
      for (int r = t0; r < t1; r++) {
        v128_t s = wasm_f32x4_splat(0.f);
        const float *ar = a + (long)r * K, *bk = b + j;
        for (int k = 0; k < K; k++, bk += N) s = madd(s, wasm_v128_load32_splat(ar + k), wasm_v128_load(bk));
        wasm_v128_store(out + (long)r * N + j, s);
      }
    }
    for (; j < N; j++) {
      for (int r = t0; r < t1; r++) {
        float s = 0.f;
        const float *ar = a + (long)r * K;
        for (int k = 0; k < K; k++) s += ar[k] * b[(long)k * N + j];
        out[(long)r * N + j] = s;
      }
    }
  }
}
