// SegScope's wasm SIMD kernels for matrix products over pixels: A·B and A·Bᵀ (1×1 convolutions forward and their input
// gradients), Aᵀ·B (1×1 and dense weight gradients), all without transposes, and the weight gradient of any convolution.
#include "common.h"

/*
 * The weight gradients' inner loop, shared by operands read in place and packed in panels: s0..s7 (declared here) =
 * Σ over `rows` rows of the outer product of 4 values of A (from `a0ptr`, row step aStep) and 8 of B (step bStep).
 * A macro: eight vector results cannot be returned without a shadow stack, which these kernels must not use.
 */
#define OUTER_4X8(a0ptr, aStep, b0ptr, bStep, rows)                                                    \
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;    \
  {                                                                                                    \
    const float *ar_ = (a0ptr), *br_ = (b0ptr);                                                        \
    for (int r_ = 0; r_ < (rows); r_++, ar_ += (aStep), br_ += (bStep)) {                              \
      const v128_t b0 = wasm_v128_load(br_), b1 = wasm_v128_load(br_ + 4);                             \
      const v128_t a0 = wasm_v128_load32_splat(ar_), a1 = wasm_v128_load32_splat(ar_ + 1);             \
      const v128_t a2 = wasm_v128_load32_splat(ar_ + 2), a3 = wasm_v128_load32_splat(ar_ + 3);         \
      s0 = madd(s0, a0, b0); s1 = madd(s1, a0, b1); s2 = madd(s2, a1, b0); s3 = madd(s3, a1, b1);      \
      s4 = madd(s4, a2, b0); s5 = madd(s5, a2, b1); s6 = madd(s6, a3, b0); s7 = madd(s7, a3, b1);      \
    }                                                                                                  \
  }

/* c[0..n) (n ≤ 4) = the first n lanes of s in float64, added to c unless `first` (then c's old values are not read). */
static inline void put_doubles(double *c, v128_t s, int n, int first) {
  if (n == 4) {
    v128_t lo = wasm_f64x2_promote_low_f32x4(s), hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(s, s, 2, 3, 0, 1));
    if (!first) {
      lo = wasm_f64x2_add(wasm_v128_load(c), lo);
      hi = wasm_f64x2_add(wasm_v128_load(c + 2), hi);
    }
    wasm_v128_store(c, lo);
    wasm_v128_store(c + 2, hi);
    return;
  }
  if (n > 0) c[0] = (first ? 0.0 : c[0]) + (double)wasm_f32x4_extract_lane(s, 0);
  if (n > 1) c[1] = (first ? 0.0 : c[1]) + (double)wasm_f32x4_extract_lane(s, 1);
  if (n > 2) c[2] = (first ? 0.0 : c[2]) + (double)wasm_f32x4_extract_lane(s, 2);
}

/*
 * c[i, j] (+)= Σ_{r < rows} a[r·aStride + i]·b[r·bStride + j] for i < I, j < J: float32 sums over the rows, added into
 * (or, if `first`, written to) the float64 c ([I, J]). 4×8 register tiles; leftover rows of c one at a time over 4
 * columns; leftover columns scalar.
 */
