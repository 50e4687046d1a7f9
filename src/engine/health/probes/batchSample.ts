// Summarises the first batch for the rules: image statistics, label values after preprocessing, and in the source files.
import type { BatchSample, TensorRange } from '../observations';

export function rangeOf(values: ArrayLike<number>): TensorRange {
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = values.length > 0 ? sum / values.length : 0;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { min, max, mean, std: values.length > 0 ? Math.sqrt(squares / values.length) : 0 };
}

export function valueCounts(values: ArrayLike<number>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (let i = 0; i < values.length; i++) counts[values[i]] = (counts[values[i]] ?? 0) + 1;
  return counts;
}

export function sortedKeys(counts: Record<number, number>): number[] {
  return Object.keys(counts).map(Number).sort((a, b) => a - b);
}

/** `sourceMasks`: the label maps of the same samples as decoded from their files, before resizing (when available). */
export function summarizeBatch(
  batch: { images: Float32Array; masks: Int32Array; batchSize: number; size: number },
  sourceMasks?: ArrayLike<number>[],
): BatchSample {
  const maskValueCounts = valueCounts(batch.masks);
  let sourceMaskValues: number[] | undefined;
  if (sourceMasks) {
    const seen = new Set<number>();
    for (const m of sourceMasks) for (let i = 0; i < m.length; i++) seen.add(m[i]);
    sourceMaskValues = [...seen].sort((a, b) => a - b);
  }
  return {
    batchSize: batch.batchSize, size: batch.size, images: rangeOf(batch.images),
    maskValues: sortedKeys(maskValueCounts), maskValueCounts, sourceMaskValues,
  };
}
