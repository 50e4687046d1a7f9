// Loss rules: void pixels that still move the loss, a loss that stops falling, a loss that swings up and down.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt, percent } from '../finding';
import type { EpochObservations, StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

/** loss/ignore-not-excluded: changing only the void pixels' logits changes the loss (black-box probe). */
export function lossIgnoreNotExcluded(obs: StaticObservations): Finding[] {
  const probe = obs.voidPerturbation;
  if (!probe || probe.voidPixels === 0) return [];
  const change = Math.abs(probe.lossAfter - probe.lossBefore) / Math.max(Math.abs(probe.lossBefore), 1e-8);
  if (!(change > THRESHOLDS.voidLossRelativeChange)) return [];
  const { loss } = obs.config;
  const { ignoreLabel } = obs.config.data;
  const where = loss.module
    ? { configKey: 'loss.module', fix: `Make your loss module (${loss.module}) drop every pixel whose label is ${ignoreLabel} before averaging, both from the sum and from the pixel count.` }
    : loss.target === 'onehot' && loss.onehotIgnore === 'value'
      ? { configKey: 'loss.onehotIgnore', fix: 'Set loss.onehotIgnore to "zero" (or loss.target to "index") so that void pixels carry no target.' }
      : { configKey: 'loss.type', fix: `Use a loss that skips label ${ignoreLabel} (every built-in loss.type does with loss.target "index"), or set data.ignoreLabel to the value your masks use for void.` };
  return [finding(
    'loss/ignore-not-excluded', 'error',
    `Changing the predictions only at the ${probe.voidPixels} void pixels (label ${ignoreLabel}) changed the loss from ${fmt(probe.lossBefore)} to ${fmt(probe.lossAfter)}, so the loss trains on pixels that should be ignored.`,
    where.fix,
    { voidPixels: probe.voidPixels, lossBefore: probe.lossBefore, lossAfter: probe.lossAfter, relativeChange: change },
    { configKey: where.configKey },
  )];
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * loss/plateau. Epochs: the best loss of the last k epochs is not at least 0.1 % below the best before them — unless
 * the loss has already fallen below 30 % of the first epoch's (converging, not stuck). Steps: the mean of the last
 * window is not at least 1 % below the mean of the first window.
 */
export function lossPlateau(obs: EpochObservations): Finding[] {
  const h = obs.lossHistory.filter(Number.isFinite);
  let before: number, after: number, window: number;
  if (obs.lossUnit === 'epoch') {
    window = THRESHOLDS.plateauEpochs;
    if (h.length < window + 1) return [];
    before = Math.min(...h.slice(0, h.length - window));
    after = Math.min(...h.slice(h.length - window));
    if (after < before * (1 - THRESHOLDS.plateauEpochMinImprovement)) return [];
    if (before <= h[0] * THRESHOLDS.plateauConvergedFraction) return [];
  } else {
    window = THRESHOLDS.plateauSteps;
    if (h.length < 2 * window) return [];
    before = mean(h.slice(0, window));
    after = mean(h.slice(h.length - window));
    if (after < before * (1 - THRESHOLDS.plateauStepMinImprovement)) return [];
  }
  const unit = obs.lossUnit === 'epoch' ? 'epochs' : 'steps';
  return [finding(
    'loss/plateau', 'warning',
    `The training loss has not decreased over the last ${window} ${unit} (${fmt(before)} before, ${fmt(after)} now), so the model is not learning from the data any more — or never started.`,
    'Look at the other findings first (they name pipeline bugs); if there are none, raise train.optimizer.learningRate by 10× or check that the masks match the images.',
    { lossBefore: before, lossNow: after, window, unit, points: h.length },
    { configKey: 'train.optimizer.learningRate' },
  )];
}

/**
 * loss/oscillating: after AUTOTRAINER's unstable-training check, applied to the loss: count peak/trough pairs whose
 * swing exceeds a share of the mean loss; fires when they make up ≥ 20 % of the points and the typical such swing is
 * larger than the net fall from the first to the last third of the curve.
 */
export function lossOscillating(obs: EpochObservations): Finding[] {
  const h = obs.lossHistory.filter(Number.isFinite);
  if (h.length < THRESHOLDS.oscillationMinPoints) return [];
  const swingShare = obs.lossUnit === 'epoch' ? THRESHOLDS.oscillationSwingEpoch : THRESHOLDS.oscillationSwingStep;
  const level = mean(h);
  const peaks: number[] = [];
  const troughs: number[] = [];
  for (let i = 1; i < h.length - 1; i++) {
    if (h[i] >= h[i - 1] && h[i] >= h[i + 1]) peaks.push(h[i]);
    if (h[i] <= h[i - 1] && h[i] <= h[i + 1]) troughs.push(h[i]);
  }
  const large: number[] = [];
  let largest = 0;
  for (let i = 0; i < Math.min(peaks.length, troughs.length); i++) {
    const swing = Math.abs(peaks[i] - troughs[i]);
    largest = Math.max(largest, swing);
    if (swing >= swingShare * level) large.push(swing);
  }
  const swings = large.length;
  const third = Math.max(1, Math.floor(h.length / 3));
  const first = mean(h.slice(0, third));
  const last = mean(h.slice(h.length - third));
  // A noisy curve that still comes down is fine: the typical large swing must exceed the net progress.
  const typicalSwing = swings > 0 ? [...large].sort((a, b) => a - b)[Math.floor(swings / 2)] : 0;
  const progress = first - last;
  if (swings < THRESHOLDS.oscillationRate * h.length || typicalSwing <= progress) return [];
  return [finding(
    'loss/oscillating', 'warning',
    `The training loss keeps jumping up and down (${swings} swings larger than ${percent(swingShare)} of its mean ${fmt(level)} in ${h.length} ${obs.lossUnit}s, typically by ${fmt(typicalSwing)}, more than the ${fmt(Math.max(progress, 0))} it came down overall), which usually means each update overshoots.`,
    'Lower train.optimizer.learningRate (try 10× smaller), or raise train.batchSize so that each step sees more pixels.',
    { swings, points: h.length, meanLoss: level, typicalSwing, largestSwing: largest, firstThirdMean: first, lastThirdMean: last },
    { configKey: 'train.optimizer.learningRate' },
  )];
}
