// Label rules: values outside the classes, the ignore value inside one-hot targets, interpolated masks, class imbalance.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt, listOf } from '../finding';
import type { StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

function isValidLabel(value: number, numClasses: number, ignoreLabel: number): boolean {
  return value === ignoreLabel || (Number.isInteger(value) && value >= 0 && value < numClasses);
}

/**
 * labels/out-of-range: label values that are neither a class nor the ignore value. When the source masks are known,
 * only values already present there count (values invented by resizing are labels/interpolated-mask).
 */
export function labelsOutOfRange(obs: StaticObservations): Finding[] {
  const { numClasses } = obs.config;
  const { ignoreLabel } = obs.config.data;
  const seen = obs.batch.sourceMaskValues ?? obs.batch.maskValues;
  const bad = seen.filter((v) => !isValidLabel(v, numClasses, ignoreLabel));
  if (bad.length === 0) return [];
  const pixels = bad.reduce((sum, v) => sum + (obs.batch.maskValueCounts[v] ?? 0), 0);
  return [finding(
    'labels/out-of-range', 'error',
    `The masks contain label value${bad.length > 1 ? 's' : ''} ${listOf(bad)}, but with ${numClasses} classes a label must be 0–${numClasses - 1} or the ignore value ${ignoreLabel}, so the loss reads past the last class.`,
    `List one name per label value in data.classes (it has ${numClasses}), or fix the masks so that those pixels carry a class index or ${ignoreLabel}.`,
    { badValues: bad.join(','), pixelsInFirstBatch: pixels, numClasses, ignoreLabel, largestLabel: Math.max(...bad) },
    { configKey: 'data.classes' },
  )];
}

/** labels/ignore-in-onehot: one-hot targets carry the ignore value in class channels (the loss sees it as a weight). */
export function labelsIgnoreInOneHot(obs: StaticObservations): Finding[] {
  const { loss } = obs.config;
  const { ignoreLabel } = obs.config.data;
  if (loss.target !== 'onehot') return [];
  const voidPixels = obs.oneHotTargets?.voidPixels ?? obs.batch.maskValueCounts[ignoreLabel] ?? 0;
  // Measured when the loss exposes its targets; otherwise what the config says will be written.
  const maxValue = obs.oneHotTargets?.maxChannelValue ?? (loss.onehotIgnore === 'value' && voidPixels > 0 ? ignoreLabel : 1);
  if (maxValue <= 1 || voidPixels === 0) return [];
  return [finding(
    'labels/ignore-in-onehot', 'error',
    `The one-hot targets hold the ignore value ${fmt(maxValue)} in every class channel at ${voidPixels} void pixels, so the loss multiplies those pixels' log-probabilities by ${fmt(maxValue)} instead of ignoring them.`,
    'Set loss.onehotIgnore to "zero" (void pixels become all-zero target rows) or use loss.target "index".',
    { maxTargetValue: maxValue, voidPixelsInFirstBatch: voidPixels, ignoreLabel, measured: obs.oneHotTargets !== undefined },
    { configKey: 'loss.onehotIgnore' },
  )];
}

/** labels/interpolated-mask: the preprocessed masks contain label values that the source masks never had. */
export function labelsInterpolatedMask(obs: StaticObservations): Finding[] {
  const source = obs.batch.sourceMaskValues;
  if (!source) return [];
  const known = new Set(source);
  const invented = obs.batch.maskValues.filter((v) => !known.has(v));
  if (invented.length === 0) return [];
  const pixels = invented.reduce((sum, v) => sum + (obs.batch.maskValueCounts[v] ?? 0), 0);
  const resize = obs.config.data.maskResize;
  return [finding(
    'labels/interpolated-mask', 'error',
    `After resizing, the masks contain label value${invented.length > 1 ? 's' : ''} ${listOf(invented)} that the mask files never contain (${pixels} pixels in the first batch): ${resize === 'bilinear' ? 'bilinear' : 'the'} resizing blends neighbouring labels into new ones, such as a class between two others.`,
    'Set data.maskResize to "nearest", which only ever copies existing label values.',
    { inventedValues: invented.join(','), inventedPixels: pixels, sourceValues: source.join(','), maskResize: resize },
    { configKey: 'data.maskResize' },
  )];
}

/** labels/imbalance: most frequent present class has over 100× the pixels of the least frequent present class. */
export function labelsImbalance(obs: StaticObservations): Finding[] {
  const counts = obs.classPixelCounts;
  if (!counts) return [];
  const present = counts.map((c, i) => ({ c, i })).filter(({ c }) => c > 0);
  if (present.length < 2) return [];
  const most = present.reduce((a, b) => (b.c > a.c ? b : a));
  const least = present.reduce((a, b) => (b.c < a.c ? b : a));
  const ratio = most.c / least.c;
  if (ratio <= THRESHOLDS.imbalanceRatio) return [];
  if (obs.config.loss.classWeights !== undefined || obs.config.loss.type === 'focal' || obs.config.loss.type === 'weighted-ce') return [];
  const names = obs.config.data.classes;
  return [finding(
    'labels/imbalance', 'warning',
    `Class "${names[most.i] ?? most.i}" covers ${fmt(ratio)}× more pixels than class "${names[least.i] ?? least.i}", so a plain cross-entropy can stay low while never predicting the rare class.`,
    'Set loss.classWeights to "inverse-frequency" (or loss.type to "focal"), so that rare classes count as much as frequent ones.',
    { ratio, mostFrequentClass: names[most.i] ?? most.i, mostPixels: most.c, leastFrequentClass: names[least.i] ?? least.i, leastPixels: least.c },
    { configKey: 'loss.classWeights' },
  )];
}