static void accumulate_products(const float *a, int aStride, const float *b, int bStride, int rows, int I, int J, double *c,
                                int first) {
  int i = 0;
  for (; i + 4 <= I; i += 4) {
    int j = 0;
    for (; j + 8 <= J; j += 8) {
      OUTER_4X8(a + i, aStride, b + j, bStride, rows);
      double *ci = c + (long)i * J + j;
      put_doubles(ci, s0, 4, first); put_doubles(ci + 4, s1, 4, first);
      put_doubles(ci + J, s2, 4, first); put_doubles(ci + J + 4, s3, 4, first);
      put_doubles(ci + 2 * J, s4, 4, first); put_doubles(ci + 2 * J + 4, s5, 4, first);
      put_doubles(ci + 3 * J, s6, 4, first); put_doubles(ci + 3 * J + 4, s7, 4, first);
    }
    for (; j < J; j++) {
      float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) {
        s0 += ar[0] * br[0]; s1 += ar[1] * br[0]; s2 += ar[2] * br[0]; s3 += ar[3] * br[0];
      }
      double *ci = c + (long)i * J + j;
      ci[0] = (first ? 0.0 : ci[0]) + s0; ci[J] = (first ? 0.0 : ci[J]) + s1;
      ci[2 * J] = (first ? 0.0 : ci[2 * J]) + s2; ci[3 * J] = (first ? 0.0 : ci[3 * J]) + s3;
    }
  }
  for (; i < I; i++) {
    int j = 0;
    for (; j + 4 <= J; j += 4) {
      v128_t s = wasm_f32x4_splat(0.f);
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) s = madd(s, wasm_v128_load32_splat(ar), wasm_v128_load(br));
      put_doubles(c + (long)i * J + j, s, 4, first);
    }
    for (; j < J; j++) {
      float s = 0.f;
      const float *ar = a + i, *br = b + j;
      for (int r = 0; r < rows; r++, ar += aStride, br += bStride) s += ar[0] * br[0];
      c[(long)i * J + j] = (first ? 0.0 : c[(long)i * J + j]) + s;
    }
  }
}

/*
 * Packs columns of rows [0, L) of src (row stride `stride`) into panels of W (4 or 8) columns, each L×W contiguous:
 * p[panel·L·W + r·W + l] = src[r·stride + panel·W + l], zero for columns ≥ cols.
 */
static void pack_panels(const float *src, int stride, int L, int cols, int W, float *p) {
  for (int c0 = 0; c0 < cols; c0 += W, p += L * W) {
    const float *s = src + c0;
    if (c0 + W <= cols && W == 8) {
      for (int r = 0; r < L; r++, s += stride) {
        wasm_v128_store(p + 8 * r, wasm_v128_load(s));
        wasm_v128_store(p + 8 * r + 4, wasm_v128_load(s + 4));
      }
    } else if (c0 + W <= cols) {
      for (int r = 0; r < L; r++, s += stride) wasm_v128_store(p + 4 * r, wasm_v128_load(s));
    } else {
      for (int r = 0; r < L; r++, s += stride)
        for (int l = 0; l < W; l++) p[r * W + l] = c0 + l < cols ? s[l] : 0.f;
    }
  }
}

/*
 * c[i, j] (+)= Σ_{r < L} pa[i / 4][r][i % 4]·pb[j / 8][r][j % 8] from packed panels (4 columns of a, 8 of b, zero-padded),
 * added into (or, if `first`, written to) the float64 c ([I, J]). 4×8 register tiles over contiguous panels: no
 * strided loads, so no cache-set conflicts at power-of-two widths, and leftover columns run as padded tiles.
 */
static void accumulate_packed(const float *pa, const float *pb, int L, int I, int J, double *c, int first) {
  for (int j = 0; j < J; j += 8) {
    const int n0 = J - j < 4 ? J - j : 4, n1 = J - j < 8 ? (J - j > 4 ? J - j - 4 : 0) : 4;
    for (int i = 0; i < I; i += 4) {
      OUTER_4X8(pa + (long)i * L, 4, pb + (long)j * L, 8, L);
      double *ci = c + (long)i * J + j;
      put_doubles(ci, s0, n0, first); put_doubles(ci + 4, s1, n1, first);
      if (i + 1 < I) { put_doubles(ci + J, s2, n0, first); put_doubles(ci + J + 4, s3, n1, first); }
      if (i + 2 < I) { put_doubles(ci + 2 * J, s4, n0, first); put_doubles(ci + 2 * J + 4, s5, n1, first); }
      if (i + 3 < I) { put_doubles(ci + 3 * J, s6, n0, first); put_doubles(ci + 3 * J + 4, s7, n1, first); }
    }
  }
}

