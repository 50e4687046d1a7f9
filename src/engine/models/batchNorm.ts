// BatchNorm layer whose mode can be forced: frozen layers keep using (and never update) their moving statistics.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import { updatedMovingAverages } from '../backend/movingAverageKernel';
import { batchNormTraining, type FusableActivation } from './batchNormTraining';

// tfjs-layers exports only the factory, so take the class from an instance of it.
const BatchNormalizationClass = Object.getPrototypeOf(tfl.layers.batchNormalization({})).constructor as typeof BatchNormalization;

/** Fields of tfjs' BatchNormalization that its typings mark private. */
interface BatchNormalizationInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

export interface BatchNormArgs extends BatchNormalizationLayerArgs {
  /** true: always normalise with the moving statistics and never update them, even when called with training=true. */
  inferenceMode?: boolean;
}

/**
 * tfjs' BatchNormalization plus `inferenceMode`. With `inferenceMode` false it follows the training flag like stock
 * tfjs/Keras, which keeps updating the moving statistics of a layer whose `trainable` is false (the Keras trap).
 * Training mode (channels-last, with γ and β) runs as one fused op with a closed-form gradient (batchNormTraining);
 * its numbers and moving-average updates are those of tfjs-layers' own training path.
 */
export class BatchNorm extends BatchNormalizationClass {
  static override className = 'SegScopeBatchNorm';
  inferenceMode: boolean;
  /**
   * Set by the model builder when this BatchNorm's only consumer is a ReLU/ReLU6 activation layer: while training the
   * two run as one op (the activation layer passes the result through). A runtime hint, not saved with the model;
   * never set it when the BatchNorm's output feeds anything else.
   */
  followedBy?: FusableActivation;

  constructor(args: BatchNormArgs = {}) {
    super(args);
    this.inferenceMode = args.inferenceMode ?? false;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = kwargs?.training === true && !this.inferenceMode;
    const self = this as unknown as BatchNormalizationInternals;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    if (!training || !lastAxis || !self.center || !self.scale) return super.call(inputs, { ...kwargs, training });
    return tf.tidy(() => batchNormTraining(
      x, self.gamma.read() as tf.Tensor1D, self.beta.read() as tf.Tensor1D, self.epsilon,
      (mean, variance) => {
        // Same update as tfjs-layers: moving ← moving − (moving − batch)·(1 − momentum).
        const updated = updatedMovingAverages(self.movingMean.read() as tf.Tensor1D, self.movingVariance.read() as tf.Tensor1D,
          mean, variance, self.momentum);
        self.movingMean.write(updated[0]);
        self.movingVariance.write(updated[1]);
        tf.dispose(updated);
      },
      this.followedBy,
    ));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inferenceMode: this.inferenceMode };
  }
}
tf.serialization.registerClass(BatchNorm);

export function isBatchNorm(layer: unknown): layer is BatchNormalization {
  return layer instanceof BatchNormalizationClass;
}
