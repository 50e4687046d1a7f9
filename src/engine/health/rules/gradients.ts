// Gradient and number rules: vanishing or exploding gradients (first vs last layer) and NaN/Inf anywhere.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt } from '../finding';
import type { BatchObservations, EpochObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

function firstAndLast(obs: EpochObservations): { first: { name: string; n: number }; last: { name: string; n: number } } | undefined {
  const measured = obs.layerOrder
    .map((name) => ({ name, n: obs.layers[name]?.gradNorm }))
    .filter((x): x is { name: string; n: number } => x.n !== undefined && Number.isFinite(x.n));
  if (measured.length < 2) return undefined;
  return { first: measured[0], last: measured[measured.length - 1] };
}

/** grad/vanishing (AUTOTRAINER): first/last gradient-norm ratio < 1e-3 and first-layer norm < 1e-4. */
export function gradVanishing(obs: EpochObservations): Finding[] {
  const fl = firstAndLast(obs);
  if (!fl || fl.last.n === 0) return [];
  const ratio = fl.first.n / fl.last.n;
  if (!(ratio < THRESHOLDS.vanishingRatio && fl.first.n < THRESHOLDS.vanishingFirstNorm)) return [];
  return [finding(
    'grad/vanishing', 'warning',
    fl.first.n === 0
      ? `No gradient at all reaches the first trainable layer "${fl.first.name}" (the last layer's is ${fmt(fl.last.n)}), so the early layers do not learn.`
      : `The gradient reaching the first trainable layer "${fl.first.name}" is only ${fmt(ratio)} times the last layer's (${fmt(fl.first.n)} vs ${fmt(fl.last.n)}), so the early layers hardly learn.`,
    'Use an architecture with BatchNorm and ReLU between convolutions (model.arch "unet" or "deeplabv3plus"), or raise train.optimizer.learningRate; saturating activations such as sigmoid cause this.',
    { firstLayer: fl.first.name, firstGradNorm: fl.first.n, lastLayer: fl.last.name, lastGradNorm: fl.last.n, ratio },
    { configKey: 'model.arch', layer: fl.first.name },
  )];
}

/** grad/exploding (AUTOTRAINER): first/last gradient-norm ratio > 70. */
export function gradExploding(obs: EpochObservations): Finding[] {
  const fl = firstAndLast(obs);
  if (!fl || fl.last.n === 0) return [];
  const ratio = fl.first.n / fl.last.n;
  if (!(ratio > THRESHOLDS.explodingRatio)) return [];
  return [finding(
    'grad/exploding', 'warning',
    `The gradient of the first trainable layer "${fl.first.name}" is ${fmt(ratio)} times the last layer's (${fmt(fl.first.n)} vs ${fmt(fl.last.n)}): it grows on its way back through the network, so the early layers take huge, unstable steps.`,
    'Lower train.optimizer.learningRate, and make sure every convolution is followed by BatchNorm; large input values (see data.normalize) make this worse.',
    { firstLayer: fl.first.name, firstGradNorm: fl.first.n, lastLayer: fl.last.name, lastGradNorm: fl.last.n, ratio },
    { configKey: 'train.optimizer.learningRate', layer: fl.first.name },
  )];
}

/** num/nan: NaN or Inf in the loss, a gradient or a weight; names the first layer (model order) where it appears. */
export function numNaN(obs: BatchObservations): Finding[] {
  const order = obs.layerOrder ?? Object.keys(obs.gradNorms ?? {});
  const badGrad = order.find((name) => {
    const n = obs.gradNorms?.[name];
    return n !== undefined && !Number.isFinite(n);
  });
  const lossBad = !Number.isFinite(obs.loss);
  const weightLayer = obs.firstNonFiniteWeightLayer;
  if (!lossBad && !badGrad && !weightLayer) return [];
  const where = weightLayer ? 'weights' : badGrad ? 'gradients' : 'loss';
  const layer = weightLayer ?? badGrad;
  return [finding(
    'num/nan', 'error',
    `The training ${lossBad ? `loss became ${obs.loss}` : 'produced non-finite numbers'} at epoch ${obs.epoch}, batch ${obs.batch}${layer ? `; the first layer with NaN or Inf ${where} is "${layer}"` : ''}, and from here on nothing learns.`,
    'Lower train.optimizer.learningRate (10× or more), and check that data.normalize keeps inputs near [-1, 1] and that the loss never takes the log of 0 (loss.fromLogits true with a model that outputs logits).',
    { loss: String(obs.loss), where, epoch: obs.epoch, batch: obs.batch, ...(layer ? { layer } : {}) },
    { configKey: 'train.optimizer.learningRate', ...(layer ? { layer } : {}) },
  )];
}