/* Rows of a matrix product summed in float32 before they are added into the float64 result (they stay in cache). */
#define PRODUCT_CHUNK 256

/*
 * Packing copies I + J floats per row for I·J products: below this width of a or b the copy costs more than it saves
 * (measured on the bench model's shapes; a narrow operand's strided rows stay in cache anyway).
 */
#define PACK_MIN_WIDTH 64

/*
 * c[i, j] = Σ_r a[r, i]·b[r, j] over rows [r0, r1) of a ([M, I]) and b ([M, J]) (zero when empty); c is [I, J] float64.
 * `pack` is scratch for PRODUCT_CHUNK·(I rounded up to 4 + J rounded up to 8) floats: each chunk of rows is packed
 * into panels when both widths reach PACK_MIN_WIDTH or either is not a multiple of the tile (see accumulate_packed).
 */
EXPORT(matmul_at_b)
void matmul_at_b(const float *a, const float *b, int I, int J, double *c, float *pack, int r0, int r1) {
  if (r1 <= r0) {
    for (long k = 0; k < (long)I * J; k++) c[k] = 0.0;
    return;
  }
  const int packed = (I >= PACK_MIN_WIDTH && J >= PACK_MIN_WIDTH) || I % 4 != 0 || J % 8 != 0;
  float *pa = pack, *pb = pack + PRODUCT_CHUNK * ((I + 3) & ~3);
  for (int q0 = r0; q0 < r1; q0 += PRODUCT_CHUNK) {
    const int q1 = q0 + PRODUCT_CHUNK < r1 ? q0 + PRODUCT_CHUNK : r1;
    if (packed) {
      pack_panels(a + (long)q0 * I, I, q1 - q0, I, 4, pa);
      pack_panels(b + (long)q0 * J, J, q1 - q0, J, 8, pb);
      accumulate_packed(pa, pb, q1 - q0, I, J, c, q0 == r0);
    } else {
      accumulate_products(a + (long)q0 * I, I, b + (long)q0 * J, J, q1 - q0, I, J, c, q0 == r0);
    }
  }
}

/* out[e] = Σ_{p < parts} acc[p·count + e] (float64, parts added in order) as float32, for elements [e0, e1). */
EXPORT(sum_parts)
void sum_parts(const double *acc, int parts, int count, float *out, int e0, int e1) {
  for (int e = e0; e < e1; e++) {
    double s = acc[e];
    for (int p = 1; p < parts; p++) s += acc[(long)p * count + e];
    out[e] = (float)s;
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
                            acc + ((long)kh * KW + kw) * C * CO, 0);
      }
    }
  }
}

/* Rows of A per tile of a product: B's column block (K × 8 floats) stays in cache while they pass. */
#define PRODUCT_TILE_ROWS 64

/*
 * Packs B into K×8 column panels, panels [g0, g1): p[(j / 8)·K·8 + k·8 + j % 8] = B[k, j], zero for j ≥ N. B is b
 * ([K, N]), or with `transposed` bᵀ for b [N, K] (read 4×4 blocks at a time and transposed with shuffles). Done once per
 * product, before its rows are shared between the threads.
 */
