// SegScope's wasm SIMD kernels for training-mode batch normalisation: statistics, normalisation, gradient.
#include "common.h"

/* Rows are summed in float32 blocks of this many rows, then added into float64 totals. */
#define BLOCK_ROWS 32

static void zero_floats(float *a, int n) {
  for (int i = 0; i < n; i++) a[i] = 0.f;
}

/*
 * Adds the shifted sums of rows [r0, r1) of x ([rows, C], channels last) into s1 += Σ (x − shift), s2 += Σ (x − shift)²
 * (float64), summing blocks of rows in float32 first. `acc` is scratch for 2·C floats.
 */
static void add_shifted_sums(const float *x, int C, int r0, int r1, const float *shift, double *s1, double *s2, float *acc) {
  float *a1 = acc, *a2 = acc + C;
  for (int b0 = r0; b0 < r1; b0 += BLOCK_ROWS) {
    int b1 = b0 + BLOCK_ROWS < r1 ? b0 + BLOCK_ROWS : r1;
    zero_floats(acc, 2 * C);
    int r = b0;
    // Four rows per step: each channel's accumulators are loaded and stored once per four elements.
    for (; r + 4 <= b1; r += 4) {
      const float *x0 = x + (long)r * C, *x1 = x0 + C, *x2 = x1 + C, *x3 = x2 + C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const v128_t k = wasm_v128_load(shift + c);
        const v128_t v0 = wasm_f32x4_sub(wasm_v128_load(x0 + c), k), v1 = wasm_f32x4_sub(wasm_v128_load(x1 + c), k);
        const v128_t v2 = wasm_f32x4_sub(wasm_v128_load(x2 + c), k), v3 = wasm_f32x4_sub(wasm_v128_load(x3 + c), k);
        const v128_t sum = wasm_f32x4_add(wasm_f32x4_add(v0, v1), wasm_f32x4_add(v2, v3));
        const v128_t squares = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(v0, v0), wasm_f32x4_mul(v1, v1)),
                                              wasm_f32x4_add(wasm_f32x4_mul(v2, v2), wasm_f32x4_mul(v3, v3)));
        wasm_v128_store(a1 + c, wasm_f32x4_add(wasm_v128_load(a1 + c), sum));
        wasm_v128_store(a2 + c, wasm_f32x4_add(wasm_v128_load(a2 + c), squares));
      }
      for (; c < C; c++) {
        const float v0 = x0[c] - shift[c], v1 = x1[c] - shift[c], v2 = x2[c] - shift[c], v3 = x3[c] - shift[c];
        a1[c] += (v0 + v1) + (v2 + v3);
        a2[c] += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3);
      }
    }
    for (; r < b1; r++) {
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

/*
 * Batch-norm statistics of rows [r0, r1) of x ([rows, C], channels last), shifted by `shift` (each channel's first
 * value, so the variance is stable when |mean| ≫ std): s1 = Σ (x − shift), s2 = Σ (x − shift)², float64, overwritten.
 * `acc` is scratch for 2·C floats.
 */
EXPORT(bn_sums)
void bn_sums(const float *x, int C, const float *shift, double *s1, double *s2, float *acc, int r0, int r1) {
  for (int c = 0; c < C; c++) { s1[c] = 0; s2[c] = 0; }
  add_shifted_sums(x, C, r0, r1, shift, s1, s2, acc);
}

/* The activation after a BatchNorm, applied to y = (x − mean)·scale + beta: 0 = none, 1 = ReLU, 2 = ReLU6 (NaN kept). */
static inline v128_t activate(v128_t y, int act) {
  if (act == 0) return y;
  const v128_t clipped = act == 2 ? wasm_f32x4_pmin(wasm_f32x4_splat(6.f), wasm_f32x4_pmax(wasm_f32x4_splat(0.f), y))
                                  : wasm_f32x4_pmax(wasm_f32x4_splat(0.f), y);
  return wasm_v128_bitselect(y, clipped, wasm_f32x4_ne(y, y));
}

/* 1 where the activation passes its input (ReLU: y > 0; ReLU6: 0 ≤ y ≤ 6), as the separate gradients decide. */
static inline v128_t passes(v128_t y, int act) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  const v128_t mask = act == 2 ? wasm_v128_and(wasm_f32x4_ge(y, zero), wasm_f32x4_le(y, wasm_f32x4_splat(6.f)))
                               : wasm_f32x4_gt(y, zero);
  return wasm_v128_and(mask, wasm_f32x4_splat(1.f));
}

static inline float activate1(float y, int act) {
  if (act == 0 || y != y) return y;
  if (y < 0.f) return 0.f;
  return act == 2 && y > 6.f ? 6.f : y;
}

static inline float passes1(float y, int act) {
  return act == 2 ? (float)((y >= 0.f) & (y <= 6.f)) : (float)(y > 0.f);
}

/* dy from the activation's gradient dz: dz·passes(y) with y = xc·scale + beta (as normalise computed it); dz without one. */
static inline v128_t masked(v128_t dz, v128_t xc, const float *scale, const float *beta, int c, int act) {
  if (act == 0) return dz;
  const v128_t y = wasm_f32x4_add(wasm_f32x4_mul(xc, wasm_v128_load(scale + c)), wasm_v128_load(beta + c));
  return wasm_f32x4_mul(dz, passes(y, act));
}

static inline float masked1(float dz, float xc, const float *scale, const float *beta, int c, int act) {
  return act == 0 ? dz : dz * passes1(xc * scale[c] + beta[c], act);
}

