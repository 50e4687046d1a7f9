// Training-mode batch normalisation as one tape node with a closed-form gradient (far fewer ops than tfjs' composed one).
import * as tf from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_ACT_BACKWARD, BATCH_NORM_ACT_FORWARD, BATCH_NORM_BACKWARD, BATCH_NORM_FORWARD, canFuseActivation, canUseBatchNormKernels,
} from '../backend/batchNormKernels';

import { markActivationApplied, type FusableActivation } from '../backend/fusedActivation';

export type { FusableActivation };

/**
 * y = γ·(x − μ)/√(σ² + ε) + β over all axes but the last, with μ, σ² the (biased) batch statistics, as tfjs-layers'
 * training path computes it. The gradient is the textbook one,
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ²+ε) · (dy − dβ/n − x̂·dγ/n),
 * instead of differentiating moments → batchNorm op by op (which on wasm also runs the slow Tile kernel).
 * `onStatistics` receives μ and σ² (e.g. to update moving averages); they are disposed after it returns.
 * On wasm, forward and backward each run as one kernel over the heap (batchNormKernels), saving x instead of x̂.
 */
export function batchNormTraining(
  x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number,
  onStatistics: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
  followedBy?: FusableActivation,
): tf.Tensor {
  // While gradients are recorded, the activation after the BatchNorm runs inside the same op (one pass less forward,
  // two backward); outside gradients (probes, single-layer checks) the BatchNorm's own output is returned.
  if (followedBy && tf.engine().state.gradientDepth > 0 && canFuseActivation(x)) {
    return batchNormActivationTraining(x, gamma, beta, epsilon, onStatistics, followedBy);
  }
  if (canUseBatchNormKernels(x)) return batchNormTrainingFused(x, gamma, beta, epsilon, onStatistics);
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(input, axes);
    onStatistics(mean as tf.Tensor1D, variance as tf.Tensor1D);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(tf.sub(input, mean), invStd);
    save([normalized, invStd, g]);
    return {
      value: tf.add(tf.mul(normalized, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.tidy(() => {
        const [xHat, inv, gam] = saved;
        const d = dy as tf.Tensor;
        const n = xHat.size / xHat.shape[xHat.rank - 1];
        const dBeta = tf.sum(d, axes);
        const dGamma = tf.sum(tf.mul(d, xHat), axes);
        const centred = tf.sub(tf.sub(d, tf.div(dBeta, n)), tf.mul(xHat, tf.div(dGamma, n)));
        return [tf.mul(centred, tf.mul(gam, inv)), dGamma, dBeta];
      }),
    };
  });
  return op(x, gamma, beta);
}

function batchNormTrainingFused(
  x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number,
  onStatistics: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance, invStd] = tf.engine().runKernel(BATCH_NORM_FORWARD, { x: input, gamma: g, beta: b },
      { epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    onStatistics(mean as tf.Tensor1D, variance as tf.Tensor1D);
    variance.dispose();
    save([input, mean, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, mu, inv, gam] = saved;
        return tf.engine().runKernel(BATCH_NORM_BACKWARD, { dy: dy as tf.Tensor, x: xs, mean: mu, invStd: inv, gamma: gam }) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta);
}

/**
 * act(BatchNorm(x)) as one op with one gradient (wasm with SegScope's native kernels): the returned tensor is the
 * activation's output, marked so that the activation layer after the BatchNorm passes it through.
 */
function batchNormActivationTraining(
  x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number,
  onStatistics: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void, activation: FusableActivation,
): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [z, mean, variance, invStd, scale] = tf.engine().runKernel(BATCH_NORM_ACT_FORWARD, { x: input, gamma: g, beta: b },
      { epsilon, activation } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    onStatistics(mean as tf.Tensor1D, variance as tf.Tensor1D);
    variance.dispose();
    save([input, mean, invStd, scale, b, g]);
    return {
      value: z,
      gradFunc: (dz: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, mu, inv, sc, bet, gam] = saved;
        return tf.engine().runKernel(BATCH_NORM_ACT_BACKWARD, { dz: dz as tf.Tensor, x: xs, mean: mu, invStd: inv, scale: sc, beta: bet, gamma: gam },
          { activation } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      },
    };
  });
  const out = op(x, gamma, beta);
  markActivationApplied(out, activation);
  return out;
}