EXPORT(pack_b)
void pack_b(const float *b, int K, int N, int transposed, float *p, int g0, int g1) {
  p += (long)g0 * 8 * K;
  for (int j0 = 8 * g0; j0 < N && j0 < 8 * g1; j0 += 8, p += 8 * K) {
    const int full = j0 + 8 <= N;
    if (full && !transposed) {
      const float *s = b + j0;
      for (int k = 0; k < K; k++, s += N) {
        wasm_v128_store(p + 8 * k, wasm_v128_load(s));
        wasm_v128_store(p + 8 * k + 4, wasm_v128_load(s + 4));
      }
      continue;
    }
    int k = 0;
    if (full) {
      for (; k + 4 <= K; k += 4) {
        for (int h = 0; h < 8; h += 4) {
          const float *s = b + (long)(j0 + h) * K + k;
          const v128_t v0 = wasm_v128_load(s), v1 = wasm_v128_load(s + K), v2 = wasm_v128_load(s + 2 * K), v3 = wasm_v128_load(s + 3 * K);
          const v128_t u0 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5), u1 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
          const v128_t u2 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5), u3 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
          float *d = p + 8 * k + h;
          wasm_v128_store(d, wasm_i64x2_shuffle(u0, u2, 0, 2));
          wasm_v128_store(d + 8, wasm_i64x2_shuffle(u0, u2, 1, 3));
          wasm_v128_store(d + 16, wasm_i64x2_shuffle(u1, u3, 0, 2));
          wasm_v128_store(d + 24, wasm_i64x2_shuffle(u1, u3, 1, 3));
        }
      }
    }
    for (; k < K; k++) {
      for (int l = 0; l < 8; l++) {
        const int j = j0 + l;
        p[8 * k + l] = j >= N ? 0.f : transposed ? b[(long)j * K + k] : b[(long)k * N + j];
      }
    }
  }
}

/*
 * The products' inner loops, shared by B read in place (step N) and B packed in panels (step 8): s0..s7 (declared
 * here) = rows a0, a0 + aStride, +2, +3 of A times 8 columns of B from `b0ptr`, over k < K. Macros, not functions:
 * eight vector results cannot be returned without a shadow stack, which these kernels must not use.
 */
#define TILE_4X8(a0, aStride, b0ptr, bStep, K)                                                          \
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;    \
  {                                                                                                    \
    const float *a1_ = (a0) + (aStride), *a2_ = a1_ + (aStride), *a3_ = a2_ + (aStride), *bk_ = (b0ptr); \
    for (int k = 0; k < (K); k++, bk_ += (bStep)) {                                                    \
      const v128_t b0 = wasm_v128_load(bk_), b1 = wasm_v128_load(bk_ + 4);                             \
      v128_t av = wasm_v128_load32_splat((a0) + k);                                                    \
      s0 = madd(s0, av, b0); s1 = madd(s1, av, b1);                                                    \
      av = wasm_v128_load32_splat(a1_ + k);                                                            \
      s2 = madd(s2, av, b0); s3 = madd(s3, av, b1);                                                    \
      av = wasm_v128_load32_splat(a2_ + k);                                                            \
      s4 = madd(s4, av, b0); s5 = madd(s5, av, b1);                                                    \
      av = wasm_v128_load32_splat(a3_ + k);                                                            \
      s6 = madd(s6, av, b0); s7 = madd(s7, av, b1);                                                    \
    }                                                                                                  \
  }

/* One row of A times 8 columns of B: s0, s1 (declared here). */
#define ROW_8(ar, b0ptr, bStep, K)                                                                     \
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0;                                                          \
  {                                                                                                    \
    const float *bk_ = (b0ptr);                                                                        \
    for (int k = 0; k < (K); k++, bk_ += (bStep)) {                                                    \
      const v128_t av = wasm_v128_load32_splat((ar) + k);                                              \
      s0 = madd(s0, av, wasm_v128_load(bk_)); s1 = madd(s1, av, wasm_v128_load(bk_ + 4));              \
    }                                                                                                  \
  }

/* Stores the first n (≤ 4) lanes of s at o. */
static inline void store_lanes(float *o, v128_t s, int n) {
  if (n == 4) {
    wasm_v128_store(o, s);
    return;
  }
  if (n > 0) o[0] = wasm_f32x4_extract_lane(s, 0);
  if (n > 1) o[1] = wasm_f32x4_extract_lane(s, 1);
  if (n > 2) o[2] = wasm_f32x4_extract_lane(s, 2);
}

/*
 * out[r, j] = Σ_k a[r, k]·B[k, j] for rows [r0, r1) of a ([M, K]) and out ([M, N]), with B as K×8 panels (see
 * pack_b_panels): 4×8 register tiles over rows of A and one panel, which stays in cache for a tile of rows.
 */
