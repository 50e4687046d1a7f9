// SegScope's wasm SIMD kernels: elementwise training work over tensors in tfjs-backend-wasm's own heap (no copies).
//
// Built with the other C files here by scripts/build-native-kernels.mjs (clang --target=wasm32 -msimd128) into nativeKernelsBinary.ts. The module
// imports the backend's memory, so it must never touch memory it was not handed: no static data, no shadow stack (no
// local arrays, no address-taken locals) — the build checks the output for both. Every kernel works on a range of
// rows or elements so two threads can split one call. Pointers are byte offsets into the heap.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* out = dy · (x > 0), elements [begin, end). Multiplies like tfjs' mul(dy, step(x)) (Inf·0 = NaN). */
EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *out, int begin, int end) {
  const v128_t zero = wasm_f32x4_splat(0.f), one = wasm_f32x4_splat(1.f);
  int i = begin;
  for (; i + 4 <= end; i += 4) {
    v128_t mask = wasm_v128_and(wasm_f32x4_gt(wasm_v128_load(x + i), zero), one);
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), mask));
  }
  for (; i < end; i++) out[i] = dy[i] * (float)(x[i] > 0.f);
}

/* out = dy · (0 ≤ x ≤ 6), elements [begin, end). */
EXPORT(relu6_grad)
void relu6_grad(const float *dy, const float *x, float *out, int begin, int end) {
  const v128_t zero = wasm_f32x4_splat(0.f), six = wasm_f32x4_splat(6.f), one = wasm_f32x4_splat(1.f);
  int i = begin;
  for (; i + 4 <= end; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t mask = wasm_v128_and(wasm_v128_and(wasm_f32x4_ge(v, zero), wasm_f32x4_le(v, six)), one);
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), mask));
  }
  for (; i < end; i++) out[i] = dy[i] * (float)((x[i] >= 0.f) & (x[i] <= 6.f));
}

/* Rows are summed in float32 blocks of this many rows, then added into float64 totals. */
#define BLOCK_ROWS 32

static void zero_floats(float *a, int n) {
  for (int i = 0; i < n; i++) a[i] = 0.f;
}

/*
 * Batch-norm statistics of rows [r0, r1) of x ([rows, C], channels last), shifted by `shift` (each channel's first
 * value, so the variance is stable when |mean| ≫ std): s1 = Σ (x − shift), s2 = Σ (x − shift)², float64, overwritten.
 * `acc` is scratch for 2·C floats.
 */
EXPORT(bn_sums)
void bn_sums(const float *x, int C, int r0, int r1, const float *shift, double *s1, double *s2, float *acc) {
  float *a1 = acc, *a2 = acc + C;
  for (int c = 0; c < C; c++) { s1[c] = 0; s2[c] = 0; }
  for (int b0 = r0; b0 < r1; b0 += BLOCK_ROWS) {
    int b1 = b0 + BLOCK_ROWS < r1 ? b0 + BLOCK_ROWS : r1;
    zero_floats(acc, 2 * C);
    for (int r = b0; r < b1; r++) {
      const float *row = x + (long)r * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t v = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(shift + c));
        wasm_v128_store(a1 + c, wasm_f32x4_add(wasm_v128_load(a1 + c), v));
        wasm_v128_store(a2 + c, wasm_f32x4_add(wasm_v128_load(a2 + c), wasm_f32x4_mul(v, v)));
      }
      for (; c < C; c++) {
        float v = row[c] - shift[c];
        a1[c] += v;
        a2[c] += v * v;
      }
    }
    for (int c = 0; c < C; c++) { s1[c] += a1[c]; s2[c] += a2[c]; }
  }
}

/* y = (x − mean)·scale + beta for rows [r0, r1). */
EXPORT(bn_apply)
void bn_apply(const float *x, int C, int r0, int r1, const float *mean, const float *scale, const float *beta, float *y) {
  for (int r = r0; r < r1; r++) {
    const float *row = x + (long)r * C;
    float *out = y + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
      wasm_v128_store(out + c, wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(scale + c)), wasm_v128_load(beta + c)));
    }
    for (; c < C; c++) out[c] = (row[c] - mean[c]) * scale[c] + beta[c];
  }
}

