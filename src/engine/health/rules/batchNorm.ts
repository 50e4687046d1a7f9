// BatchNorm rules: frozen layers whose BatchNorm still runs in training mode, and BatchNorm with too small batches.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt, listOf } from '../finding';
import type { BatchNormDrift, EpochObservations, FrozenBatchNormProbe, LayerFacts, StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

const FIX = 'Set train.frozenBatchNorm to "inference", so that frozen layers normalise with their stored statistics and never change them.';

function frozenBatchNormFinding(probes: FrozenBatchNormProbe[], drifts: BatchNormDrift[], frozenInTrainMode: number): Finding[] {
  const differing = probes.filter((p) => p.trainInferenceDifference > THRESHOLDS.frozenBnTrainInferenceDifference);
  const drifting = drifts.filter((d) => Math.max(d.movingMeanDrift, d.movingVarianceDrift) > THRESHOLDS.frozenBnDrift);
  if (differing.length === 0 && drifting.length === 0) return [];
  const worstDiff = differing.reduce((a, b) => (b.trainInferenceDifference > a.trainInferenceDifference ? b : a), differing[0]);
  const worstDrift = drifting.reduce((a, b) => (Math.max(b.movingMeanDrift, b.movingVarianceDrift) > Math.max(a.movingMeanDrift, a.movingVarianceDrift) ? b : a), drifting[0]);
  const layer = worstDiff?.layer ?? worstDrift?.layer;
  const what = [
    differing.length > 0 && `their output on the same batch differs by up to ${fmt(worstDiff.trainInferenceDifference * 100)} % between training and inference`,
    drifting.length > 0 && `their moving statistics drifted by up to ${fmt(Math.max(worstDrift.movingMeanDrift, worstDrift.movingVarianceDrift) * 100)} %`,
  ].filter(Boolean).join(' and ');
  const evidence: Finding['evidence'] = { frozenBatchNormLayers: Math.max(frozenInTrainMode, differing.length, drifting.length) };
  if (worstDiff) Object.assign(evidence, { layersDiffering: differing.length, maxTrainInferenceDifference: worstDiff.trainInferenceDifference });
  if (worstDrift) Object.assign(evidence, { layersDrifting: drifting.length, maxMovingMeanDrift: worstDrift.movingMeanDrift, maxMovingVarianceDrift: worstDrift.movingVarianceDrift });
  return [finding(
    'bn/frozen-train-mode', 'error',
    `Frozen BatchNorm layers still run in training mode: ${what}, so the "frozen" part keeps changing and the model sees different features when it is evaluated (e.g. ${listOf([layer])}).`,
    FIX, evidence, { configKey: 'train.frozenBatchNorm', layer },
  )];
}

function frozenTrainModeLayers(layers: LayerFacts[]): LayerFacts[] {
  return layers.filter((l) => l.isBatchNorm && !l.trainable && l.params > 0 && l.bnInferenceMode === false);
}

/** Static: training vs inference output of frozen BatchNorm layers on the first batch. */
export function batchNormFrozenTrainMode(obs: StaticObservations): Finding[] {
  const structural = frozenTrainModeLayers(obs.model.layers);
  if (obs.frozenBatchNorm === undefined && structural.length > 0) {
    // Not probed: the configuration alone says what will happen.
    return [finding(
      'bn/frozen-train-mode', 'error',
      `${structural.length} frozen BatchNorm layers run in training mode, so their moving statistics keep changing although the layers are meant to be frozen (e.g. ${structural[0].name}).`,
      FIX, { frozenBatchNormLayers: structural.length, frozenBatchNorm: obs.config.train.frozenBatchNorm, measured: false },
      { configKey: 'train.frozenBatchNorm', layer: structural[0].name },
    )];
  }
  return frozenBatchNormFinding(obs.frozenBatchNorm ?? [], [], structural.length);
}

/** Per epoch: moving-statistic drift of frozen BatchNorm layers (and the train/inference probe when repeated). */
export function batchNormFrozenDrift(obs: EpochObservations): Finding[] {
  return frozenBatchNormFinding(obs.frozenBatchNorm ?? [], obs.frozenBatchNormDrift ?? [], 0);
}

/** bn/small-batch: BatchNorm layers that normalise with batch statistics while the batch holds fewer than 8 images. */
export function batchNormSmallBatch(obs: StaticObservations): Finding[] {
  const batchSize = Math.min(obs.config.train.batchSize, obs.batch.batchSize);
  if (batchSize >= THRESHOLDS.bnMinBatchSize) return [];
  const training = obs.model.layers.filter((l) => l.isBatchNorm && l.bnInferenceMode !== true && (l.trainable || obs.config.train.frozenBatchNorm === 'train'));
  if (training.length === 0) return [];
  return [finding(
    'bn/small-batch', 'warning',
    `${training.length} BatchNorm layers compute their statistics from batches of only ${batchSize} images, which are too few for stable estimates, so training is noisy and evaluation (which uses the averages) disagrees with training.`,
    `Raise train.batchSize to ${THRESHOLDS.bnMinBatchSize} or more (with a smaller data.inputSize if memory is short), or freeze those layers with train.frozenBatchNorm "inference".`,
    { batchSize, batchNormLayersInTrainingMode: training.length, minimum: THRESHOLDS.bnMinBatchSize },
    { configKey: 'train.batchSize', layer: training[0].name },
  )];
}

/** Helper for callers: frozen BatchNorm layers that will run in training mode (worth probing). */
export function frozenBatchNormLayersInTrainMode(layers: LayerFacts[]): string[] {
  return frozenTrainModeLayers(layers).map((l) => l.name);
}
