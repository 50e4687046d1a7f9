// Segmentation losses (CE, weighted CE, focal, Dice, CE+Dice) built from the resolved config, plus user loss modules.
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig } from '../../config/resolve';
import { focalCrossEntropy } from './crossEntropy';
import { softDice } from './dice';
import { logProbabilities } from './probabilities';
import { canUseFusedCrossEntropy, fusedSoftmaxCrossEntropy } from './softmaxCrossEntropy';
import { buildTargets, resolveClassWeights } from './targets';

export { loadLossModule } from './userModule';
export { buildTargets, inverseFrequencyWeights, resolveClassWeights } from './targets';
export { logProbabilities, PROBABILITY_EPSILON } from './probabilities';

/** labels: int32 [B, H, W] (may contain the ignore label); output: the model output [B, H, W, C]. */
export type LossFn = (labels: tf.Tensor3D, output: tf.Tensor4D) => tf.Scalar;

export interface LossOptions {
  numClasses: number;
  ignoreLabel: number;
  /** Pixel counts (or fractions) per class, for classWeights 'inverse-frequency'. */
  classFrequencies?: number[];
}

/**
 * Class weights apply to the cross-entropy family ('ce', 'weighted-ce', 'focal', the CE part of 'ce+dice') whenever
 * `classWeights` is set; 'weighted-ce' requires them. Dice is unweighted. `fromLogits: false` treats the output as
 * probabilities (clipped to [1e-7, 1−1e-7]); `fromLogits: true` on a model that ends in softmax is the double-softmax bug.
 */
export function makeLoss(cfg: ResolvedConfig['loss'], opts: LossOptions): LossFn {
  const weights = resolveClassWeights(cfg.classWeights, opts.numClasses, opts.classFrequencies);
  if (cfg.type === 'weighted-ce' && !weights) throw new Error("loss 'weighted-ce' needs loss.classWeights");
  const targetOptions = {
    numClasses: opts.numClasses, ignoreLabel: opts.ignoreLabel, target: cfg.target, onehotIgnore: cfg.onehotIgnore,
  };
  const countVoid = cfg.target === 'onehot' && cfg.onehotIgnore === 'value';
  const gamma = cfg.type === 'focal' ? cfg.focalGamma : 0;
  const useCrossEntropy = cfg.type !== 'dice';
  const useDice = cfg.type === 'dice' || cfg.type === 'ce+dice';
  // Plain (weighted) cross-entropy from logits, void pixels excluded: one fused kernel on wasm.
  const fusable = useCrossEntropy && !useDice && gamma === 0 && cfg.fromLogits && !countVoid;

  return (labels, output) => tf.tidy(() => {
    if (output.shape[3] !== opts.numClasses) {
      throw new Error(`model output has ${output.shape[3]} channels, the loss expects ${opts.numClasses} classes`);
    }
    if (fusable && canUseFusedCrossEntropy(output)) return fusedSoftmaxCrossEntropy(labels, output, opts.ignoreLabel, weights);
    const t = buildTargets(labels, targetOptions);
    const logp = logProbabilities(output, cfg.fromLogits);
    let loss: tf.Scalar = tf.scalar(0);
    if (useCrossEntropy) loss = tf.add(loss, focalCrossEntropy(logp, t, weights, gamma, countVoid));
    if (useDice) loss = tf.add(loss, softDice(tf.exp(logp), t));
    return loss;
  });
}