/* Batch-norm gradient sums of rows [r0, r1): sdy = Σ dy, sdyx = Σ dy·(x − mean), float64, overwritten. */
EXPORT(bn_grad_sums)
void bn_grad_sums(const float *dy, const float *x, int C, int r0, int r1, const float *mean, double *sdy, double *sdyx,
                  float *acc) {
  float *a1 = acc, *a2 = acc + C;
  for (int c = 0; c < C; c++) { sdy[c] = 0; sdyx[c] = 0; }
  for (int b0 = r0; b0 < r1; b0 += BLOCK_ROWS) {
    int b1 = b0 + BLOCK_ROWS < r1 ? b0 + BLOCK_ROWS : r1;
    zero_floats(acc, 2 * C);
    for (int r = b0; r < b1; r++) {
      const float *g = dy + (long)r * C, *row = x + (long)r * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_v128_load(g + c);
        v128_t xc = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        wasm_v128_store(a1 + c, wasm_f32x4_add(wasm_v128_load(a1 + c), d));
        wasm_v128_store(a2 + c, wasm_f32x4_add(wasm_v128_load(a2 + c), wasm_f32x4_mul(d, xc)));
      }
      for (; c < C; c++) {
        a1[c] += g[c];
        a2[c] += g[c] * (row[c] - mean[c]);
      }
    }
    for (int c = 0; c < C; c++) { sdy[c] += a1[c]; sdyx[c] += a2[c]; }
  }
}

/* dx = a·dy + k·(x − mean) + b for rows [r0, r1) (a, k, b per channel: the closed-form batch-norm gradient). */
EXPORT(bn_grad_apply)
void bn_grad_apply(const float *dy, const float *x, int C, int r0, int r1, const float *mean, const float *a,
                   const float *k, const float *b, float *dx) {
  for (int r = r0; r < r1; r++) {
    const float *g = dy + (long)r * C, *row = x + (long)r * C;
    float *out = dx + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t xc = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(a + c), wasm_v128_load(g + c)),
                                wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(k + c), xc), wasm_v128_load(b + c)));
      wasm_v128_store(out + c, v);
    }
    for (; c < C; c++) out[c] = a[c] * g[c] + (k[c] * (row[c] - mean[c]) + b[c]);
  }
}

/*
 * Depthwise convolution geometry (channel multiplier 1, NHWC), passed as a pointer to 13 ints:
 * input height, width, channels; output height, width; filter height, width; strides (h, w); dilations (h, w);
 * padding top, left.
 */
enum { G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL };

/*
 * dx of a depthwise convolution for input rows [r0, r1) (a row = one image row: index n·H + ih), gathered so each dx
 * element is written once: dx[n, ih, iw, c] = Σ over taps whose output (oh, ow) exists of dy[n, oh, ow, c]·w[kh, kw, c].
 */
EXPORT(depthwise_input_grad)
void depthwise_input_grad(const int *g, const float *dy, const float *w, float *dx, int r0, int r1) {
  const int H = g[G_H], W = g[G_W], C = g[G_C], OH = g[G_OH], OW = g[G_OW], KH = g[G_KH], KW = g[G_KW];
  const int SH = g[G_SH], SW = g[G_SW], DH = g[G_DH], DW = g[G_DW], PT = g[G_PT], PL = g[G_PL];
  for (int row = r0; row < r1; row++) {
    const int n = row / H, ih = row % H;
    for (int iw = 0; iw < W; iw++) {
      float *out = dx + ((long)row * W + iw) * C;
      for (int c = 0; c < C; c++) out[c] = 0.f;
      for (int kh = 0; kh < KH; kh++) {
        const int th = ih + PT - kh * DH;
        if (th < 0 || th % SH != 0) continue;
        const int oh = th / SH;
        if (oh >= OH) continue;
        for (int kw = 0; kw < KW; kw++) {
          const int tw = iw + PL - kw * DW;
          if (tw < 0 || tw % SW != 0) continue;
          const int ow = tw / SW;
          if (ow >= OW) continue;
          const float *d = dy + (((long)n * OH + oh) * OW + ow) * C;
          const float *f = w + ((long)kh * KW + kw) * C;
          int c = 0;
          for (; c + 4 <= C; c += 4) {
            wasm_v128_store(out + c, wasm_f32x4_add(wasm_v128_load(out + c),
                                                    wasm_f32x4_mul(wasm_v128_load(d + c), wasm_v128_load(f + c))));
          }
          for (; c < C; c++) out[c] += d[c] * f[c];
        }
      }
    }
  }
}

