// Builds the named values of a paused training run (Metrics, Optimizer, Layers, Watch images, Finding): shown in the
// Variables view and used, merged into one tree, by breakpoint conditions and the Debug Console.
import type { Finding } from '../protocol/runEvents';
import type { EpochMetrics, LayerStats, SplitMetrics } from '../protocol/runFolder';
import { Unavailable, type Value, type ValueTree } from './expr/evaluate';

export interface RunPosition {
  epoch: number;
  /** Batches done in `epoch`. */
  batch: number;
  step: number;
  /** The epoch's end was processed (validation, probes, metrics written). */
  atEpochEnd: boolean;
}

export interface PausedInputs {
  position: RunPosition;
  epochs: number;
  batchesPerEpoch: number;
  classes: readonly string[];
  /** Loss and learning rate of the last batch. */
  batchLoss?: number;
  learningRate?: number;
  /** Metrics of the last finished epoch (this epoch when at its end). */
  metrics?: EpochMetrics;
  optimizer: Record<string, string | number | undefined>;
  finding?: Finding;
  /** Per-channel activation ranges of a layer at the metrics' epoch, when the run folder has them (watched layers). */
  channels?: (layer: string) => ValueTree | undefined;
}

export interface PausedScopes {
  metrics: ValueTree;
  optimizer: ValueTree;
  layers: ValueTree | Unavailable;
  watch: ValueTree | Unavailable;
  finding?: ValueTree | Unavailable;
}

const NO_EPOCH = new Unavailable('no epoch has finished yet');

function classTree(iou: readonly (number | null)[] | undefined, classes: readonly string[]): ValueTree {
  const tree: Record<string, Value> = {};
  const count = Math.max(iou?.length ?? 0, classes.length);
  for (let i = 0; i < count; i++) tree[classes[i] ?? `class${i}`] = iou?.[i] ?? null;
  return tree;
}

function splitTree(split: SplitMetrics, classes: readonly string[]): ValueTree {
  return { loss: split.loss, mIoU: split.miou, pixelAccuracy: split.pixelAccuracy, IoU: classTree(split.iou, classes) };
}

function layerTree(stats: LayerStats, channels: ValueTree | undefined): ValueTree {
  const tree: Record<string, Value> = {
    mean: stats.mean, std: stats.std, min: stats.min, max: stats.max, zeros: stats.zeros, saturated: stats.saturated,
  };
  if (stats.gradNorm !== undefined) tree.gradNorm = stats.gradNorm;
  if (stats.updateRatio !== undefined) tree.updateRatio = stats.updateRatio;
  if (channels) tree.channels = channels;
  return tree;
}

export function buildScopes(inputs: PausedInputs): PausedScopes {
  const { position, metrics, classes } = inputs;
  const metricsTree: Record<string, Value | Unavailable> = {
    epoch: position.epoch,
    batch: position.batch,
    step: position.step,
    loss: inputs.batchLoss ?? new Unavailable('no batch has run yet'),
    mIoU: metrics ? metrics.val.miou : NO_EPOCH,
    pixelAccuracy: metrics ? metrics.val.pixelAccuracy : NO_EPOCH,
    IoU: metrics ? classTree(metrics.val.iou, classes) : NO_EPOCH,
    train: metrics ? splitTree(metrics.train, classes) : NO_EPOCH,
    val: metrics ? splitTree(metrics.val, classes) : NO_EPOCH,
    metricsEpoch: metrics ? metrics.epoch : NO_EPOCH,
  };
  const updateRatios: Record<string, Value> = {};
  for (const [name, stats] of Object.entries(metrics?.layers ?? {})) if (stats.updateRatio !== undefined) updateRatios[name] = stats.updateRatio;
  const optimizerTree: Record<string, Value | Unavailable> = {
    lr: inputs.learningRate ?? metrics?.learningRate ?? new Unavailable('no batch has run yet'),
    step: position.step,
  };
  for (const [key, value] of Object.entries(inputs.optimizer)) if (value !== undefined) optimizerTree[key] = value;
  optimizerTree.updateRatio = metrics ? updateRatios : NO_EPOCH;

  let layers: ValueTree | Unavailable = NO_EPOCH;
  let watch: ValueTree | Unavailable = NO_EPOCH;
  if (metrics) {
    const layerEntries: Record<string, Value> = {};
    for (const [name, stats] of Object.entries(metrics.layers)) layerEntries[name] = layerTree(stats, inputs.channels?.(name));
    layers = layerEntries;
    const watchEntries: Record<string, Value> = {};
    for (const [image, score] of Object.entries(metrics.watch)) watchEntries[image] = { mIoU: score.miou, pixelAccuracy: score.pixelAccuracy };
    watch = watchEntries;
  }
  const finding = inputs.finding ? findingTree(inputs.finding) : undefined;
  return { metrics: metricsTree, optimizer: optimizerTree, layers, watch, finding };
}

function findingTree(finding: Finding): ValueTree {
  const tree: Record<string, Value> = { id: finding.id, severity: finding.severity, cause: finding.cause, fix: finding.fix };
  for (const [key, value] of Object.entries(finding.evidence)) tree[key] = value;
  if (finding.location?.layer) tree.layer = finding.location.layer;
  if (finding.location?.configKey) tree.configKey = finding.location.configKey;
  return tree;
}

/** The one tree conditions and the Debug Console see: Metrics at the top, plus lr, optimizer, layers, watch, finding. */
export function evaluationScope(scopes: PausedScopes, totals: { epochs: number; batchesPerEpoch: number }): ValueTree {
  return {
    ...scopes.metrics,
    lr: scopes.optimizer.lr,
    optimizer: scopes.optimizer,
    layers: scopes.layers,
    watch: scopes.watch,
    finding: scopes.finding ?? new Unavailable('this stop is not a health finding'),
    epochs: totals.epochs,
    batchesPerEpoch: totals.batchesPerEpoch,
  };
}

/** The shape of the evaluation scope before any number exists, so conditions can be checked when they are set. */
export function scopeShape(classes: readonly string[], optimizer: Record<string, string | number | undefined> = {}): ValueTree {
  const someEpoch: EpochMetrics = {
    epoch: 1, confusion: [], learningRate: 0, durationMs: 0, imagesPerSec: 0, layers: {}, watch: {},
    train: { loss: 0, miou: 0, pixelAccuracy: 0, iou: classes.map(() => 0) },
    val: { loss: 0, miou: 0, pixelAccuracy: 0, iou: classes.map(() => 0) },
  };
  const scopes = buildScopes({
    position: { epoch: 1, batch: 0, step: 0, atEpochEnd: false }, epochs: 1, batchesPerEpoch: 1, classes,
    batchLoss: 0, learningRate: 0, metrics: someEpoch, optimizer,
  });
  // Layer and image names are known only once the run started: leave them unchecked.
  const unchecked = new Unavailable('known once the run has started');
  const optimizerShape = { ...scopes.optimizer, updateRatio: unchecked };
  return evaluationScope({ ...scopes, optimizer: optimizerShape, layers: unchecked, watch: unchecked, finding: unchecked }, { epochs: 1, batchesPerEpoch: 1 });
}
