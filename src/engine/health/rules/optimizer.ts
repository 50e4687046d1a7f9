// Optimizer rules: Adadelta's default learning rate, update/weight ratios outside the healthy band, nothing to train.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt } from '../finding';
import type { BatchObservations, EpochObservations, StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

/** optim/adadelta-default-lr: Adadelta at 0.001, the tfjs/Keras default, 1000× below the paper's 1.0. */
export function optimAdadeltaDefaultLr(obs: StaticObservations): Finding[] {
  const opt = obs.config.train.optimizer;
  if (opt.name !== 'adadelta' || Math.abs(opt.learningRate - THRESHOLDS.adadeltaDefaultLearningRate) > 1e-12) return [];
  return [finding(
    'optim/adadelta-default-lr', 'warning',
    'Adadelta runs with learning rate 0.001, the tfjs/Keras default, which is 1000× smaller than the 1.0 the Adadelta paper uses, so the weights barely move.',
    'Set train.optimizer.learningRate to 1.0 (or switch train.optimizer.name to "adam", whose default 0.001 is fine).',
    { optimizer: 'adadelta', learningRate: opt.learningRate, paperLearningRate: 1.0 },
    { configKey: 'train.optimizer.learningRate' },
  )];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** optim/update-ratio: for most trainable layers ‖Δw‖/‖w‖ is outside [1e-5, 1e-1]. */
export function optimUpdateRatio(obs: EpochObservations): Finding[] {
  const measured = obs.layerOrder
    .map((name) => ({ name, r: obs.layers[name]?.updateRatio }))
    .filter((x): x is { name: string; r: number } => x.r !== undefined && Number.isFinite(x.r));
  if (measured.length === 0) return [];
  const below = measured.filter((x) => x.r < THRESHOLDS.updateRatioLow);
  const above = measured.filter((x) => x.r > THRESHOLDS.updateRatioHigh);
  const outside = below.length + above.length;
  if (outside <= THRESHOLDS.updateRatioLayerFraction * measured.length) return [];
  const tooSmall = below.length >= above.length;
  const med = median(measured.map((x) => x.r));
  const lr = obs.config.train.optimizer.learningRate;
  return [finding(
    'optim/update-ratio', 'warning',
    tooSmall
      ? `Each step changes the weights of ${below.length} of ${measured.length} layers by less than ${fmt(THRESHOLDS.updateRatioLow)} of their size (median ${fmt(med)}; about 1e-3 is healthy), so training is far too slow to get anywhere.`
      : `Each step changes the weights of ${above.length} of ${measured.length} layers by more than ${fmt(THRESHOLDS.updateRatioHigh)} of their size (median ${fmt(med)}; about 1e-3 is healthy), so every step overwrites what was learned.`,
    tooSmall
      ? `Raise train.optimizer.learningRate (now ${fmt(lr)}); aim for update/weight ratios near 1e-3.`
      : `Lower train.optimizer.learningRate (now ${fmt(lr)}); aim for update/weight ratios near 1e-3.`,
    { direction: tooSmall ? 'too small' : 'too large', medianUpdateRatio: med, layersBelow: below.length, layersAbove: above.length, layersMeasured: measured.length, learningRate: lr },
    { configKey: 'train.optimizer.learningRate', layer: (tooSmall ? below : above)[0].name },
  )];
}

/** optim/nothing-trainable (static): the model has no trainable weights at all. */
export function optimNothingTrainable(obs: StaticObservations): Finding[] {
  if (obs.model.trainableParams > 0) return [];
  const freeze = obs.config.train.freeze;
  return [finding(
    'optim/nothing-trainable', 'error',
    `The model has no trainable weights (${obs.model.layers.filter((l) => l.params > 0).length} layers with weights, all frozen), so training cannot change anything.`,
    'Loosen train.freeze (lower firstN or narrow pattern) so that at least the decoder and the classifier layers train.',
    { trainableParams: 0, freezeFirstN: freeze.firstN, freezePattern: freeze.pattern ?? '' },
    { configKey: 'train.freeze' },
  )];
}

/** optim/nothing-trainable (per batch): every trainable layer's gradient is exactly zero. */
export function optimAllGradientsZero(obs: BatchObservations): Finding[] {
  const norms = Object.values(obs.gradNorms ?? {});
  if (norms.length === 0 || !norms.every((n) => n === 0)) return [];
  return [finding(
    'optim/nothing-trainable', 'error',
    `All ${norms.length} trainable layers got a gradient of exactly zero, so the loss does not depend on any weight that training may change.`,
    'Check train.freeze (the layers that train must lie between the input and the loss) and that the loss uses the model output.',
    { layersWithGradient: norms.length, nonZero: 0, epoch: obs.epoch, batch: obs.batch },
    { configKey: 'train.freeze' },
  )];
}