/*
 * dw of a depthwise convolution over output rows [r0, r1) (index n·OH + oh): dw[kh, kw, c] += Σ x[n, ih, iw, c]·
 * dy[n, oh, ow, c], summed in float32 along each output row and added into float64 totals `acc` ([KH·KW·C], not reset).
 */
EXPORT(depthwise_filter_grad)
void depthwise_filter_grad(const int *g, const float *x, const float *dy, double *acc, int r0, int r1) {
  const int H = g[G_H], W = g[G_W], C = g[G_C], OH = g[G_OH], OW = g[G_OW], KH = g[G_KH], KW = g[G_KW];
  const int SH = g[G_SH], SW = g[G_SW], DH = g[G_DH], DW = g[G_DW], PT = g[G_PT], PL = g[G_PL];
  for (int row = r0; row < r1; row++) {
    const int n = row / OH, oh = row % OH;
    const float *drow = dy + (long)row * OW * C;
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * SH - PT + kh * DH;
      if (ih < 0 || ih >= H) continue;
      const float *xrow = x + ((long)n * H + ih) * W * C;
      for (int kw = 0; kw < KW; kw++) {
        // Output columns whose input column iw = ow·SW − PL + kw·DW lies inside the image.
        const int off = kw * DW - PL;
        int ow0 = off < 0 ? (-off + SW - 1) / SW : 0;
        int ow1 = (W - 1 - off) < 0 ? 0 : (W - 1 - off) / SW + 1;
        if (ow1 > OW) ow1 = OW;
        double *a = acc + ((long)kh * KW + kw) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          v128_t s = wasm_f32x4_splat(0.f);
          for (int ow = ow0; ow < ow1; ow++) {
            const int iw = ow * SW + off;
            s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(xrow + (long)iw * C + c), wasm_v128_load(drow + (long)ow * C + c)));
          }
          wasm_v128_store(a + c, wasm_f64x2_add(wasm_v128_load(a + c), wasm_f64x2_promote_low_f32x4(s)));
          wasm_v128_store(a + c + 2, wasm_f64x2_add(wasm_v128_load(a + c + 2),
                                                    wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(s, s, 2, 3, 0, 1))));
        }
        for (; c < C; c++) {
          float s = 0.f;
          for (int ow = ow0; ow < ow1; ow++) s += xrow[(long)(ow * SW + off) * C + c] * drow[(long)ow * C + c];
          a[c] += s;
        }
      }
    }
  }
}

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

/* Rows of a matrix product summed in float32 before they are added into the float64 result. */
#define PRODUCT_CHUNK 64

/* c[i, j] += Σ_r a[r, i]·b[r, j] (in float64), for a given tile, over rows [q0, q1). */
static void add_tile_4x8(double *c, int J, v128_t s[8]) {
  for (int k = 0; k < 4; k++) {
    double *row = c + (long)k * J;
    v128_t lo = s[2 * k], hi = s[2 * k + 1];
    wasm_v128_store(row, wasm_f64x2_add(wasm_v128_load(row), wasm_f64x2_promote_low_f32x4(lo)));
    wasm_v128_store(row + 2, wasm_f64x2_add(wasm_v128_load(row + 2), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(lo, lo, 2, 3, 0, 1))));
    wasm_v128_store(row + 4, wasm_f64x2_add(wasm_v128_load(row + 4), wasm_f64x2_promote_low_f32x4(hi)));
    wasm_v128_store(row + 6, wasm_f64x2_add(wasm_v128_load(row + 6), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(hi, hi, 2, 3, 0, 1))));
  }
}

/*
 * The weight gradient of a 1×1 convolution without transposing anything: c[i, j] += Σ_r a[r, i]·b[r, j] for rows
 * [r0, r1) of a ([M, I], the layer's input) and b ([M, J], the output gradient); c is [I, J] float64 (not reset).
 * 4×8 register tiles over chunks of rows that stay in cache; float32 within a chunk, float64 across chunks.
 */
