// Tensors saved for a gradient share their data without a kernel call or a tape node (first-order gradients).
import * as tf from '@tensorflow/tfjs-core';

interface EngineInternals {
  state: { gradientDepth: number };
  backend: { incRef?(dataId: object): void };
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromDataId(dataId: object, shape: number[], dtype: tf.DataType, backend?: unknown): tf.Tensor;
}

let tfjsClone: ((x: tf.Tensor) => tf.Tensor) | null = null;

/**
 * tfjs saves every tensor a gradient needs through `engine.clone`, which runs the Identity kernel and records a tape
 * node so that second-order gradients can see through the copy: ~520 kernel calls and tape nodes per training step of
 * the bench model. Under one level of gradients those nodes are never on a path to the result, so with this switched
 * on the copy is made directly (a new tensor on the same data, the backend's reference count raised as Identity
 * does); nested gradients (gradientDepth > 1) keep tfjs' own clone. Off puts tfjs' clone back.
 */
export function setLightSaves(on: boolean): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (!on) {
    if (tfjsClone) engine.clone = tfjsClone;
    tfjsClone = null;
    return;
  }
  if (tfjsClone) return;
  const original = engine.clone;
  tfjsClone = original;
  engine.clone = function lightClone(this: EngineInternals, x: tf.Tensor): tf.Tensor {
    const backend = engine.backend;
    if (engine.state.gradientDepth > 1 || typeof backend.incRef !== 'function') return original.call(engine, x);
    backend.incRef(x.dataId);
    return engine.makeTensorFromDataId(x.dataId, x.shape, x.dtype, backend);
  };
}
