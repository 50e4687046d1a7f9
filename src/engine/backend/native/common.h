// Shared by SegScope's wasm SIMD kernels (the C files of this folder, built into one module by
// scripts/build-native-kernels.mjs with clang --target=wasm32 -msimd128, embedded in nativeKernelsBinary.ts).
//
// The module imports tfjs-backend-wasm's own memory and works on tensors in place, so it must never touch memory it
// was not handed: no static data, no shadow stack (no local arrays, no address-taken locals) — the build checks the
// output for both. Every kernel works on a range of rows or elements so two threads can split one call. Pointers are
// byte offsets into the heap.
#ifndef SEGSCOPE_COMMON_H
#define SEGSCOPE_COMMON_H
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/*
 * Convolution geometry, passed as a pointer to 14 ints (NHWC): input height, width, channels; output height, width;
 * filter height, width; strides (h, w); dilations (h, w); padding top, left; output channels.
 */
enum { G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_CO };

/*
 * For a filter column whose input column is iw = ow·SW + off: the first output column with iw ≥ 0 and the end (one
 * past the last) of those with iw < W, clamped to OW. Empty when end ≤ first.
 */
static inline int first_inside(int off, int SW) {
  return off < 0 ? (-off + SW - 1) / SW : 0;
}

static inline int end_inside(int off, int SW, int W, int OW) {
  const int end = (W - 1 - off) < 0 ? 0 : (W - 1 - off) / SW + 1;
  return end < OW ? end : OW;
}

/* c[0..3] += the four lanes of s, in float64. */
static inline void add_to_doubles(double *c, v128_t s) {
  wasm_v128_store(c, wasm_f64x2_add(wasm_v128_load(c), wasm_f64x2_promote_low_f32x4(s)));
  wasm_v128_store(c + 2, wasm_f64x2_add(wasm_v128_load(c + 2), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(s, s, 2, 3, 0, 1))));
}

#ifdef __wasm_relaxed_simd__
typedef float segscope_f32x4 __attribute__((vector_size(16)));
/* acc + a·b as one fused multiply-add where the CPU has one (relaxed SIMD: the last bit may differ from mul + add). */
static inline v128_t madd(v128_t acc, v128_t a, v128_t b) {
  return (v128_t)__builtin_wasm_relaxed_madd_f32x4((segscope_f32x4)a, (segscope_f32x4)b, (segscope_f32x4)acc);
}
#else
/* acc + a·b (separately rounded multiply and add). */
static inline v128_t madd(v128_t acc, v128_t a, v128_t b) {
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
}
#endif
#endif
