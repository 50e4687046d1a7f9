// `segscope doctor`: builds the configured model, data and loss, probes them, trains N steps (or overfits one batch)
// with the engine's own training step, and runs every health rule on what it saw.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadConfig } from '../../config/load';
import { resolveConfig, type ResolvedConfig } from '../../config/resolve';
import type { BackendChoice, SegScopeConfig } from '../../protocol/config';
import type { Finding } from '../../protocol/runEvents';
import type { LayerStats } from '../../protocol/runFolder';
import { initBackend } from '../backend';
import { openDataset, renderSettings, type Dataset, type SegBatch } from '../data';
import { loadSample } from '../data/sampleRenderer';
import { listSplit } from '../data/layout';
import { loadLossModule, makeLoss } from '../losses';
import { ConfusionMatrix } from '../metrics/confusion';
import { buildModel, setFrozen } from '../models';
import { makeOptimizer } from '../train/optimizer';
import { trainableVariables, trainStep, type TrainStepContext } from '../train/trainStep';
import { FindingLog, runBatchChecks, runEpochChecks, runStaticChecks } from './checks';
import type { EpochObservations, StaticObservations } from './observations';
import { firstNonFiniteWeightLayer, probeDeadUnits } from './probes/activationProbes';
import { summarizeBatch } from './probes/batchSample';
import { movingStatsDrift, probeFrozenBatchNorm, snapshotMovingStats } from './probes/batchNormProbes';
import { describeModel } from './probes/describeModel';
import { probeOneHotTargets, probeOutput, probeVoidPerturbation, type LossFunction } from './probes/lossProbes';
import { builtInMetric, loadMetricModule, probeMetric } from './probes/metricProbe';
import { frozenBatchNormLayersInTrainMode } from './rules/batchNorm';

export interface DoctorOptions {
  /** segscope.json; relative paths in the config resolve against its folder. */
  configPath: string;
  /** Use this config instead of the file's content (tests rewrite data.root this way). */
  config?: SegScopeConfig;
  /** Training steps (default 30; with `overfit`, the most steps to try, default 300). */
  steps?: number;
  /** Sanity check: train on one fixed batch; pass when the loss falls ≥ 90 % and the batch mIoU reaches ≥ 0.9. */
  overfit?: boolean;
  /** Allow loading user modules (loss.module, metrics.module). */
  trust?: boolean;
  backend?: BackendChoice;
  /** Progress lines for people (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface OverfitResult {
  passed: boolean;
  steps: number;
  lossFirst: number;
  lossLast: number;
  /** (first − last) / first. */
  lossDrop: number;
  /** mIoU of the fixed batch from the last step's predictions (training mode, the same forward pass as the loss). */
  miou: number;
}

export interface DoctorReport {
  findings: Finding[];
  backend: string;
  steps: number;
  losses: number[];
  overfit?: OverfitResult;
  durationMs: number;
  /** What the rules looked at (for tests and for people tuning thresholds). */
  observed: { static?: Omit<StaticObservations, 'config'>; epoch?: Omit<EpochObservations, 'config'> };
}

export const OVERFIT_LOSS_DROP = 0.9;
export const OVERFIT_MIOU = 0.9;

export class UntrustedModuleError extends Error {}

interface Setup {
  cfg: ResolvedConfig;
  configDir: string;
  model: tfl.LayersModel;
  loss: LossFunction;
  train: Dataset;
}

function resolveModule(configDir: string, file: string): string {
  return path.resolve(configDir, file);
}

