// SegScope's wasm SIMD kernels for depthwise-convolution gradients (channel multiplier 1, NHWC, any stride/dilation).
#include "common.h"

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
        const int off = kw * DW - PL, ow0 = first_inside(off, SW), ow1 = end_inside(off, SW, W, OW);
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

/*
 * A depthwise convolution forward for output rows [r0, r1) (index n·OH + oh): y[n, oh, ow, c] = Σ over taps inside
 * the image of x[n, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW, c]·w[kh, kw, c].
 */
EXPORT(depthwise_forward)
void depthwise_forward(const int *g, const float *x, const float *w, float *y, int r0, int r1) {
  const int H = g[G_H], W = g[G_W], C = g[G_C], OH = g[G_OH], OW = g[G_OW], KH = g[G_KH], KW = g[G_KW];
  const int SH = g[G_SH], SW = g[G_SW], DH = g[G_DH], DW = g[G_DW], PT = g[G_PT], PL = g[G_PL];
  for (int row = r0; row < r1; row++) {
    const int n = row / OH, oh = row % OH;
    for (int ow = 0; ow < OW; ow++) {
      float *out = y + ((long)row * OW + ow) * C;
      for (int c = 0; c < C; c++) out[c] = 0.f;
      for (int kh = 0; kh < KH; kh++) {
        const int ih = oh * SH - PT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < KW; kw++) {
          const int iw = ow * SW - PL + kw * DW;
          if (iw < 0 || iw >= W) continue;
          const float *in = x + (((long)n * H + ih) * W + iw) * C;
          const float *f = w + ((long)kh * KW + kw) * C;
          int c = 0;
          for (; c + 4 <= C; c += 4) {
            wasm_v128_store(out + c, madd(wasm_v128_load(out + c), wasm_v128_load(in + c), wasm_v128_load(f + c)));
          }
          for (; c < C; c++) out[c] += in[c] * f[c];
        }
      }
    }
  }
}
