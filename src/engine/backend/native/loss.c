// SegScope's wasm SIMD kernel for the loss: the gradient of softmax cross-entropy with an ignore label.
#include "common.h"

/*
 * For pixels [begin, end) of probs ([pixels, C], the softmax of the logits): grad = w_y·(p − onehot(y))·invNorm, and 0
 * at pixels whose label is the ignore label or outside 0..C−1. w_y = weights[y], or 1 when weights is 0.
 */
EXPORT(softmax_ce_grad)
void softmax_ce_grad(const float *probs, const int *labels, int C, int ignore, const float *weights, float invNorm,
                     float *grad, int begin, int end) {
  for (int p = begin; p < end; p++) {
    const int y = labels[p];
    const float *prob = probs + (long)p * C;
    float *out = grad + (long)p * C;
    int c = 0;
    if (y == ignore || y < 0 || y >= C) {
      for (; c < C; c++) out[c] = 0.f;
      continue;
    }
    const float s = (weights ? weights[y] : 1.f) * invNorm;
    const v128_t sv = wasm_f32x4_splat(s);
    for (; c + 4 <= C; c += 4) wasm_v128_store(out + c, wasm_f32x4_mul(wasm_v128_load(prob + c), sv));
    for (; c < C; c++) out[c] = prob[c] * s;
    out[y] -= s;
  }
}

/* e^x for 4 lanes (x ≤ 0 here, after subtracting the row maximum): 2^n · p(r), |relative error| < 2e-7. */
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_max(x, wasm_f32x4_splat(-87.0f));
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  // r = x − n·ln 2 in two steps (Cody–Waite), so r stays exact enough.
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  // Taylor/minimax polynomial of e^r on [−ln2/2, ln2/2] (Cephes expf coefficients).
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), wasm_f32x4_add(r, wasm_f32x4_splat(1.f)));
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

/* The same for one value (lane 0). */
static inline float exp1(float x) {
  return wasm_f32x4_extract_lane(exp4(wasm_f32x4_splat(x)), 0);
}

/* y = softmax(x) over the last axis (C values per row) for rows [r0, r1). */
EXPORT(softmax_rows)
void softmax_rows(const float *x, float *y, int C, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const float *in = x + (long)r * C;
    float *out = y + (long)r * C;
    float max = in[0];
    for (int c = 1; c < C; c++) max = in[c] > max ? in[c] : max;
    const v128_t m = wasm_f32x4_splat(max);
    v128_t sum4 = wasm_f32x4_splat(0.f);
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(in + c), m));
      wasm_v128_store(out + c, e);
      sum4 = wasm_f32x4_add(sum4, e);
    }
    float sum = wasm_f32x4_extract_lane(sum4, 0) + wasm_f32x4_extract_lane(sum4, 1) +
                wasm_f32x4_extract_lane(sum4, 2) + wasm_f32x4_extract_lane(sum4, 3);
    for (; c < C; c++) {
      out[c] = exp1(in[c] - max);
      sum += out[c];
    }
    const float inv = 1.f / sum;
    const v128_t iv = wasm_f32x4_splat(inv);
    c = 0;
    for (; c + 4 <= C; c += 4) wasm_v128_store(out + c, wasm_f32x4_mul(wasm_v128_load(out + c), iv));
    for (; c < C; c++) out[c] *= inv;
  }
}
