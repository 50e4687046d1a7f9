// SegScope's wasm SIMD kernels for activations forward (their gradients are in kernels.c).
// Same rules as kernels.c (no static data, no shadow stack); built into the same module by build-native-kernels.mjs.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

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
