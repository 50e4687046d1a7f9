// One optimisation step: forward with training=true, loss (+ L2 weight decay), gradients, update; optionally measures
// per-layer gradient norms and update/weight ratios (done on the epoch's last batch for the layer statistics).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export type LossFn = (labels: tf.Tensor, output: tf.Tensor) => tf.Scalar;

export interface TrainBatch {
  images: Float32Array;
  masks: Int32Array;
  batchSize: number;
  size: number;
}

export interface TrainStepContext {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  loss: LossFn;
  /** Variables the optimizer updates, in a fixed order (the optimizer's slots are matched by position on resume). */
  variables: tf.Variable[];
  /** Layer name owning each variable (same order as `variables`). */
  variableLayers: string[];
  /** L2 coefficient: loss += weightDecay · Σ‖kernel‖² over trainable kernels. */
  weightDecay: number;
  /** Indices into `variables` of the kernels weight decay applies to. */
  decayed: number[];
}

export interface TrainStepResult {
  loss: number;
  /** argmax of the logits per pixel, B·S·S (for the train confusion matrix). */
  predictions: Int32Array;
  /** Measured only when asked: ‖gradient‖ per layer and ‖Δw‖/‖w‖ per layer. */
  gradNorms?: Record<string, number>;
  updateRatios?: Record<string, number>;
}

/** Names trainable kernels (not biases, BatchNorm scales or offsets) for L2 weight decay. */
/**
 * The trainable variables in model.layers order (the optimizer's slots are matched to them by position on resume),
 * the layer of each, and the indices of those that get weight decay.
 */
export function trainableVariables(model: tfl.LayersModel): Pick<TrainStepContext, 'variables' | 'variableLayers' | 'decayed'> {
  const variables: tf.Variable[] = [];
  const variableLayers: string[] = [];
  const decayed: number[] = [];
  for (const layer of model.layers) {
    if (!layer.trainable) continue;
    for (const w of layer.trainableWeights) {
      if (isDecayedWeight(w.originalName)) decayed.push(variables.length);
      variables.push(w.read() as tf.Variable);
      variableLayers.push(layer.name);
    }
  }
  return { variables, variableLayers, decayed };
}

export function isDecayedWeight(name: string): boolean {
  return /(^|\/)(depthwise_kernel|pointwise_kernel|kernel)(_\d+)?$/.test(name);
}

/** Sum of squared norms per layer → sqrt, as one tensor per layer (caller reads them in one go). */
function perLayerNorms(tensors: tf.Tensor[], owners: string[]): { layers: string[]; norms: tf.Tensor1D } {
  const layers: string[] = [];
  const sums: tf.Scalar[] = [];
  const index = new Map<string, number>();
  tensors.forEach((t, i) => {
    const s = tf.sum(tf.square(t)) as tf.Scalar;
    const at = index.get(owners[i]);
    if (at === undefined) {
      index.set(owners[i], sums.length);
      layers.push(owners[i]);
      sums.push(s);
    } else {
      sums[at] = tf.add(sums[at], s) as tf.Scalar;
    }
  });
  return { layers, norms: tf.sqrt(tf.stack(sums)) as tf.Tensor1D };
}

export function trainStep(ctx: TrainStepContext, batch: TrainBatch, measure: boolean): TrainStepResult {
  const { batchSize: b, size: s } = batch;
  const x = tf.tensor4d(batch.images, [b, s, s, 3]);
  const y = tf.tensor3d(batch.masks, [b, s, s], 'int32');
  // A clone shares the variable's data; the update replaces the variable's data, so the clone keeps the old weights.
  const before = measure ? ctx.variables.map((v) => tf.clone(v)) : undefined;
  let predictions!: tf.Tensor;
  const { value, grads } = tf.variableGrads(() => {
    const output = ctx.model.apply(x, { training: true }) as tf.Tensor;
    predictions = tf.keep(tf.cast(tf.argMax(output, -1), 'int32'));
    let loss = ctx.loss(y, output);
    if (ctx.weightDecay > 0 && ctx.decayed.length > 0) {
      const l2 = tf.addN(ctx.decayed.map((i) => tf.sum(tf.square(ctx.variables[i]))));
      loss = tf.add(loss, tf.mul(l2, ctx.weightDecay)) as tf.Scalar;
    }
    return loss;
  }, ctx.variables);

  let gradNorms: Record<string, number> | undefined;
  if (measure) {
    const names = ctx.variables.map((v) => v.name);
    const { layers, values } = tf.tidy(() => {
      const present = names.map((n, i) => [grads[n], ctx.variableLayers[i]] as const).filter(([g]) => g !== undefined);
      const r = perLayerNorms(present.map(([g]) => g), present.map(([, l]) => l));
      return { layers: r.layers, values: r.norms };
    });
    const data = values.dataSync();
    values.dispose();
    gradNorms = Object.fromEntries(layers.map((l, i) => [l, data[i]]));
  }

  ctx.optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));

  let updateRatios: Record<string, number> | undefined;
  if (before) {
    const { layers, ratios } = tf.tidy(() => {
      const deltas = ctx.variables.map((v, i) => tf.sub(v, before[i]));
      const d = perLayerNorms(deltas, ctx.variableLayers);
      const w = perLayerNorms(ctx.variables, ctx.variableLayers);
      return { layers: d.layers, ratios: tf.div(d.norms, tf.maximum(w.norms, 1e-12)) };
    });
    const data = ratios.dataSync();
    ratios.dispose();
    tf.dispose(before);
    updateRatios = Object.fromEntries(layers.map((l, i) => [l, data[i]]));
  }

  const loss = value.dataSync()[0];
  const predictionData = predictions.dataSync() as Int32Array;
  tf.dispose([value, predictions, x, y]);
  return { loss, predictions: predictionData, gradNorms, updateRatios };
}
