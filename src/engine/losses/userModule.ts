// Loads a user's loss module (CommonJS): `exports.loss = (labels, output, tf) => scalar`. Trust is checked by the caller.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LossFn } from './index';

/**
 * The module gets the engine's own tfjs as third argument (a separately imported tfjs would be another engine).
 * It is re-read on every call, so an edited file takes effect on the next run. A non-scalar result is averaged.
 */
export function loadLossModule(modulePath: string): LossFn {
  const absolute = path.resolve(modulePath);
  const requireFrom = createRequire(absolute);
  const resolved = requireFrom.resolve(absolute);
  delete requireFrom.cache[resolved];
  const mod = requireFrom(resolved) as { loss?: unknown; default?: { loss?: unknown } };
  const loss = typeof mod.loss === 'function' ? mod.loss
    : typeof mod.default?.loss === 'function' ? mod.default.loss : undefined;
  if (!loss) throw new Error(`${modulePath} does not export a function 'loss(labels, output, tf)'`);
  return (labels, output) => {
    const result = (loss as (l: tf.Tensor, o: tf.Tensor, t: typeof tf) => unknown)(labels, output, tf);
    if (!(result instanceof tf.Tensor)) throw new Error(`loss() in ${modulePath} must return a tf.Tensor`);
    if (result.rank === 0) return result as tf.Scalar;
    return tf.tidy(() => tf.mean(result)) as tf.Scalar;
  };
}
