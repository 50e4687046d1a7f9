// input/range: the image tensor's values do not match the normalisation the config and the backbone expect.
import type { Finding } from '../../../protocol/runEvents';
import type { Normalization } from '../../../protocol/config';
import { finding, fmt } from '../finding';
import type { StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

/** Value range each normalisation produces from 8-bit images. */
export const NORMALIZATION_RANGE: Record<Normalization, [number, number]> = {
  '-1..1': [-1, 1],
  '0..1': [0, 1],
  // (0 − 0.485)/0.229 and (1 − 0.406)/0.225: the extremes over the three ImageNet channels.
  imagenet: [-2.118, 2.64],
};

/** The normalisation the built-in backbones were designed for (Keras' MobileNetV2 and Xception preprocess to [-1, 1]). */
export function backboneNormalization(obs: StaticObservations): Normalization | undefined {
  const m = obs.config.model;
  if (m.arch === 'deeplabv3plus' || m.arch === 'bench') return '-1..1';
  return undefined;
}

export function inputRange(obs: StaticObservations): Finding[] {
  const declared = obs.config.data.normalize;
  const [lo, hi] = NORMALIZATION_RANGE[declared];
  const { min, max, mean, std } = obs.batch.images;
  const slack = THRESHOLDS.inputRangeSlack * (hi - lo);
  const evidence = { min, max, mean, std, normalize: declared, expectedMin: lo, expectedMax: hi };
  if (min < lo - slack || max > hi + slack) {
    return [finding(
      'input/range', 'error',
      `The images reach the network with values from ${fmt(min)} to ${fmt(max)} (mean ${fmt(mean)}), but data.normalize "${declared}" means ${lo}..${hi}, so the first layers see inputs ${fmt(Math.max(Math.abs(min), Math.abs(max)) / Math.max(Math.abs(lo), Math.abs(hi)))}× larger than they were built for.`,
      `Make the data pipeline apply data.normalize once (raw 0..255 pixels must be divided down), or set data.normalize to the range your images really have.`,
      evidence, { configKey: 'data.normalize' },
    )];
  }
  const expected = backboneNormalization(obs);
  if (expected && expected !== declared) {
    const pretrained = obs.config.model.weights !== undefined;
    return [finding(
      'input/range', pretrained ? 'error' : 'warning',
      `The ${obs.config.model.backbone} backbone expects inputs in ${NORMALIZATION_RANGE[expected].join('..')}, but data.normalize "${declared}" feeds it ${fmt(min)}..${fmt(max)} (mean ${fmt(mean)})${pretrained ? ', which its pretrained weights were never trained on' : ''}.`,
      `Set data.normalize to "${expected}".`,
      { ...evidence, backboneExpects: expected, pretrainedWeights: pretrained }, { configKey: 'data.normalize' },
    )];
  }
  return [];
}
