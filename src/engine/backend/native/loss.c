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
