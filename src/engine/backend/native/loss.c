// SegScope's wasm SIMD kernel for the loss: softmax cross-entropy from logits with an ignore label, value and gradient in one pass.
#include "common.h"

#define LOG2E 1.44269504f
/* ln 2 in two parts: n·LN2_HI is exact for the |n| ≤ 126 used here. */
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
/* 1.5·2²³: x + MAGIC rounds x to an integer held in the low mantissa bits. */
#define MAGIC 12582912.f
/* Below this, e^x is under float32's smallest normal number: flushed to 0. */
#define EXP_CUTOFF -87.33654f

/*
 * e^x for x ≤ 0 (NaN stays NaN): x = n·ln2 + r with n rounded and |r| ≤ ln2/2, then e^x = 2ⁿ + 2ⁿ·r·p(r) with p of
 * degree 4 (minimax for the relative error of e^r, fitted for this kernel: within 2.3 ulp over [−87, 0]), 2ⁿ built in
 * the exponent bits.
 */
static inline v128_t exp_nonpositive(v128_t x) {
  const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(LOG2E)), wasm_f32x4_splat(MAGIC));
  // The low bits of t are n (two's complement); shifted into the exponent field with the bias they make 2ⁿ.
  const v128_t two_n = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127)), 23);
  const v128_t n = wasm_f32x4_sub(t, wasm_f32x4_splat(MAGIC));
  const v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(LN2_HI))), wasm_f32x4_mul(n, wasm_f32x4_splat(LN2_LO)));
  v128_t p = wasm_f32x4_splat(0.008290315f);
  p = madd(wasm_f32x4_splat(0.04189793f), p, r);
  p = madd(wasm_f32x4_splat(0.16667636f), p, r);
  p = madd(wasm_f32x4_splat(0.4999915f), p, r);
  p = madd(wasm_f32x4_splat(0.9999997f), p, r);
  const v128_t e = madd(two_n, wasm_f32x4_mul(two_n, r), p);
  return wasm_v128_andnot(e, wasm_f32x4_lt(x, wasm_f32x4_splat(EXP_CUTOFF)));
}

/* The lanes' maxima (sums) of four vectors a, b, c, d, as the four lanes of one. */
static inline v128_t max_of_each(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_f32x4_pmax(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
  const v128_t cd = wasm_f32x4_pmax(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5), wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
  return wasm_f32x4_pmax(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

static inline v128_t sum_of_each(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
  const v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5), wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

/* Lanes l < n all ones. */
static inline v128_t lanes_below(int n) {
  return wasm_i32x4_gt(wasm_i32x4_splat(n), wasm_i32x4_make(0, 1, 2, 3));
}

/*
 * Σ w·log s over the 4 lanes of s (row sums of exponentials, ≥ 1; NaN and ∞ pass through) and w, in float64:
 * s = 2ᵏ·m with m ∈ [√½, √2), log m = 2·atanh((m−1)/(m+1)) by its series. Four rows at a time so that the divisions
 * and series of different rows overlap. Returns the two float64 lanes (0+2, 1+3) of the weighted sum.
 */
static inline v128_t weighted_logs(v128_t s, v128_t w) {
  v128_t k = wasm_i32x4_sub(wasm_u32x4_shr(s, 23), wasm_i32x4_splat(127));
  v128_t m = wasm_v128_or(wasm_v128_and(s, wasm_i32x4_splat(0x7fffff)), wasm_i32x4_splat(0x3f800000));
  const v128_t high = wasm_f32x4_gt(m, wasm_f32x4_splat(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, wasm_f32x4_splat(0.5f)), m, high);
  k = wasm_i32x4_sub(k, high);
  // Not finite (s ≥ 1 otherwise): the result is s itself.
  const v128_t bad = wasm_v128_not(wasm_f32x4_lt(s, wasm_f32x4_splat(3.0e38f)));
  v128_t total = wasm_f64x2_splat(0.0);
  for (int half = 0; half < 2; half++) {
    const v128_t mh = half ? wasm_i32x4_shuffle(m, m, 2, 3, 0, 1) : m, kh = half ? wasm_i32x4_shuffle(k, k, 2, 3, 0, 1) : k;
    const v128_t sh = half ? wasm_i32x4_shuffle(s, s, 2, 3, 0, 1) : s, wh = half ? wasm_i32x4_shuffle(w, w, 2, 3, 0, 1) : w;
    const v128_t bh = wasm_i64x2_extend_low_i32x4(half ? wasm_i32x4_shuffle(bad, bad, 2, 3, 0, 1) : bad);
    const v128_t md = wasm_f64x2_promote_low_f32x4(mh), one = wasm_f64x2_splat(1.0);
    const v128_t t = wasm_f64x2_div(wasm_f64x2_sub(md, one), wasm_f64x2_add(md, one)), t2 = wasm_f64x2_mul(t, t);
    v128_t series = wasm_f64x2_splat(1.0 / 11);
    series = wasm_f64x2_add(wasm_f64x2_splat(1.0 / 9), wasm_f64x2_mul(series, t2));
    series = wasm_f64x2_add(wasm_f64x2_splat(1.0 / 7), wasm_f64x2_mul(series, t2));
    series = wasm_f64x2_add(wasm_f64x2_splat(1.0 / 5), wasm_f64x2_mul(series, t2));
    series = wasm_f64x2_add(wasm_f64x2_splat(1.0 / 3), wasm_f64x2_mul(series, t2));
    series = wasm_f64x2_add(one, wasm_f64x2_mul(series, t2));
    v128_t log = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(kh), wasm_f64x2_splat(0.6931471805599453)),
                                wasm_f64x2_mul(wasm_f64x2_add(t, t), series));
    log = wasm_v128_bitselect(wasm_f64x2_promote_low_f32x4(sh), log, bh);
    total = wasm_f64x2_add(total, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wh), log));
  }
  return total;
}

