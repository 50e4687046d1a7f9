// Every number a health rule compares against, in one place; docs/health-checks.md says where each comes from.

export const THRESHOLDS = {
  /** loss/ignore-not-excluded: relative loss change when only void pixels' logits move. */
  voidLossRelativeChange: 1e-4,
  /** model/double-softmax: a max probability this close to e/(e+C−1) counts as "cannot exceed". */
  doubleSoftmaxMargin: 1e-3,
  /** bn/frozen-train-mode: relative train/inference output difference of a frozen BatchNorm layer. */
  frozenBnTrainInferenceDifference: 1e-3,
  /** bn/frozen-train-mode: relative drift of a frozen layer's moving mean or variance. */
  frozenBnDrift: 1e-4,
  /** bn/small-batch: BatchNorm in training mode below this batch size (Wu & He, Group Normalization, 2018). */
  bnMinBatchSize: 8,
  /** optim/adadelta-default-lr: the tfjs/Keras default (the Adadelta paper uses 1.0). */
  adadeltaDefaultLearningRate: 0.001,
  /** optim/update-ratio: healthy band for ‖Δw‖/‖w‖ per step (≈1e-3 is typical; CS231n). */
  updateRatioLow: 1e-5,
  updateRatioHigh: 1e-1,
  /** optim/update-ratio: fraction of trainable layers outside the band before the rule fires ("most"). */
  updateRatioLayerFraction: 0.5,
  /** grad/vanishing (AUTOTRAINER beta_1, beta_2): first/last gradient-norm ratio and first-layer norm. */
  vanishingRatio: 1e-3,
  vanishingFirstNorm: 1e-4,
  /** grad/exploding (AUTOTRAINER beta_3): first/last gradient-norm ratio. */
  explodingRatio: 70,
  /** relu/dead (SageMaker DeadRelu threshold_inactivity 1 %): a unit positive at fewer than this share of positions is dead. */
  reluInactivity: 0.01,
  /** relu/dead (SageMaker DeadRelu threshold_layer 50 %): share of dead units that makes a layer dead. */
  deadReluFraction: 0.5,
  /** pred/collapse: share of valid pixels predicted as one class, and that class's share in the ground truth. */
  collapsePredictedShare: 0.95,
  collapseTrueShareMax: 0.7,
  /** loss/plateau over epochs: window k and minimum relative improvement (SageMaker LossNotDecreasing diff_percent 0.1 %). */
  plateauEpochs: 3,
  plateauEpochMinImprovement: 0.001,
  /** loss/plateau over epochs is not reported once the best loss is below this fraction of the first epoch's: the model
   * has learned, and a flat stretch late in training is convergence (epoch-to-epoch noise), not a model that never started. */
  plateauConvergedFraction: 0.3,
  /** loss/plateau over steps (doctor): window of steps (SageMaker num_steps 10) and minimum relative improvement. */
  plateauSteps: 10,
  plateauStepMinImprovement: 0.01,
  /** loss/oscillating (after AUTOTRAINER zeta 0.03 / eta 0.2, applied to loss instead of accuracy). */
  oscillationSwingEpoch: 0.03,
  oscillationSwingStep: 0.25,
  oscillationRate: 0.2,
  oscillationMinPoints: 5,
  /** input/range: how far outside the expected range the batch may go before it is "inconsistent". */
  inputRangeSlack: 0.5,
  /** labels/imbalance: most / least frequent present class, pixels. */
  imbalanceRatio: 100,
  /** metric/ignore-counted: tolerance on the crafted-input answers. */
  metricTolerance: 1e-3,
} as const;