static void product_packed(const float *a, const float *p, int K, int N, float *out, int r0, int r1) {
  for (int t0 = r0; t0 < r1; t0 += PRODUCT_TILE_ROWS) {
    const int t1 = t0 + PRODUCT_TILE_ROWS < r1 ? t0 + PRODUCT_TILE_ROWS : r1;
    for (int j = 0; j < N; j += 8) {
      const int n0 = N - j < 4 ? N - j : 4, n1 = N - j < 8 ? (N - j > 4 ? N - j - 4 : 0) : 4;
      const float *panel = p + (long)j * K;
      int r = t0;
      for (; r + 4 <= t1; r += 4) {
        const float *a0 = a + (long)r * K;
        TILE_4X8(a0, K, panel, 8, K);
        float *o = out + (long)r * N + j;
        if (n1 == 4) {
          wasm_v128_store(o, s0); wasm_v128_store(o + 4, s1);
          wasm_v128_store(o + N, s2); wasm_v128_store(o + N + 4, s3);
          wasm_v128_store(o + 2 * N, s4); wasm_v128_store(o + 2 * N + 4, s5);
          wasm_v128_store(o + 3 * N, s6); wasm_v128_store(o + 3 * N + 4, s7);
          continue;
        }
        store_lanes(o, s0, n0); store_lanes(o + 4, s1, n1);
        store_lanes(o + N, s2, n0); store_lanes(o + N + 4, s3, n1);
        store_lanes(o + 2 * N, s4, n0); store_lanes(o + 2 * N + 4, s5, n1);
        store_lanes(o + 3 * N, s6, n0); store_lanes(o + 3 * N + 4, s7, n1);
      }
      for (; r < t1; r++) {
        ROW_8(a + (long)r * K, panel, 8, K);
        store_lanes(out + (long)r * N + j, s0, n0); store_lanes(out + (long)r * N + j + 4, s1, n1);
      }
    }
  }
}

/*
 * out[r, j] = Σ_k a[r, k]·b[k, j] for rows [r0, r1) of a ([M, K]) and out ([M, N]); b is [K, N], read in place. 4×8
 * register tiles (float32 sums, as a convolution's), then leftover rows one at a time and leftover columns by 4 and singly.
 */
static void product_in_place(const float *a, const float *b, int K, int N, float *out, int r0, int r1) {
  for (int t0 = r0; t0 < r1; t0 += PRODUCT_TILE_ROWS) {
    const int t1 = t0 + PRODUCT_TILE_ROWS < r1 ? t0 + PRODUCT_TILE_ROWS : r1;
    int j = 0;
    for (; j + 8 <= N; j += 8) {
      int r = t0;
      for (; r + 4 <= t1; r += 4) {
        const float *a0 = a + (long)r * K;
        TILE_4X8(a0, K, b + j, N, K);
        float *o = out + (long)r * N + j;
        wasm_v128_store(o, s0); wasm_v128_store(o + 4, s1);
        wasm_v128_store(o + N, s2); wasm_v128_store(o + N + 4, s3);
        wasm_v128_store(o + 2 * N, s4); wasm_v128_store(o + 2 * N + 4, s5);
        wasm_v128_store(o + 3 * N, s6); wasm_v128_store(o + 3 * N + 4, s7);
      }
      for (; r < t1; r++) {
        ROW_8(a + (long)r * K, b + j, N, K);
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

/*
 * out[r, j] = Σ_k a[r, k]·B[k, j] for rows [r0, r1) of a ([M, K]) and out ([M, N]): B is b ([K, N]) read in place (N a
 * multiple of 8), or, when `packed` is not 0, B as packed by pack_b (b transposed, or N not a multiple of 8).
 */
EXPORT(matmul_a_b)
void matmul_a_b(const float *a, const float *b, int K, int N, float *out, const float *packed, int r0, int r1) {
  if (packed) product_packed(a, packed, K, N, out, r0, r1);
  else product_in_place(a, b, K, N, out, r0, r1);
}
