// SegScope's wasm SIMD kernels for ReLU and ReLU6: forward, and gradients (dy masked where the activation passes x).
#include "common.h"

/* y = max(x, 0) for elements [begin, end); NaN stays NaN, like tfjs' Relu. */
EXPORT(relu_forward)
void relu_forward(const float *x, float *y, int begin, int end) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  int i = begin;
  for (; i + 4 <= end; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    // Keep v where v > 0 or v is NaN (v != v), else 0.
    const v128_t keep = wasm_v128_or(wasm_f32x4_gt(v, zero), wasm_f32x4_ne(v, v));
    wasm_v128_store(y + i, wasm_v128_and(v, keep));
  }
  for (; i < end; i++) y[i] = x[i] > 0.f || x[i] != x[i] ? x[i] : 0.f;
}

/* y = min(max(x, 0), 6) for elements [begin, end); NaN stays NaN. */
EXPORT(relu6_forward)
void relu6_forward(const float *x, float *y, int begin, int end) {
  const v128_t zero = wasm_f32x4_splat(0.f), six = wasm_f32x4_splat(6.f);
  int i = begin;
  for (; i + 4 <= end; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    const v128_t clipped = wasm_f32x4_pmin(six, wasm_f32x4_pmax(zero, v));
    wasm_v128_store(y + i, wasm_v128_bitselect(v, clipped, wasm_f32x4_ne(v, v)));
  }
  for (; i < end; i++) y[i] = x[i] != x[i] ? x[i] : x[i] < 0.f ? 0.f : x[i] > 6.f ? 6.f : x[i];
}

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

/* y = act(y + bias) in place for rows [r0, r1) of y ([rows, N]); act 0 = linear, 1 = ReLU, 2 = ReLU6 (NaN kept). */
EXPORT(bias_activation)
void bias_activation(float *y, const float *bias, int N, int act, int r0, int r1) {
  const v128_t zero = wasm_f32x4_splat(0.f), six = wasm_f32x4_splat(6.f);
  for (int r = r0; r < r1; r++) {
    float *row = y + (long)r * N;
    int c = 0;
    for (; c + 4 <= N; c += 4) {
      v128_t v = wasm_v128_load(row + c);
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c));
      if (act != 0) {
        v128_t clipped = wasm_f32x4_pmax(zero, v);
        if (act == 2) clipped = wasm_f32x4_pmin(six, clipped);
        v = wasm_v128_bitselect(v, clipped, wasm_f32x4_ne(v, v));
      }
      wasm_v128_store(row + c, v);
    }
    for (; c < N; c++) {
      float v = row[c] + (bias ? bias[c] : 0.f);
      if (act != 0 && v == v) v = v < 0.f ? 0.f : act == 2 && v > 6.f ? 6.f : v;
      row[c] = v;
    }
  }
}
