// What the health rules look at: plain numbers per moment (static, per batch, per epoch), so every rule is a pure function.
import type { ResolvedConfig } from '../../config/resolve';
import type { LayerStats, SplitMetrics } from '../../protocol/runFolder';

/** One layer as the rules see it (built by `describeModel` from a tfjs LayersModel). */
export interface LayerFacts {
  name: string;
  className: string;
  /** Weights of this layer that the optimizer may change (false for frozen layers and weightless layers). */
  trainable: boolean;
  /** Number of weight values (trainable or not). */
  params: number;
  /** The layer's activation when it has one ('softmax', 'relu', 'relu6', 'linear', …); softmax layers report 'softmax'. */
  activation?: string;
  isBatchNorm: boolean;
  /** BatchNorm only: true when the layer always uses (and never updates) its moving statistics. */
  bnInferenceMode?: boolean;
}

export interface ModelFacts {
  layers: LayerFacts[];
  /** Number of trainable weight values. */
  trainableParams: number;
  /** Activation applied by the model's last layer ('softmax' when the model outputs probabilities). */
  outputActivation: string;
  /** Name of the layer that produces the output. */
  outputLayer: string;
}

/** Summary of a float tensor. */
export interface TensorRange {
  min: number;
  max: number;
  mean: number;
  std: number;
}

/** The first batch, as the network and the loss receive it (after preprocessing). */
export interface BatchSample {
  batchSize: number;
  /** Square side of the network input. */
  size: number;
  /** Image tensor statistics over the whole batch. */
  images: TensorRange;
  /** Distinct label values in the preprocessed masks, ascending. */
  maskValues: number[];
  /** Pixels per label value in the preprocessed masks (value → count), void included. */
  maskValueCounts: Record<number, number>;
  /** Distinct label values in the source mask files of the same samples, before any resizing; absent when unknown. */
  sourceMaskValues?: number[];
}

/** Result of perturbing the logits at void pixels only and recomputing the loss (loss/ignore-not-excluded). */
export interface VoidPerturbationProbe {
  voidPixels: number;
  lossBefore: number;
  lossAfter: number;
}

/** What the model's output looks like on the first batch (model/double-softmax). */
export interface OutputProbe {
  /** True when every pixel's outputs lie in [0, 1] and sum to 1 across classes: the model already outputs probabilities. */
  outputsAreProbabilities: boolean;
  /** Largest probability after the loss applies its own softmax (only meaningful when the loss expects logits). */
  maxProbabilityAsLossSeesIt: number;
}

/** The same batch through a frozen BatchNorm layer in training and in inference mode (bn/frozen-train-mode). */
export interface FrozenBatchNormProbe {
  layer: string;
  /** max |train − inference| / (max |inference| + 1e-6) of the layer's output. */
  trainInferenceDifference: number;
}

/** Relative change of a frozen BatchNorm layer's moving statistics over a stretch of training. */
export interface BatchNormDrift {
  layer: string;
  /** ‖mean_after − mean_before‖ / ‖√variance_before‖ (drift in standard deviations); ‖var_after − var_before‖ / ‖var_before‖. */
  movingMeanDrift: number;
  movingVarianceDrift: number;
}

/** The configured metric run on crafted inputs whose right answer is known (metric/ignore-counted). */
export interface MetricProbe {
  /** Where the metric comes from: 'built-in' or the module path. */
  source: string;
  /** mIoU of a prediction that is right on every valid pixel and wrong on every void pixel (should be 1). */
  perfectExceptVoid: number;
  /** Same label map given as logits scaled by 1 and by 10: a label-based metric gives the same number twice. */
  logitsScale1: number;
  logitsScale10: number;
}

/** One-hot targets as the loss builds them (labels/ignore-in-onehot). */
export interface OneHotTargetProbe {
  /** Largest value in any class channel of the one-hot targets. */
  maxChannelValue: number;
  /** Void pixels in the batch. */
  voidPixels: number;
}

export interface StaticObservations {
  config: ResolvedConfig;
  model: ModelFacts;
  batch: BatchSample;
  /** Pixels per class (index = class) over the training data sampled so far; void excluded. */
  classPixelCounts?: number[];
  voidPerturbation?: VoidPerturbationProbe;
  output?: OutputProbe;
  oneHotTargets?: OneHotTargetProbe;
  frozenBatchNorm?: FrozenBatchNormProbe[];
  metric?: MetricProbe;
}

/** Per batch: cheap numbers only. */
export interface BatchObservations {
  epoch: number;
  batch: number;
  loss: number;
  /** Gradient L2 norm per layer, in model order, when measured for this batch. */
  gradNorms?: Record<string, number>;
  /** First layer (model order) whose weights hold NaN or ±Inf, when the session checked (e.g. after a non-finite loss). */
  firstNonFiniteWeightLayer?: string;
  /** Layer order of the model (to name the first layer where NaN appears). */
  layerOrder?: string[];
}

/** Dead ReLU units of one layer on the watch batch: channels positive at fewer than 1 % of their positions. */
export interface DeadUnits {
  units: number;
  inactive: number;
}

export interface EpochObservations {
  config: ResolvedConfig;
  epoch: number;
  /** Layer names in model order (first = closest to the input). */
  layerOrder: string[];
  /** Training loss so far, oldest first, including this epoch (or this stretch of steps, see `lossUnit`). */
  lossHistory: number[];
  /** 'epoch': one value per epoch; 'step': one value per training step (the doctor's short runs). */
  lossUnit: 'epoch' | 'step';
  train?: SplitMetrics;
  val?: SplitMetrics;
  /** Rows = ground truth, columns = prediction, valid pixels only (from the split the predictions were judged on). */
  confusion?: number[][];
  /** Per-class IoU of earlier epochs, oldest first (to see IoU stuck at 0); optional. */
  iouHistory?: (number | null)[][];
  /** Per layer: gradNorm and updateRatio from the last batch(es) (protocol LayerStats; other fields unused). */
  layers: Record<string, Partial<LayerStats>>;
  deadUnits?: Record<string, DeadUnits>;
  frozenBatchNormDrift?: BatchNormDrift[];
  frozenBatchNorm?: FrozenBatchNormProbe[];
  /** Largest predicted probability seen this epoch, as the loss sees it (after its softmax when fromLogits). */
  maxPredictedProbability?: number;
  /** Smallest and largest raw model output seen with it (all inside [0, 1]: the model outputs probabilities). */
  outputRange?: { min: number; max: number };
}
