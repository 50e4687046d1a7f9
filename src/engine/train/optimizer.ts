// Builds the configured tfjs optimizer with tfjs' own defaults, and sets its learning rate between steps (for schedules).
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedConfig } from '../../config/resolve';
import { FusedAdamOptimizer } from './fusedAdam';

export type ResolvedOptimizerConfig = ResolvedConfig['train']['optimizer'];

/**
 * Adam, SGD (+momentum when `momentum` > 0), Adadelta and RMSProp. Whatever the config leaves out takes the value of
 * tfjs' tf.train.* factory (Adadelta's learning rate stays 0.001, not the paper's 1.0). `epsilon` left out means
 * tfjs' backend epsilon (1e-7 for float32), as in Keras.
 */
export function makeOptimizer(cfg: ResolvedOptimizerConfig): tf.Optimizer {
  const lr = cfg.learningRate;
  switch (cfg.name) {
    case 'adam':
      // tf.train.adam's maths and state, one native kernel per variable on wasm (fusedAdam.ts).
      return new FusedAdamOptimizer(lr, cfg.beta1 ?? 0.9, cfg.beta2 ?? 0.999, cfg.epsilon);
    case 'sgd':
      return cfg.momentum ? tf.train.momentum(lr, cfg.momentum) : tf.train.sgd(lr);
    case 'adadelta':
      return tf.train.adadelta(lr, cfg.rho ?? 0.95, cfg.epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(lr, cfg.rho ?? 0.9, cfg.momentum ?? 0, cfg.epsilon);
    default: {
      const never: never = cfg.name;
      throw new Error(`Unknown optimizer "${String(never)}" (train.optimizer.name): use adam, sgd, adadelta or rmsprop`);
    }
  }
}

/**
 * Changes the learning rate used by the next step. SGD and Momentum keep it in a scalar tensor (setLearningRate);
 * Adam, Adadelta and RMSProp read their `learningRate` field on every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const target = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (target.learningRate === learningRate) return;
  if (typeof target.setLearningRate === 'function') target.setLearningRate(learningRate);
  else target.learningRate = learningRate;
}

export function getLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as { learningRate: number }).learningRate;
}
