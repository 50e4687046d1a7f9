// Health checks inside a training session: probes and static rules before the first step, cheap rules after each
// step, the rest at each epoch's end. Returns only findings not reported before (emit them as `finding` RunEvents).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ResolvedConfig } from '../../config/resolve';
import type { Finding } from '../../protocol/runEvents';
import type { EpochMetrics } from '../../protocol/runFolder';
import { FindingLog, runBatchChecks, runEpochChecks, runStaticChecks } from './checks';
import type { StaticObservations } from './observations';
import { firstNonFiniteWeightLayer, probeDeadUnits } from './probes/activationProbes';
import { summarizeBatch } from './probes/batchSample';
import { movingStatsDrift, probeFrozenBatchNorm, snapshotMovingStats, type MovingStatsSnapshot } from './probes/batchNormProbes';
import { describeModel } from './probes/describeModel';
import { probeOneHotTargets, probeOutput, probeVoidPerturbation, type LossFunction } from './probes/lossProbes';
import { builtInMetric, probeMetric, type MetricFunction } from './probes/metricProbe';
import { frozenBatchNormLayersInTrainMode } from './rules/batchNorm';

export interface MonitorBatch {
  images: Float32Array;
  masks: Int32Array;
  batchSize: number;
  size: number;
}

export class HealthMonitor {
  private readonly findings = new FindingLog();
  private readonly lossHistory: number[] = [];
  private readonly layerOrder: string[];
  private frozenInTrainMode: string[] = [];
  private driftBase?: MovingStatsSnapshot;

  /** `metric`: the user's metric module (default: the built-in confusion-matrix mIoU). */
  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly model: tfl.LayersModel,
    private readonly loss: LossFunction,
    private readonly metric?: { fn: MetricFunction; source: string },
  ) {
    this.layerOrder = model.layers.map((l) => l.name);
  }

  /** Every finding so far (errors first). */
  all(): Finding[] {
    return this.findings.all();
  }

  /**
   * Once, with the first training batch, before the first step. `sourceMasks`: the same samples' label maps as read
   * from their files (enables labels/interpolated-mask); `classPixelCounts`: per class over the training split.
   */
  beforeFirstStep(batch: MonitorBatch, extra: { sourceMasks?: ArrayLike<number>[]; classPixelCounts?: number[] } = {}): Finding[] {
    const { cfg } = this;
    const facts = describeModel(this.model);
    this.frozenInTrainMode = frozenBatchNormLayersInTrainMode(facts.layers);
    this.driftBase = snapshotMovingStats(this.model, this.frozenInTrainMode);
    const x = tf.tensor4d(batch.images, [batch.batchSize, batch.size, batch.size, 3]);
    const y = tf.tensor3d(batch.masks, [batch.batchSize, batch.size, batch.size], 'int32');
    let obs: StaticObservations;
    try {
      const output = this.model.apply(x, { training: false }) as tf.Tensor4D;
      const voidPerturbation = probeVoidPerturbation(this.loss, y, output, cfg.data.ignoreLabel, cfg.numClasses);
      const outputProbe = probeOutput(output, cfg.loss.fromLogits);
      output.dispose();
      const metric = this.metric ?? { fn: builtInMetric(cfg.numClasses, cfg.data.ignoreLabel), source: 'built-in' };
      obs = {
        config: cfg, model: facts, batch: summarizeBatch(batch, extra.sourceMasks), classPixelCounts: extra.classPixelCounts,
        voidPerturbation, output: outputProbe,
        metric: probeMetric(metric.fn, metric.source, cfg.numClasses, cfg.data.ignoreLabel),
        oneHotTargets: cfg.loss.target === 'onehot' && !cfg.loss.module ? probeOneHotTargets(y, cfg) : undefined,
        frozenBatchNorm: probeFrozenBatchNorm(this.model, x, this.frozenInTrainMode),
      };
    } finally {
      tf.dispose([x, y]);
    }
    return this.findings.add(runStaticChecks(obs));
  }

  /** After each step; `gradNorms` when the step measured them. Looks for the first non-finite weight only after a non-finite loss or gradient. */
  afterStep(epoch: number, batch: number, loss: number, gradNorms?: Record<string, number>): Finding[] {
    const nonFinite = !Number.isFinite(loss) || Object.values(gradNorms ?? {}).some((n) => !Number.isFinite(n));
    return this.findings.add(runBatchChecks({
      epoch, batch, loss, gradNorms, layerOrder: this.layerOrder,
      firstNonFiniteWeightLayer: nonFinite ? firstNonFiniteWeightLayer(this.model) : undefined,
    }));
  }

  /** At the end of an epoch, with its metrics.json content and (optionally) a batch of watch images for the activation probes. */
  afterEpoch(metrics: EpochMetrics, watch?: Omit<MonitorBatch, 'masks'>): Finding[] {
    this.lossHistory.push(metrics.train.loss);
    let probes: Pick<Parameters<typeof runEpochChecks>[0], 'deadUnits' | 'maxPredictedProbability' | 'outputRange'> = {};
    if (watch && watch.batchSize > 0) {
      const x = tf.tensor4d(watch.images, [watch.batchSize, watch.size, watch.size, 3]);
      const numbers = tf.tidy(() => {
        const output = this.model.apply(x, { training: false }) as tf.Tensor;
        const probabilities = this.cfg.loss.fromLogits ? tf.softmax(output) : output;
        return tf.stack([tf.max(probabilities), tf.min(output), tf.max(output)]);
      });
      const [maxProbability, min, max] = numbers.dataSync();
      numbers.dispose();
      probes = { deadUnits: probeDeadUnits(this.model, x), maxPredictedProbability: maxProbability, outputRange: { min, max } };
      x.dispose();
    }
    const after = snapshotMovingStats(this.model, this.frozenInTrainMode);
    const drift = this.driftBase ? movingStatsDrift(this.driftBase, after) : [];
    this.driftBase = after;
    return this.findings.add(runEpochChecks({
      config: this.cfg, epoch: metrics.epoch, layerOrder: this.layerOrder, lossHistory: [...this.lossHistory],
      lossUnit: 'epoch', train: metrics.train, val: metrics.val, confusion: metrics.confusion, layers: metrics.layers,
      frozenBatchNormDrift: drift, ...probes,
    }));
  }
}
