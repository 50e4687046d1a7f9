// SegScope's wasm SIMD kernel for the gradient of bilinear resizing (what the stock wasm kernel does in scalar code).
#include "common.h"

/* Resize geometry, a pointer to 5 ints: input (dx) height, width; output (dy) height, width; channels. */
enum { R_XH, R_XW, R_YH, R_YW, R_C };

/*
 * dx of a bilinear resize for images [n0, n1) (dx is [N, XH, XW, C], dy [N, YH, YW, C]): every dy pixel adds its
 * value, weighted by the bilinear coefficients, to the four input pixels it was sampled from — the sampling of
 * tfjs-backend-cpu's ResizeBilinearGrad (source = position · scale; the far neighbour is the ceiling, clamped).
 * Images are independent, so two threads may split them; dx is zeroed here.
 */
EXPORT(resize_bilinear_grad)
void resize_bilinear_grad(const int *g, const float *dy, float *dx, double hScale, double wScale, int n0, int n1) {
  const int XH = g[R_XH], XW = g[R_XW], YH = g[R_YH], YW = g[R_YW], C = g[R_C];
  for (long i = (long)n0 * XH * XW * C; i < (long)n1 * XH * XW * C; i++) dx[i] = 0.f;
  for (int n = n0; n < n1; n++) {
    float *image = dx + (long)n * XH * XW * C;
    for (int r = 0; r < YH; r++) {
      const double sr = r * hScale;
      const int top = (int)sr, bottom = (sr > top ? top + 1 : top) < XH - 1 ? (sr > top ? top + 1 : top) : XH - 1;
      const float rl = (float)(sr - top), irl = 1.f - rl;
      for (int col = 0; col < YW; col++) {
        const double sc = col * wScale;
        const int left = (int)sc, right = (sc > left ? left + 1 : left) < XW - 1 ? (sc > left ? left + 1 : left) : XW - 1;
        const float cl = (float)(sc - left), icl = 1.f - cl;
        const float *d = dy + (((long)n * YH + r) * YW + col) * C;
        float *tl = image + ((long)top * XW + left) * C, *tr = image + ((long)top * XW + right) * C;
        float *bl = image + ((long)bottom * XW + left) * C, *br = image + ((long)bottom * XW + right) * C;
        const v128_t wtl = wasm_f32x4_splat(irl * icl), wtr = wasm_f32x4_splat(irl * cl);
        const v128_t wbl = wasm_f32x4_splat(rl * icl), wbr = wasm_f32x4_splat(rl * cl);
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          const v128_t v = wasm_v128_load(d + c);
          wasm_v128_store(tl + c, madd(wasm_v128_load(tl + c), v, wtl));
          wasm_v128_store(tr + c, madd(wasm_v128_load(tr + c), v, wtr));
          wasm_v128_store(bl + c, madd(wasm_v128_load(bl + c), v, wbl));
          wasm_v128_store(br + c, madd(wasm_v128_load(br + c), v, wbr));
        }
        for (; c < C; c++) {
          tl[c] += d[c] * irl * icl; tr[c] += d[c] * irl * cl;
          bl[c] += d[c] * rl * icl; br[c] += d[c] * rl * cl;
        }
      }
    }
  }
}

/*
 * A bilinear resize for output rows [r0, r1) (index n·YH + r; x is [N, XH, XW, C], y [N, YH, YW, C]) with the sampling
 * of tfjs-backend-cpu's ResizeBilinear without half-pixel centres: source = position · scale, the far neighbour is
 * the ceiling clamped to the edge, y = top + (bottom − top)·rowFraction with top/bottom interpolated along the row.
 */
EXPORT(resize_bilinear)
void resize_bilinear(const int *g, const float *x, float *y, double hScale, double wScale, int r0, int r1) {
  const int XH = g[R_XH], XW = g[R_XW], YH = g[R_YH], YW = g[R_YW], C = g[R_C];
  for (int row = r0; row < r1; row++) {
    const int n = row / YH, r = row % YH;
    const double sr = r * hScale;
    const int top = (int)sr, bottom = (sr > top ? top + 1 : top) < XH - 1 ? (sr > top ? top + 1 : top) : XH - 1;
    const float rl = (float)(sr - top);
    const v128_t rlv = wasm_f32x4_splat(rl);
    const float *image = x + (long)n * XH * XW * C;
    float *out = y + (long)row * YW * C;
    for (int col = 0; col < YW; col++, out += C) {
      const double sc = col * wScale;
      const int left = (int)sc, right = (sc > left ? left + 1 : left) < XW - 1 ? (sc > left ? left + 1 : left) : XW - 1;
      const float cl = (float)(sc - left);
      const v128_t clv = wasm_f32x4_splat(cl);
      const float *tl = image + ((long)top * XW + left) * C, *tr = image + ((long)top * XW + right) * C;
      const float *bl = image + ((long)bottom * XW + left) * C, *br = image + ((long)bottom * XW + right) * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const v128_t a = wasm_v128_load(tl + c), b = wasm_v128_load(bl + c);
        const v128_t t = madd(a, wasm_f32x4_sub(wasm_v128_load(tr + c), a), clv);
        const v128_t u = madd(b, wasm_f32x4_sub(wasm_v128_load(br + c), b), clv);
        wasm_v128_store(out + c, madd(t, wasm_f32x4_sub(u, t), rlv));
      }
      for (; c < C; c++) {
        const float t = tl[c] + (tr[c] - tl[c]) * cl, u = bl[c] + (br[c] - bl[c]) * cl;
        out[c] = t + (u - t) * rl;
      }
    }
  }
}
