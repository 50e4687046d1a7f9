// model/double-softmax: the model already outputs probabilities and the loss applies softmax again.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt } from '../finding';
import type { EpochObservations, StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

/** Softmax of values in [0, 1]: the largest probability is at most e/(e + C − 1) (one output 1, the rest 0). */
export function doubleSoftmaxCeiling(numClasses: number): number {
  return Math.E / (Math.E + numClasses - 1);
}

const FIX = 'Set model.finalSoftmax to false so the model outputs logits and the loss applies softmax once (or, for a model that must end in softmax, set loss.fromLogits to false).';

/** Static: the last layer is a softmax (or the outputs sum to 1) while loss.fromLogits is true. */
export function modelDoubleSoftmax(obs: StaticObservations): Finding[] {
  if (!obs.config.loss.fromLogits) return [];
  const C = obs.config.numClasses;
  const ceiling = doubleSoftmaxCeiling(C);
  const structural = obs.model.outputActivation === 'softmax';
  const measured = obs.output?.outputsAreProbabilities === true;
  if (!structural && !measured) return [];
  return [finding(
    'model/double-softmax', 'error',
    `The model ends in a softmax (layer "${obs.model.outputLayer}") and the loss applies softmax again because loss.fromLogits is true, so no pixel can be predicted with more than ${fmt(ceiling)} confidence and the gradients are tiny.`,
    FIX,
    {
      outputLayer: obs.model.outputLayer, outputActivation: obs.model.outputActivation, fromLogits: true, numClasses: C,
      probabilityCeiling: ceiling,
      ...(obs.output ? { maxProbabilityAsLossSeesIt: obs.output.maxProbabilityAsLossSeesIt, outputsSumToOne: obs.output.outputsAreProbabilities } : {}),
    },
    { configKey: 'model.finalSoftmax', layer: obs.model.outputLayer },
  )];
}

/** Per epoch: the largest predicted probability (as the loss sees it) never exceeded e/(e+C−1). */
export function modelDoubleSoftmaxSignature(obs: EpochObservations): Finding[] {
  const p = obs.maxPredictedProbability;
  if (p === undefined || !obs.config.loss.fromLogits) return [];
  const C = obs.config.numClasses;
  const ceiling = doubleSoftmaxCeiling(C);
  if (p > ceiling + THRESHOLDS.doubleSoftmaxMargin) return [];
  // An untrained model also predicts near-uniform probabilities: the ceiling only counts when the raw outputs stay
  // inside [0, 1] (they are probabilities) or, without that measurement, when it still holds after the first epoch.
  const r = obs.outputRange;
  const probabilities = r ? r.min >= -1e-6 && r.max <= 1 + 1e-6 : obs.epoch >= 2;
  if (!probabilities) return [];
  return [finding(
    'model/double-softmax', 'error',
    `No pixel was predicted with more than ${fmt(p)} confidence, the ceiling e/(e+C−1) = ${fmt(ceiling)} of a softmax applied to probabilities, so softmax is applied twice.`,
    FIX,
    { maxPredictedProbability: p, probabilityCeiling: ceiling, numClasses: C, epoch: obs.epoch, ...(r ? { outputMin: r.min, outputMax: r.max } : {}) },
    { configKey: 'model.finalSoftmax' },
  )];
}
