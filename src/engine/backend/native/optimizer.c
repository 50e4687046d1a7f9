// SegScope's wasm SIMD kernel for the optimizer: one fused Adam update per variable.
#include "common.h"

/*
 * One Adam step for elements [begin, end), in float32 and in the order of tfjs-core 4.22's AdamOptimizer, so the
 * results match it bit for bit (every step below is one correctly rounded float32 operation there too):
 *   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2);  w' = (m'/bias1) / (sqrt(v'/bias2) + ε) · (−lr) + w
 * where bias1 = 1 − β1ᵗ and bias2 = 1 − β2ᵗ. The outputs may be the inputs themselves: each element is read first.
 */
EXPORT(adam_update)
void adam_update(const float *g, const float *w, const float *m, const float *v, float *w_out, float *m_out, float *v_out,
                 float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float bias1, float bias2,
                 float epsilon, float neg_lr, int begin, int end) {
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
