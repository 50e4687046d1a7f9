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
      int c = 0;
      // The sum stays in a register across the taps (one store per dx element); a tap counts when its output exists.
      for (; c + 4 <= C; c += 4) {
        v128_t s = wasm_f32x4_splat(0.f);
        for (int kh = 0; kh < KH; kh++) {
          const int th = ih + PT - kh * DH;
          if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
          const float *d = dy + ((long)n * OH + th / SH) * OW * C + c, *f = w + (long)kh * KW * C + c;
          for (int kw = 0; kw < KW; kw++) {
            const int tw = iw + PL - kw * DW;
            if (tw < 0 || tw % SW != 0 || tw / SW >= OW) continue;
            s = madd(s, wasm_v128_load(d + (long)(tw / SW) * C), wasm_v128_load(f + (long)kw * C));
          }
        }
        wasm_v128_store(out + c, s);
      }
      for (; c < C; c++) {
        float s = 0.f;
        for (int kh = 0; kh < KH; kh++) {
          const int th = ih + PT - kh * DH;
          if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int tw = iw + PL - kw * DW;
            if (tw < 0 || tw % SW != 0 || tw / SW >= OW) continue;
            s += dy[(((long)n * OH + th / SH) * OW + tw / SW) * C + c] * w[((long)kh * KW + kw) * C + c];
          }
        }
        out[c] = s;
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
    // Taps whose input row is inside the image: kh in [kh0, kh1).
    int kh0 = 0, kh1 = KH;
    while (kh0 < KH && oh * SH - PT + kh0 * DH < 0) kh0++;
    while (kh1 > kh0 && oh * SH - PT + (kh1 - 1) * DH >= H) kh1--;
    for (int ow = 0; ow < OW; ow++) {
      int kw0 = 0, kw1 = KW;
      while (kw0 < KW && ow * SW - PL + kw0 * DW < 0) kw0++;
      while (kw1 > kw0 && ow * SW - PL + (kw1 - 1) * DW >= W) kw1--;
      const float *in0 = x + (((long)n * H + oh * SH - PT) * W + ow * SW - PL) * C;
      float *out = y + ((long)row * OW + ow) * C;
      int c = 0;
      // The sum stays in a register across the taps (one store per output element).
      for (; c + 4 <= C; c += 4) {
        v128_t s = wasm_f32x4_splat(0.f);
        for (int kh = kh0; kh < kh1; kh++) {
          const float *in = in0 + ((long)kh * DH * W) * C + c, *f = w + (long)kh * KW * C + c;
          for (int kw = kw0; kw < kw1; kw++) s = madd(s, wasm_v128_load(in + (long)kw * DW * C), wasm_v128_load(f + (long)kw * C));
        }
        wasm_v128_store(out + c, s);
      }
      for (; c < C; c++) {
        float s = 0.f;
        for (int kh = kh0; kh < kh1; kh++) {
          for (int kw = kw0; kw < kw1; kw++) s += in0[((long)kh * DH * W + (long)kw * DW) * C + c] * w[((long)kh * KW + kw) * C + c];
        }
        out[c] = s;
      }
    }
  }
}