/* z = act((x − mean)·scale + beta) for rows [r0, r1). */
static inline void normalise(const float *x, int C, int r0, int r1, const float *mean, const float *scale,
                             const float *beta, int act, float *z) {
  for (int r = r0; r < r1; r++) {
    const float *row = x + (long)r * C;
    float *out = z + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t v = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
      wasm_v128_store(out + c, activate(wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(scale + c)), wasm_v128_load(beta + c)), act));
    }
    for (; c < C; c++) out[c] = activate1((row[c] - mean[c]) * scale[c] + beta[c], act);
  }
}

/*
 * Gradient sums of rows [r0, r1): sdy = Σ dy, sdyx = Σ dy·(x − mean), float64, overwritten. With an activation (act ≠ 0)
 * the incoming gradient is the activation's (dz) and dy = dz·passes(y), y recomputed from x exactly as normalise did.
 */
static inline void grad_sums(const float *dz, const float *x, int C, int r0, int r1, const float *mean, const float *scale,
                             const float *beta, int act, double *sdy, double *sdyx, float *acc) {
  float *a1 = acc, *a2 = acc + C;
  for (int c = 0; c < C; c++) { sdy[c] = 0; sdyx[c] = 0; }
  for (int b0 = r0; b0 < r1; b0 += BLOCK_ROWS) {
    int b1 = b0 + BLOCK_ROWS < r1 ? b0 + BLOCK_ROWS : r1;
    zero_floats(acc, 2 * C);
    for (int r = b0; r < b1; r++) {
      const float *g = dz + (long)r * C, *row = x + (long)r * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const v128_t xc = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        const v128_t d = masked(wasm_v128_load(g + c), xc, scale, beta, c, act);
        wasm_v128_store(a1 + c, wasm_f32x4_add(wasm_v128_load(a1 + c), d));
        wasm_v128_store(a2 + c, wasm_f32x4_add(wasm_v128_load(a2 + c), wasm_f32x4_mul(d, xc)));
      }
      for (; c < C; c++) {
        const float xc = row[c] - mean[c];
        const float d = masked1(g[c], xc, scale, beta, c, act);
        a1[c] += d;
        a2[c] += d * xc;
      }
    }
    for (int c = 0; c < C; c++) { sdy[c] += a1[c]; sdyx[c] += a2[c]; }
  }
}

/* dx = a·dy + k·(x − mean) + b for rows [r0, r1) (the closed-form batch-norm gradient), dy as in grad_sums. */
static inline void grad_apply(const float *dz, const float *x, int C, int r0, int r1, const float *mean, const float *scale,
                              const float *beta, int act, const float *a, const float *k, const float *b, float *dx) {
  for (int r = r0; r < r1; r++) {
    const float *g = dz + (long)r * C, *row = x + (long)r * C;
    float *out = dx + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t xc = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
      const v128_t d = masked(wasm_v128_load(g + c), xc, scale, beta, c, act);
      const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(a + c), d),
                                      wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(k + c), xc), wasm_v128_load(b + c)));
      wasm_v128_store(out + c, v);
    }
    for (; c < C; c++) {
      const float xc = row[c] - mean[c];
      const float d = masked1(g[c], xc, scale, beta, c, act);
      out[c] = a[c] * d + (k[c] * xc + b[c]);
    }
  }
}

/* Plain BatchNorm (training and inference): y = (x − mean)·scale + beta; its gradient sums and dx. */
EXPORT(bn_apply)
void bn_apply(const float *x, int C, const float *mean, const float *scale, const float *beta, float *y, int r0, int r1) {
  normalise(x, C, r0, r1, mean, scale, beta, 0, y);
}

EXPORT(bn_grad_sums)
void bn_grad_sums(const float *dy, const float *x, int C, const float *mean, double *sdy, double *sdyx, float *acc,
                  int r0, int r1) {
  grad_sums(dy, x, C, r0, r1, mean, 0, 0, 0, sdy, sdyx, acc);
}

EXPORT(bn_grad_apply)
void bn_grad_apply(const float *dy, const float *x, int C, const float *mean, const float *a, const float *k, const float *b,
                   float *dx, int r0, int r1) {
  grad_apply(dy, x, C, r0, r1, mean, 0, 0, 0, a, k, b, dx);
}

/* BatchNorm with its ReLU (act 1) or ReLU6 (act 2): z = act(y) in one pass, and the gradient from dz. */
EXPORT(bn_apply_act)
void bn_apply_act(const float *x, int C, const float *mean, const float *scale, const float *beta, int act, float *z,
                  int r0, int r1) {
  normalise(x, C, r0, r1, mean, scale, beta, act, z);
}

EXPORT(bn_act_grad_sums)
void bn_act_grad_sums(const float *dz, const float *x, int C, const float *mean, const float *scale, const float *beta,
                      int act, double *sdy, double *sdyx, float *acc, int r0, int r1) {
  grad_sums(dz, x, C, r0, r1, mean, scale, beta, act, sdy, sdyx, acc);
}

EXPORT(bn_act_grad_apply)
void bn_act_grad_apply(const float *dz, const float *x, int C, const float *mean, const float *scale, const float *beta,
                       int act, const float *a, const float *k, const float *b, float *dx, int r0, int r1) {
  grad_apply(dz, x, C, r0, r1, mean, scale, beta, act, a, k, b, dx);
}