static inline int is_valid(int y, int C, int ignore) {
  return y != ignore && y >= 0 && y < C;
}

/* Lanes whose label is valid: unsigned y < C (negative labels are huge) and y ≠ ignore. */
static inline v128_t valid_lanes(v128_t y, int C, int ignore) {
  return wasm_v128_andnot(wasm_u32x4_lt(y, wasm_i32x4_splat(C)), wasm_i32x4_eq(y, wasm_i32x4_splat(ignore)));
}

/* weights[y] in the lanes whose label is valid, 0 in the others (which read weights[0] instead of out of range). */
static inline v128_t lane_weights(v128_t y, v128_t valid, const float *weights) {
  const v128_t i = wasm_v128_and(y, valid);
  return wasm_v128_and(valid, wasm_f32x4_make(weights[wasm_i32x4_extract_lane(i, 0)], weights[wasm_i32x4_extract_lane(i, 1)],
                                              weights[wasm_i32x4_extract_lane(i, 2)], weights[wasm_i32x4_extract_lane(i, 3)]));
}

/* Σ w_y over all `pixels` labels that are valid (w = 1 without weights), float64, four labels at a time (a fixed order). */
static double label_weight_sum(const int *labels, int pixels, int C, int ignore, const float *weights) {
  v128_t count = wasm_i32x4_splat(0), low = wasm_f64x2_splat(0.0), high = low;
  int p = 0;
  for (; p + 4 <= pixels; p += 4) {
    const v128_t y = wasm_v128_load(labels + p), valid = valid_lanes(y, C, ignore);
    if (!weights) {
      count = wasm_i32x4_sub(count, valid);
      continue;
    }
    const v128_t w = lane_weights(y, valid, weights);
    low = wasm_f64x2_add(low, wasm_f64x2_promote_low_f32x4(w));
    high = wasm_f64x2_add(high, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(w, w, 2, 3, 0, 1)));
  }
  double sum = (double)((long)wasm_i32x4_extract_lane(count, 0) + wasm_i32x4_extract_lane(count, 1) +
                        wasm_i32x4_extract_lane(count, 2) + wasm_i32x4_extract_lane(count, 3));
  sum += (wasm_f64x2_extract_lane(low, 0) + wasm_f64x2_extract_lane(low, 1)) + (wasm_f64x2_extract_lane(high, 0) + wasm_f64x2_extract_lane(high, 1));
  for (; p < pixels; p++) if (is_valid(labels[p], C, ignore)) sum += weights ? weights[labels[p]] : 1.0;
  return sum;
}

static inline void zero_floats(float *a, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(a + i, wasm_f32x4_splat(0.f));
  for (; i < n; i++) a[i] = 0.f;
}

/* The maximum of a row of C ≥ 4 values, in every lane of a vector not yet reduced (the last C mod 4 values by an overlapping load). */
static inline v128_t row_max(const float *z, int C) {
  v128_t m = wasm_v128_load(z);
  for (int c = 4; c + 4 <= C; c += 4) m = wasm_f32x4_pmax(m, wasm_v128_load(z + c));
  return C & 3 ? wasm_f32x4_pmax(m, wasm_v128_load(z + C - 4)) : m;
}

#define BYTES_OF_LANE(l) ((l) * 0x04040404 + 0x03020100)
#define ROW_OF(j, l, C) ((4 * (j) + (l)) / (C))
/* v's lane for the row of each element of vector j of four rows (a constant shuffle once C and j are constants). */
#define SPREAD(v, j, C) wasm_i8x16_swizzle(v, wasm_i32x4_make(BYTES_OF_LANE(ROW_OF(j, 0, C)), BYTES_OF_LANE(ROW_OF(j, 1, C)), \
                                                           BYTES_OF_LANE(ROW_OF(j, 2, C)), BYTES_OF_LANE(ROW_OF(j, 3, C))))

