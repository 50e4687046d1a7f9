// Per-channel arithmetic shared by the JavaScript and native BatchNorm kernels: statistics from sums, gradient coefficients.

/**
 * μ = shift + Σ(x − shift)/n, σ² = max(Σ(x − shift)²/n − (Σ(x − shift)/n)², 0), invStd = 1/√(σ² + ε) and the
 * normalisation's scale γ·invStd, per channel, from the shifted sums (float64) over n rows.
 */
export function statisticsFromSums(
  s1: Float64Array, s2: Float64Array, rows: number, shift: Float32Array, gamma: Float32Array, epsilon: number,
  mean: Float32Array, variance: Float32Array, invStd: Float32Array, scale: Float32Array,
): void {
  for (let c = 0; c < s1.length; c++) {
    const m = s1[c] / rows;
    const v = Math.max(s2[c] / rows - m * m, 0);
    const inv = 1 / Math.sqrt(v + epsilon);
    mean[c] = shift[c] + m;
    variance[c] = v;
    invStd[c] = inv;
    scale[c] = gamma[c] * inv;
  }
}

/**
 * From Σ dy and Σ dy·(x − μ) over n rows: dγ, dβ, and the per-channel a, k, b of dx = a·dy + k·(x − μ) + b
 * (g = γ·invStd; a = g, k = −g·invStd·dγ/n, b = −g·dβ/n).
 */
export function gradientCoefficients(
  sumDy: Float64Array, sumDyXc: Float64Array, rows: number, invStd: Float32Array, gamma: Float32Array,
  dGamma: Float32Array, dBeta: Float32Array, A: Float32Array, K: Float32Array, B: Float32Array,
): void {
  for (let c = 0; c < sumDy.length; c++) {
    const dg = invStd[c] * sumDyXc[c];
    dGamma[c] = dg;
    dBeta[c] = sumDy[c];
    const g = gamma[c] * invStd[c];
    A[c] = g;
    K[c] = -g * invStd[c] * dg / rows;
    B[c] = -g * sumDy[c] / rows;
  }
}
