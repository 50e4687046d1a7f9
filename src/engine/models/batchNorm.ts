// BatchNorm layer whose mode can be forced: frozen layers keep using (and never update) their moving statistics.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

// tfjs-layers exports only the factory, so take the class from an instance of it.
const BatchNormalizationClass = Object.getPrototypeOf(tfl.layers.batchNormalization({})).constructor as typeof BatchNormalization;

export interface BatchNormArgs extends BatchNormalizationLayerArgs {
  /** true: always normalise with the moving statistics and never update them, even when called with training=true. */
  inferenceMode?: boolean;
}

/**
 * tfjs' BatchNormalization plus `inferenceMode`. With `inferenceMode` false it follows the training flag like stock
 * tfjs/Keras, which keeps updating the moving statistics of a layer whose `trainable` is false (the Keras trap).
 */
export class BatchNorm extends BatchNormalizationClass {
  static override className = 'SegScopeBatchNorm';
  inferenceMode: boolean;

  constructor(args: BatchNormArgs = {}) {
    super(args);
    this.inferenceMode = args.inferenceMode ?? false;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return super.call(inputs, this.inferenceMode ? { ...kwargs, training: false } : kwargs);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inferenceMode: this.inferenceMode };
  }
}
tf.serialization.registerClass(BatchNorm);

export function isBatchNorm(layer: unknown): layer is BatchNormalization {
  return layer instanceof BatchNormalizationClass;
}