/*
 * Four rows of C ≥ 4 classes (z, labels and g point at the first), C a compile-time constant: the 4·C values are C
 * vectors, lane l of vector j in row (4j + l)/C, so no lane is computed twice and the four rows' maxima, sums and
 * scales travel as the lanes of one vector. Writes g = w_y·invNorm·(softmax(z) − onehot(y)) (exactly 0 at void rows),
 * adds Σ w_y·(max − z_y) to *numerator and returns Σ w_y·log(sum) as two float64 lanes.
 */
static inline __attribute__((always_inline)) v128_t four_rows(
    const float *z, const int *labels, const int C, int ignore, const float *weights, float invNorm, float *g,
    double *numerator) {
  const v128_t y = wasm_v128_load(labels);
  const v128_t valid = valid_lanes(y, C, ignore);
  const v128_t w = weights ? lane_weights(y, valid, weights) : wasm_v128_and(valid, wasm_f32x4_splat(1.f));
  const v128_t maxima = max_of_each(row_max(z, C), row_max(z + C, C), row_max(z + 2 * C, C), row_max(z + 3 * C, C));
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
#pragma clang loop unroll(full)
  for (int j = 0; j < C; j++) {
    const v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(z + 4 * j), SPREAD(maxima, j, C)));
    wasm_v128_store(g + 4 * j, e);
    // Each lane into its row's sum (the row indices are constants: the branches fold away).
    const int lo = ROW_OF(j, 0, C), hi = ROW_OF(j, 3, C);
    const v128_t inLo = lanes_below((lo + 1) * C - 4 * j);
    const v128_t eLo = lo == hi ? e : wasm_v128_and(e, inLo), eHi = wasm_v128_andnot(e, inLo);
    if (lo == 0) s0 = wasm_f32x4_add(s0, eLo);
    else if (lo == 1) s1 = wasm_f32x4_add(s1, eLo);
    else if (lo == 2) s2 = wasm_f32x4_add(s2, eLo);
    else s3 = wasm_f32x4_add(s3, eLo);
    if (hi != lo) {
      if (hi == 1) s1 = wasm_f32x4_add(s1, eHi);
      else if (hi == 2) s2 = wasm_f32x4_add(s2, eHi);
      else s3 = wasm_f32x4_add(s3, eHi);
    }
  }
  // Void rows: sum 1 and weight 0, so they add nothing to the loss even when their logits are not finite.
  const v128_t sums = wasm_v128_bitselect(sum_of_each(s0, s1, s2, s3), wasm_f32x4_splat(1.f), valid);
  const v128_t wn = wasm_f32x4_mul(w, wasm_f32x4_splat(invNorm));
  const v128_t scale = wasm_f32x4_div(wn, sums);
#pragma clang loop unroll(full)
  for (int j = 0; j < C; j++) wasm_v128_store(g + 4 * j, wasm_f32x4_mul(wasm_v128_load(g + 4 * j), SPREAD(scale, j, C)));
  // Per row: the label's −w/norm, the loss's w·(max − z_y); void rows exactly 0.
#define FINISH_ROW(r)                                                                                              \
  if (is_valid(labels[r], C, ignore)) {                                                                            \
    g[(r) * C + labels[r]] -= wasm_f32x4_extract_lane(wn, r);                                                     \
    *numerator += (double)wasm_f32x4_extract_lane(w, r) * ((double)wasm_f32x4_extract_lane(maxima, r) - z[(r) * C + labels[r]]); \
  } else {                                                                                                         \
    zero_floats(g + (r) * C, C);                                                                                   \
  }
  FINISH_ROW(0) FINISH_ROW(1) FINISH_ROW(2) FINISH_ROW(3)
#undef FINISH_ROW
  return weighted_logs(sums, w);
}