async function setUp(opts: DoctorOptions): Promise<Setup & { backend: string }> {
  const loaded = opts.config ? { configPath: path.resolve(opts.configPath), config: opts.config } : loadConfig(opts.configPath);
  const configDir = path.dirname(path.resolve(loaded.configPath));
  const cfg = resolveConfig(loaded.config);
  for (const [key, file] of [['loss.module', cfg.loss.module], ['metrics.module', cfg.metrics.module]] as const) {
    if (file && !opts.trust) {
      throw new UntrustedModuleError(`${key} (${file}) runs code from the workspace: pass --trust to allow it`);
    }
  }
  if (cfg.model.path) throw new Error('doctor cannot load model.path files yet: use a built-in model.arch');
  const report = await initBackend(opts.backend ?? cfg.backend);
  const train = await openDataset(cfg, configDir, 'train');
  const model = buildModel(cfg.model, { numClasses: cfg.numClasses, inputSize: cfg.data.inputSize, seed: cfg.seed });
  setFrozen(model, cfg.train.freeze, cfg.train.frozenBatchNorm);
  let loss: LossFunction;
  if (cfg.loss.module) {
    loss = loadLossModule(resolveModule(configDir, cfg.loss.module)) as LossFunction;
  } else {
    const classFrequencies = cfg.loss.classWeights === 'inverse-frequency' ? await train.classPixelCounts?.() : undefined;
    const builtIn = makeLoss(cfg.loss, { numClasses: cfg.numClasses, ignoreLabel: cfg.data.ignoreLabel, classFrequencies });
    loss = (labels, output) => builtIn(labels as tf.Tensor3D, output as tf.Tensor4D);
  }
  return { cfg, configDir, model, loss, train, backend: report.name };
}

/** The label maps of the batch's samples as decoded from their files (before any resizing). */
export async function sourceMasksOf(cfg: ResolvedConfig, configDir: string, ids: string[]): Promise<Uint8Array[]> {
  const listing = listSplit(cfg.data, path.resolve(configDir, cfg.data.root), cfg.data.trainSplit);
  const masks: Uint8Array[] = [];
  for (const id of ids) {
    const files = listing.samples.find((s) => s.id === id);
    if (files) masks.push((await loadSample(files, renderSettings(cfg))).mask.labels);
  }
  return masks;
}

function stepContext(s: Setup): TrainStepContext {
  return {
    model: s.model, optimizer: makeOptimizer(s.cfg.train.optimizer), loss: s.loss as TrainStepContext['loss'],
    ...trainableVariables(s.model), weightDecay: s.cfg.train.weightDecay,
  };
}

/** Batches of the training split, epoch after epoch (augmented and shuffled as in training), until `count` are given. */
async function* trainingBatches(s: Setup, count: number): AsyncGenerator<SegBatch & { epoch: number; index: number }> {
  let given = 0;
  for (let epoch = 1; given < count; epoch++) {
    let index = 0;
    for await (const b of s.train.batches({ batchSize: s.cfg.train.batchSize, shuffle: true, augment: true, seed: s.cfg.seed, epoch })) {
      if (given >= count) return;
      given++;
      yield { ...b, epoch, index: ++index };
    }
    if (index === 0) return;
  }
}

/** Probes on the untrained model and the first batch; the static rules run later, with class counts from all batches. */
function staticProbes(s: Setup, first: SegBatch): Omit<StaticObservations, 'batch' | 'classPixelCounts'> {
  const facts = describeModel(s.model);
  const { cfg } = s;
  const x = tf.tensor4d(first.images, [first.batchSize, first.size, first.size, 3]);
  const y = tf.tensor3d(first.masks, [first.batchSize, first.size, first.size], 'int32');
  try {
    const output = s.model.apply(x, { training: false }) as tf.Tensor4D;
    const voidPerturbation = probeVoidPerturbation(s.loss, y, output, cfg.data.ignoreLabel, cfg.numClasses);
    const outputProbe = probeOutput(output, cfg.loss.fromLogits);
    output.dispose();
    const metric = cfg.metrics.module
      ? probeMetric(loadMetricModule(resolveModule(s.configDir, cfg.metrics.module)), cfg.metrics.module, cfg.numClasses, cfg.data.ignoreLabel)
      : probeMetric(builtInMetric(cfg.numClasses, cfg.data.ignoreLabel), 'built-in', cfg.numClasses, cfg.data.ignoreLabel);
    return {
      config: cfg, model: facts, voidPerturbation, output: outputProbe, metric,
      oneHotTargets: cfg.loss.target === 'onehot' && !cfg.loss.module ? probeOneHotTargets(y, cfg) : undefined,
      frozenBatchNorm: probeFrozenBatchNorm(s.model, x, frozenBatchNormLayersInTrainMode(facts.layers)),
    };
  } finally {
    tf.dispose([x, y]);
  }
}

