// Turns int32 label maps into the target tensors, validity masks and per-pixel weights every loss shares.
import * as tf from '@tensorflow/tfjs-core';

export interface TargetOptions {
  numClasses: number;
  ignoreLabel: number;
  /** 'index': void pixels have all-zero rows and are excluded; 'onehot': see onehotIgnore. */
  target: 'index' | 'onehot';
  /** 'zero': void rows all zero (ignored); 'value': the ignore value in every channel of void rows (the seed's bug). */
  onehotIgnore: 'zero' | 'value';
}

export interface Targets {
  /** [B, H, W, C] float32 target the naive formulas multiply with. */
  target: tf.Tensor4D;
  /** [B, H, W, 1] 1 where the pixel takes part in the loss. 'value' mode: every pixel. */
  mask: tf.Tensor4D;
  /** [B, H, W, 1] 1 at void pixels (label = ignore label or outside 0..C−1). */
  voidMask: tf.Tensor4D;
}

/** Labels outside 0..C−1 (including the ignore label) are void. Call inside tf.tidy. */
export function buildTargets(labels: tf.Tensor3D, o: TargetOptions): Targets {
  const int = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  const valid = tf.logicalAnd(
    tf.notEqual(int, o.ignoreLabel),
    tf.logicalAnd(tf.greaterEqual(int, 0), tf.less(int, o.numClasses)),
  );
  // oneHot of −1 is an all-zero row; int32 output (wasm's float32 OneHot is unreliable), cast afterwards.
  const onehot = tf.cast(tf.oneHot(tf.where(valid, int, tf.fill(int.shape, -1, 'int32')), o.numClasses), 'float32') as tf.Tensor4D;
  const validMask = tf.expandDims(tf.cast(valid, 'float32'), -1) as tf.Tensor4D;
  const voidMask = tf.sub(1, validMask) as tf.Tensor4D;
  if (o.target === 'onehot' && o.onehotIgnore === 'value') {
    const isIgnore = tf.expandDims(tf.cast(tf.equal(int, o.ignoreLabel), 'float32'), -1);
    const target = tf.add(onehot, tf.mul(isIgnore, o.ignoreLabel)) as tf.Tensor4D;
    return { target, mask: tf.onesLike(validMask), voidMask };
  }
  return { target: onehot, mask: validMask, voidMask };
}

/** Class weights: the given array, 'inverse-frequency' from class frequencies, or none (all ones). */
export function resolveClassWeights(
  spec: number[] | 'inverse-frequency' | undefined, numClasses: number, classFrequencies?: number[],
): number[] | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'inverse-frequency') {
    if (!classFrequencies || classFrequencies.length !== numClasses) {
      throw new Error(`classWeights 'inverse-frequency' needs the frequency of each of the ${numClasses} classes`);
    }
    return inverseFrequencyWeights(classFrequencies);
  }
  if (spec.length !== numClasses) throw new Error(`classWeights has ${spec.length} entries, expected ${numClasses}`);
  return spec.slice();
}

/**
 * w_c = 1 / (K · f_c) with f the normalised frequencies and K the number of classes that occur, so that a pixel's
 * expected weight is 1; classes that never occur get weight 0.
 */
export function inverseFrequencyWeights(frequencies: number[]): number[] {
  const total = frequencies.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('class frequencies are all zero');
  const present = frequencies.filter((f) => f > 0).length;
  return frequencies.map((f) => (f > 0 ? total / (present * f) : 0));
}