/* One row of any C ≥ 1 (the rows left over from four_rows, or a C it is not compiled for); returns the row's sum of exponentials. */
static inline float one_row(const float *z, int C, float *g, float max, float wn) {
  v128_t vsum = wasm_f32x4_splat(0.f), last = vsum;
  const v128_t m = wasm_f32x4_splat(max);
  int c = 0;
  for (; c + 4 <= C; c += 4) {
    const v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(z + c), m));
    wasm_v128_store(g + c, e);
    vsum = wasm_f32x4_add(vsum, e);
  }
  const int tail = C & 3;
  float sum;
  if (C < 4) {
    sum = 0.f;
    for (c = 0; c < C; c++) sum += g[c] = wasm_f32x4_extract_lane(exp_nonpositive(wasm_f32x4_splat(z[c] - max)), 0);
  } else {
    // The last C mod 4 values as the last 4 (overlapping the previous vector): only the fresh lanes count.
    if (tail) {
      last = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(z + C - 4), m));
      vsum = wasm_f32x4_add(vsum, wasm_v128_andnot(last, lanes_below(4 - tail)));
    }
    sum = wasm_f32x4_extract_lane(sum_of_each(vsum, vsum, vsum, vsum), 0);
  }
  const float k = wn / sum;
  const v128_t kv = wasm_f32x4_splat(k);
  for (c = 0; c + 4 <= C; c += 4) wasm_v128_store(g + c, wasm_f32x4_mul(wasm_v128_load(g + c), kv));
  if (C < 4) for (; c < C; c++) g[c] *= k;
  // Written after the full vectors: the overlapping lanes get the same products again.
  else if (tail) wasm_v128_store(g + C - 4, wasm_f32x4_mul(last, kv));
  return sum;
}

/* Rows [begin, end): four at a time when inFours (then C is a compile-time constant ≥ 4), the rest row by row; adds the loss numerator to acc[0]. */
static inline __attribute__((always_inline)) void softmax_ce_rows(
    const float *logits, const int *labels, const int C, int ignore, const float *weights, float *grad, double norm,
    double *acc, int begin, int end, int inFours) {
  const float invNorm = (float)(1.0 / norm);
  // Σ w·(max − z_y) row by row, Σ w·log(sum) four rows at a time.
  double numerator = 0.0;
  v128_t logs = wasm_f64x2_splat(0.0);
  int p = begin;
  if (inFours) {
    for (; p + 4 <= end; p += 4) {
      float *g = grad + (long)p * C;
      if (!wasm_v128_any_true(valid_lanes(wasm_v128_load(labels + p), C, ignore))) {
        zero_floats(g, 4 * C);
        continue;
      }
      logs = wasm_f64x2_add(logs, four_rows(logits + (long)p * C, labels + p, C, ignore, weights, invNorm, g, &numerator));
    }
  }
  for (; p < end; p++) {
    const int y = labels[p];
    const float *z = logits + (long)p * C;
    float *g = grad + (long)p * C;
    if (!is_valid(y, C, ignore)) {
      zero_floats(g, C);
      continue;
    }
    const float w = weights ? weights[y] : 1.f, wn = w * invNorm;
    float max = z[0];
    if (C < 4) for (int c = 1; c < C; c++) max = z[c] > max || z[c] != z[c] ? z[c] : max;
    else {
      const v128_t m = row_max(z, C);
      max = wasm_f32x4_extract_lane(max_of_each(m, m, m, m), 0);
    }
    const float sum = one_row(z, C, g, max, wn);
    g[y] -= wn;
    numerator += (double)w * ((double)max - z[y]);
    logs = wasm_f64x2_add(logs, weighted_logs(wasm_f32x4_make(sum, 1.f, 1.f, 1.f), wasm_f32x4_make(w, 0.f, 0.f, 0.f)));
  }
  acc[0] += numerator + (wasm_f64x2_extract_lane(logs, 0) + wasm_f64x2_extract_lane(logs, 1));
}

/*
 * Softmax cross-entropy of rows [begin, end) of logits ([pixels, C]) with labels ([pixels] int32), one pass over the
 * rows: with norm = max(Σ w_y over all valid pixels, 1e-12) (each call recomputes it from the labels alone), grad =
 * w_y·(softmax(z) − onehot(y))/norm, and exactly 0 at pixels whose label is the ignore label or outside 0..C−1;
 * acc[0] += Σ w_y·(log Σ e^(z − max) − (z_y − max)) over the valid pixels of the range, float64; acc[1] = Σ w_y.
 * w_y = weights[y], or 1 when weights is 0. Exponentials under ~1e-38 are 0.
 */
EXPORT(softmax_ce)
void softmax_ce(const float *logits, const int *labels, int pixels, int C, int ignore, const float *weights, float *grad,
                double *acc, int begin, int end) {
  const double weightSum = label_weight_sum(labels, pixels, C, ignore, weights);
  const double norm = weightSum > 1e-12 ? weightSum : 1e-12;
  acc[1] = weightSum;
  // Four rows at a time for the usual class counts (21: Pascal VOC, 19: Cityscapes); row by row otherwise.
  if (C == 21) softmax_ce_rows(logits, labels, 21, ignore, weights, grad, norm, acc, begin, end, 1);
  else if (C == 19) softmax_ce_rows(logits, labels, 19, ignore, weights, grad, norm, acc, begin, end, 1);
  else softmax_ce_rows(logits, labels, C, ignore, weights, grad, norm, acc, begin, end, 0);
}