/** Confusion matrix and the largest probability (as the loss sees it) of the model on a batch, inference mode. */
function judge(s: Setup, b: SegBatch): { confusion: ConfusionMatrix; maxProbability: number; outputRange: { min: number; max: number } } {
  const confusion = new ConfusionMatrix(s.cfg.numClasses, s.cfg.data.ignoreLabel);
  const { predicted, numbers } = tf.tidy(() => {
    const x = tf.tensor4d(b.images, [b.batchSize, b.size, b.size, 3]);
    const output = s.model.apply(x, { training: false }) as tf.Tensor4D;
    const probabilities = s.cfg.loss.fromLogits ? tf.softmax(output) : output;
    return { predicted: tf.cast(tf.argMax(output, -1), 'int32'), numbers: tf.stack([tf.max(probabilities), tf.min(output), tf.max(output)]) };
  });
  confusion.add(b.masks, predicted.dataSync() as Int32Array);
  const [maxProbability, min, max] = numbers.dataSync();
  tf.dispose([predicted, numbers]);
  return { confusion, maxProbability, outputRange: { min, max } };
}

function addClassCounts(counts: number[], masks: Int32Array): void {
  for (let i = 0; i < masks.length; i++) if (masks[i] >= 0 && masks[i] < counts.length) counts[masks[i]]++;
}