EXPORT(matmul_at_b)
void matmul_at_b(const float *a, const float *b, int I, int J, double *c, int r0, int r1) {
  for (int q0 = r0; q0 < r1; q0 += PRODUCT_CHUNK) {
    const int q1 = q0 + PRODUCT_CHUNK < r1 ? q0 + PRODUCT_CHUNK : r1;
    int i = 0;
    for (; i + 4 <= I; i += 4) {
      int j = 0;
      for (; j + 8 <= J; j += 8) {
        v128_t s[8];
        for (int k = 0; k < 8; k++) s[k] = wasm_f32x4_splat(0.f);
        for (int r = q0; r < q1; r++) {
          const float *ar = a + (long)r * I + i, *br = b + (long)r * J + j;
          const v128_t b0 = wasm_v128_load(br), b1 = wasm_v128_load(br + 4);
          const v128_t a0 = wasm_v128_load32_splat(ar), a1 = wasm_v128_load32_splat(ar + 1);
          const v128_t a2 = wasm_v128_load32_splat(ar + 2), a3 = wasm_v128_load32_splat(ar + 3);
          s[0] = wasm_f32x4_add(s[0], wasm_f32x4_mul(a0, b0)); s[1] = wasm_f32x4_add(s[1], wasm_f32x4_mul(a0, b1));
          s[2] = wasm_f32x4_add(s[2], wasm_f32x4_mul(a1, b0)); s[3] = wasm_f32x4_add(s[3], wasm_f32x4_mul(a1, b1));
          s[4] = wasm_f32x4_add(s[4], wasm_f32x4_mul(a2, b0)); s[5] = wasm_f32x4_add(s[5], wasm_f32x4_mul(a2, b1));
          s[6] = wasm_f32x4_add(s[6], wasm_f32x4_mul(a3, b0)); s[7] = wasm_f32x4_add(s[7], wasm_f32x4_mul(a3, b1));
        }
        add_tile_4x8(c + (long)i * J + j, J, s);
      }
      for (; j < J; j++) {
        float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
        for (int r = q0; r < q1; r++) {
          const float *ar = a + (long)r * I + i;
          const float bv = b[(long)r * J + j];
          s0 += ar[0] * bv; s1 += ar[1] * bv; s2 += ar[2] * bv; s3 += ar[3] * bv;
        }
        c[(long)i * J + j] += s0; c[(long)(i + 1) * J + j] += s1;
        c[(long)(i + 2) * J + j] += s2; c[(long)(i + 3) * J + j] += s3;
      }
    }
    for (; i < I; i++) {
      for (int j = 0; j < J; j++) {
        float s = 0.f;
        for (int r = q0; r < q1; r++) s += a[(long)r * I + i] * b[(long)r * J + j];
        c[(long)i * J + j] += s;
      }
    }
  }
}

/*
 * One Adam step for elements [begin, end), in float32 and in the order of tfjs-core 4.22's AdamOptimizer, so the
 * results match it bit for bit (every step below is one correctly rounded float32 operation there too):
 *   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2);  w' = (m'/bias1) / (sqrt(v'/bias2) + ε) · (−lr) + w
 * where bias1 = 1 − β1ᵗ and bias2 = 1 − β2ᵗ. The outputs may be the inputs themselves: each element is read first.
 */
EXPORT(adam_update)
void adam_update(const float *g, const float *w, const float *m, const float *v, float *w_out, float *m_out, float *v_out,
                 int begin, int end, float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,
                 float bias1, float bias2, float epsilon, float neg_lr) {
  const v128_t b1 = wasm_f32x4_splat(beta1), c1 = wasm_f32x4_splat(one_minus_beta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), c2 = wasm_f32x4_splat(one_minus_beta2);
  const v128_t k1 = wasm_f32x4_splat(bias1), k2 = wasm_f32x4_splat(bias2);
  const v128_t eps = wasm_f32x4_splat(epsilon), step = wasm_f32x4_splat(neg_lr);
  int i = begin;
  for (; i + 4 <= end; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1), wasm_f32x4_mul(gi, c1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), c2));
    v128_t denom = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, k2)), eps);
    v128_t wi = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_div(wasm_f32x4_div(mi, k1), denom), step), wasm_v128_load(w + i));
    wasm_v128_store(m_out + i, mi);
    wasm_v128_store(v_out + i, vi);
    wasm_v128_store(w_out + i, wi);
  }
  for (; i < end; i++) {
    float gi = g[i];
    float mi = m[i] * beta1 + gi * one_minus_beta1;
    float vi = v[i] * beta2 + (gi * gi) * one_minus_beta2;
    float wi = ((mi / bias1) / (__builtin_sqrtf(vi / bias2) + epsilon)) * neg_lr + w[i];
    m_out[i] = mi;
    v_out[i] = vi;
    w_out[i] = wi;
  }
}