/** Mean over the last measured steps of each layer's gradient norm and update ratio (one step alone is noisy). */
function averageLayerStats(measured: { gradNorms?: Record<string, number>; updateRatios?: Record<string, number> }[]): Record<string, Partial<LayerStats>> {
  const recent = measured.slice(-5);
  const out: Record<string, Partial<LayerStats>> = {};
  const add = (field: 'gradNorm' | 'updateRatio', values: Record<string, number> | undefined, n: number) => {
    for (const [layer, v] of Object.entries(values ?? {})) {
      const entry = (out[layer] ??= {});
      entry[field] = (entry[field] ?? 0) + v / n;
    }
  };
  for (const m of recent) {
    add('gradNorm', m.gradNorms, recent.length);
    add('updateRatio', m.updateRatios, recent.length);
  }
  return out;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const s = await setUp(opts);
  const { cfg } = s;
  const steps = Math.max(0, Math.floor(opts.steps ?? (opts.overfit ? 300 : 30)));
  const findings = new FindingLog();
  const layerOrder = s.model.layers.map((l) => l.name);
  log(`doctor: ${cfg.model.arch} on ${s.backend}, ${cfg.numClasses} classes, input ${cfg.data.inputSize}, batch ${cfg.train.batchSize}, ${steps} ${opts.overfit ? 'overfit ' : ''}steps`);

  let optimizer: tf.Optimizer | undefined;
  try {
    const firstIterator = trainingBatches(s, 1);
    const first = (await firstIterator.next()).value as SegBatch | undefined;
    if (!first) throw new Error(`split '${cfg.data.trainSplit}' gave no batch`);
    await firstIterator.return(undefined);
    const probes = staticProbes(s, first);
    const batchSample = summarizeBatch(first, await sourceMasksOf(cfg, s.configDir, first.ids));
    const frozenInTrainMode = frozenBatchNormLayersInTrainMode(probes.model.layers);
    const statsBefore = snapshotMovingStats(s.model, frozenInTrainMode);

    const ctx = stepContext(s);
    optimizer = ctx.optimizer;
    const classCounts = new Array<number>(cfg.numClasses).fill(0);
    addClassCounts(classCounts, first.masks);
    const losses: number[] = [];
    const measured: { gradNorms?: Record<string, number>; updateRatios?: Record<string, number> }[] = [];
    // Nothing to train (everything frozen): the static rules say so; a step would have no variables to differentiate.
    const trainableSteps = ctx.variables.length > 0 ? steps : 0;
    const source = opts.overfit ? fixedBatch(first, trainableSteps) : trainingBatches(s, trainableSteps);
    let stopped = false;
    let lastBatchMiou = 0;
    for await (const b of source) {
      if (!opts.overfit && losses.length > 0) addClassCounts(classCounts, b.masks);
      const r = trainStep(ctx, b, true);
      losses.push(r.loss);
      measured.push({ gradNorms: r.gradNorms, updateRatios: r.updateRatios });
      const nonFinite = !Number.isFinite(r.loss) || Object.values(r.gradNorms ?? {}).some((n) => !Number.isFinite(n));
      findings.add(runBatchChecks({
        epoch: b.epoch, batch: b.index, loss: r.loss, gradNorms: r.gradNorms, layerOrder,
        firstNonFiniteWeightLayer: nonFinite ? firstNonFiniteWeightLayer(s.model) : undefined,
      }));
      if (losses.length % 10 === 0) log(`  step ${losses.length}: loss ${r.loss.toFixed(4)}`);
      if (nonFinite) {
        log(`  step ${losses.length}: loss ${r.loss}: stopping (nothing can be learned after NaN/Inf)`);
        stopped = true;
        break;
      }
      if (opts.overfit) {
        lastBatchMiou = batchMiou(cfg, first.masks, r.predictions);
        if (losses.length % 10 === 0 && overfitPassed(losses, lastBatchMiou)) break;
      }
    }

    const staticObs: StaticObservations = { ...probes, batch: batchSample, classPixelCounts: classCounts };
    findings.add(runStaticChecks(staticObs));
    let epochObs: EpochObservations | undefined;
    if (losses.length > 0 && !stopped) {
      const evaluation = opts.overfit ? first : await firstBatch(await openDataset(cfg, s.configDir, 'val').catch(() => s.train), cfg);
      const { confusion, maxProbability, outputRange } = judge(s, evaluation);
      const x = tf.tensor4d(first.images, [first.batchSize, first.size, first.size, 3]);
      const deadUnits = probeDeadUnits(s.model, x);
      x.dispose();
      const epoch: EpochObservations = {
        config: cfg, epoch: 1, layerOrder, lossHistory: losses, lossUnit: 'step',
        confusion: confusion.toArray(), layers: averageLayerStats(measured), deadUnits,
        frozenBatchNormDrift: movingStatsDrift(statsBefore, snapshotMovingStats(s.model, frozenInTrainMode)),
        maxPredictedProbability: maxProbability, outputRange,
      };
      findings.add(runEpochChecks(epoch).map(({ epoch: _e, ...f }) => f));
      epochObs = epoch;
    }

    let overfit: OverfitResult | undefined;
    if (opts.overfit) {
      const miou = stopped ? 0 : lastBatchMiou;
      const lossFirst = losses[0] ?? NaN;
      const lossLast = losses[losses.length - 1] ?? NaN;
      const lossDrop = (lossFirst - lossLast) / lossFirst;
      overfit = { passed: overfitPassed(losses, miou), steps: losses.length, lossFirst, lossLast, lossDrop: Number.isFinite(lossDrop) ? lossDrop : 0, miou };
    }
    const { config: _s, ...staticSeen } = staticObs;
    const epochSeen = epochObs ? (({ config: _e, ...rest }) => rest)(epochObs) : undefined;
    return {
      findings: findings.all(), backend: s.backend, steps: losses.length, losses, overfit, durationMs: Date.now() - started,
      observed: { static: staticSeen, epoch: epochSeen },
    };
  } finally {
    optimizer?.dispose();
    s.model.dispose();
    await s.train.close?.();
  }
}

/** mIoU of one batch from the training step's own predictions (training mode, as the loss saw them). */
function batchMiou(cfg: ResolvedConfig, masks: Int32Array, predictions: Int32Array): number {
  const m = new ConfusionMatrix(cfg.numClasses, cfg.data.ignoreLabel);
  m.add(masks, predictions);
  return m.miou();
}

export function overfitPassed(losses: number[], miou: number): boolean {
  if (losses.length < 2) return false;
  const drop = (losses[0] - losses[losses.length - 1]) / losses[0];
  return drop >= OVERFIT_LOSS_DROP && miou >= OVERFIT_MIOU;
}

async function* fixedBatch(b: SegBatch, count: number): AsyncGenerator<SegBatch & { epoch: number; index: number }> {
  for (let i = 1; i <= count; i++) yield { ...b, epoch: 1, index: i };
}

async function firstBatch(d: Dataset, cfg: ResolvedConfig): Promise<SegBatch> {
  const it = d.batches({ batchSize: cfg.train.batchSize, shuffle: false, augment: false, seed: cfg.seed, epoch: 1, limitBatches: 1 });
  const r = await it.next();
  await it.return?.(undefined);
  if (r.done || !r.value) throw new Error('no batch to evaluate on');
  return r.value;
}
