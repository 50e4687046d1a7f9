// A training run from start to end: sets everything up from segscope.json, runs the custom training loop with
// pause/step/stop at batch boundaries, validates and probes at each epoch's end, and keeps the run folder complete.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { resolveConfig, type ResolvedConfig } from '../../config/resolve';
import type { BackendChoice, SegScopeConfig } from '../../protocol/config';
import type { RunEvent } from '../../protocol/runEvents';
import {
  RUN_FORMAT_VERSION, runPaths, safeName, type BackendReport, type ClassInfo, type EpochMetrics, type LayerStats,
  type RunInfo, type SplitMetrics,
} from '../../protocol/runFolder';
import type { ProbeResult, TrainerPosition } from '../../protocol/trainer';
import { quantizeActivation } from '../probes/activationFile';
import { mergeRawStats } from '../probes/layerStats';
import { ProbeModel } from '../probes/probeModel';
import {
  findCheckpoint, loadModelWeights, loadOptimizerState, readCheckpointState, saveCheckpoint, type CheckpointState,
} from '../run/checkpoint';
import { EventLog } from '../run/eventLog';
import { createRunFolder, RunFolder } from '../run/runFolder';
import { EarlyStopping } from '../train/earlyStopping';
import { getLearningRate, makeOptimizer, setLearningRate } from '../train/optimizer';
import { learningRateAt } from '../train/schedule';
import { trainableVariables, trainStep, type TrainStepContext } from '../train/trainStep';
import type { EngineParts, SessionBatch, SessionDataset } from './parts';
import { RunControl, type PauseReason } from './runControl';
import { SessionHealth } from './sessionHealth';
import { loadWatchImages, probeWatchImages, writeWatchInputs, type WatchImage } from './watchImages';

export interface SessionOptions {
  /** Absolute (or cwd-relative) path of segscope.json; relative paths in the config are resolved from its folder. */
  configPath: string;
  config: SegScopeConfig;
  /** Continue this run folder from its checkpoint (same epoch numbering, optimizer state restored). */
  resumeRunDir?: string;
  /** Command-line overrides. */
  epochs?: number;
  backend?: BackendChoice;
  pauseOnStart?: boolean;
  /** Honour a due pause or step after the run's last epoch too (the debugger stops there); otherwise the run just ends. */
  lastEpochBoundary?: boolean;
  /** The config may load user code (loss.module): only when the workspace is trusted / --trust was given. */
  trust?: boolean;
  onEvent?: (event: RunEvent) => void;
  onPaused?: (position: TrainerPosition, reason: PauseReason) => void;
  onResumed?: (position: TrainerPosition) => void;
  /** Stand-ins for tests; default: the engine's real backend, data, models, losses and metrics. */
  parts?: EngineParts;
  now?: () => Date;
}

/** Everything open() prepares for the constructor. */
interface SessionSetup {
  cfg: ResolvedConfig;
  folder: RunFolder;
  backend: BackendReport;
  parts: EngineParts;
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  train: SessionDataset;
  val: SessionDataset;
  watchImages: WatchImage[];
  watchLayers: string[];
  probe: ProbeModel;
  info: RunInfo;
  resumeState?: CheckpointState;
  batchesPerEpoch: number;
  loss: TrainStepContext['loss'];
}

export interface RunResult {
  status: 'finished' | 'stopped' | 'early-stopped' | 'crashed';
  runDir: string;
  epochsDone: number;
  val?: { miou: number; loss: number };
  error?: string;
}

/** How long the epoch spent where (reported in metrics.json as `timing`). */
type EpochTiming = NonNullable<EpochMetrics['timing']>;

/** A full event-loop turn (timers → poll → check), so IPC messages and signals are handled between batches. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const isoNow = () => new Date().toISOString();

export class TrainingSession {
  private readonly control: RunControl;
  private readonly events: EventLog;
  private position: TrainerPosition;
  private state: { epochsDone: number; batchInEpoch: number; step: number };
  private readonly earlyStopping?: EarlyStopping;
  private readonly stepContext: TrainStepContext;
  private lastMeasure: { gradNorms?: Record<string, number>; updateRatios?: Record<string, number> } = {};
  private epochDurations: number[] = [];
  private info!: RunInfo;
  private running = false;
  private disposed = false;
  private readonly lastEpochBoundary: boolean;

  private readonly cfg: ResolvedConfig;
  readonly folder: RunFolder;
  readonly backend: BackendReport;
  private readonly parts: EngineParts;
  private readonly model: tfl.LayersModel;
  private readonly optimizer: tf.Optimizer;
  private readonly train: SessionDataset;
  private readonly val: SessionDataset;
  private readonly watchImages: WatchImage[];
  private readonly watchLayers: string[];
  private readonly probe: ProbeModel;
  private readonly batchesPerEpoch: number;
  private readonly health: SessionHealth;

  private constructor(setup: SessionSetup, opts: SessionOptions) {
    ({
      cfg: this.cfg, folder: this.folder, backend: this.backend, parts: this.parts, model: this.model,
      optimizer: this.optimizer, train: this.train, val: this.val, watchImages: this.watchImages,
      watchLayers: this.watchLayers, probe: this.probe, batchesPerEpoch: this.batchesPerEpoch, info: this.info,
    } = setup);
    const { cfg, resumeState } = setup;
    this.events = new EventLog(this.folder.file(runPaths.events), opts.onEvent);
    this.control = new RunControl({
      paused: (position, reason) => {
        this.writeStatus('paused');
        opts.onPaused?.(position, reason);
      },
      resumed: (position) => {
        this.writeStatus('running');
        opts.onResumed?.(position);
      },
    }, opts.pauseOnStart);
    this.lastEpochBoundary = opts.lastEpochBoundary ?? false;
    this.state = {
      epochsDone: resumeState?.epochsDone ?? 0,
      batchInEpoch: resumeState?.batchInEpoch ?? 0,
      step: resumeState?.step ?? 0,
    };
    this.position = { epoch: this.state.epochsDone + 1, batch: this.state.batchInEpoch, step: this.state.step };
    const es = cfg.train.earlyStopping;
    if (es) {
      this.earlyStopping = new EarlyStopping(es);
      if (resumeState?.earlyStopping) this.earlyStopping.restore(resumeState.earlyStopping);
    }
    this.stepContext = {
      model: this.model, optimizer: this.optimizer, ...trainableVariables(this.model), loss: setup.loss,
      weightDecay: cfg.train.weightDecay,
    };
    this.health = new SessionHealth(cfg, path.dirname(this.info.configPath), this.model, setup.loss, (e) => this.emit(e));
  }

  /** Sets up a run (new or resumed): writes run.json and the watch inputs, emits run/start. Call run() next. */
  static async open(opts: SessionOptions): Promise<TrainingSession> {
    const parts = opts.parts ?? (await import('./engineParts')).engineParts();
    let configPath = path.resolve(opts.configPath);
    let folder: RunFolder | undefined;
    let rawConfig = opts.config;
    let resumeState: CheckpointState | undefined;
    let checkpointDir: string | undefined;
    let previous: RunInfo | undefined;
    if (opts.resumeRunDir) {
      folder = new RunFolder(path.resolve(opts.resumeRunDir));
      previous = folder.readInfo();
      // A resumed run keeps its own config (and the folder its relative paths are resolved from).
      rawConfig = previous.config;
      configPath = previous.configPath;
      checkpointDir = findCheckpoint(folder.file(runPaths.checkpointDir));
      if (!checkpointDir) throw new Error(`Cannot resume ${folder.dir}: it has no checkpoint (${runPaths.checkpointDir}/)`);
      resumeState = readCheckpointState(checkpointDir);
    }
    const merged: SegScopeConfig = {
      ...rawConfig,
      backend: opts.backend ?? rawConfig.backend,
      train: { ...rawConfig.train, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}) },
    };
    const cfg = resolveConfig(merged);
    const configDir = path.dirname(configPath);
    const backend = await parts.initBackend(cfg.backend);

    const pendingEvents: RunEvent[] = [];
    const early = (e: RunEvent) => pendingEvents.push(e);
    const train = await parts.openDataset(cfg, configDir, 'train', early);
    const val = await parts.openDataset(cfg, configDir, 'val', early);

    const loss = await makeSessionLoss(cfg, configDir, parts, train, opts.trust === true);
    const build = () => parts.buildModel(cfg.model, { numClasses: cfg.numClasses, inputSize: cfg.data.inputSize, seed: cfg.seed });
    const loaded = parts.loadModel
      ? await parts.loadModel({ cfg, configDir, trusted: opts.trust === true, build })
      : { model: build(), source: 'built-in architecture', endsInSoftmax: cfg.model.finalSoftmax };
    const model = loaded.model;
    if (checkpointDir) await loadModelWeights(checkpointDir, model);
    parts.setFrozen(model, cfg.train.freeze, cfg.train.frozenBatchNorm);
    const optimizer = makeOptimizer(cfg.train.optimizer);
    if (checkpointDir) await loadOptimizerState(checkpointDir, optimizer);

    if (folder) folder.cleanForResume(resumeState!.epochsDone);
    else folder = new RunFolder(createRunFolder(path.resolve(configDir, cfg.runsDir), cfg.name, opts.now?.()).dir);

    const warn = (message: string) => early({ type: 'warning', time: isoNow(), message });
    const watchImages = await loadWatchImages(cfg, val, train, warn);
    const probe = new ProbeModel(model, cfg.model.finalSoftmax || loaded.endsInSoftmax);
    const watchLayers = cfg.watch.layers.filter((name) => {
      if (probe.hasLayer(name)) return true;
      warn(`watch layer "${name}" is not a layer of the model; it is not watched`);
      return false;
    });
    const watchInfo = writeWatchInputs(folder, watchImages, cfg.data.inputSize, parts);
    const palette = parts.palette();
    const classes: ClassInfo[] = cfg.data.classes.map((name, id) => ({ id, name, color: palette[id] ?? [0, 0, 0] }));
    const id = path.basename(folder.dir);
    const info: RunInfo = {
      formatVersion: RUN_FORMAT_VERSION,
      id,
      name: cfg.name,
      createdAt: previous?.createdAt ?? (opts.now?.() ?? new Date()).toISOString(),
      configPath,
      config: merged,
      backend,
      model: parts.summarizeModel(model),
      modelSource: loaded.source,
      ...(loaded.weights ? { weightsLoaded: loaded.weights } : {}),
      classes,
      ignoreLabel: cfg.data.ignoreLabel,
      inputSize: cfg.data.inputSize,
      watch: { images: watchInfo, layers: watchLayers },
      status: 'running',
      epochsDone: resumeState?.epochsDone ?? 0,
      ...(opts.resumeRunDir ? { resumedFrom: `${runPaths.checkpointDir} at epoch ${resumeState!.epochsDone}, step ${resumeState!.step}` } : {}),
    };
    folder.writeInfo(info);

    const perEpoch = countBatches(train.ids.length, cfg.train.batchSize, cfg.train.stepsPerEpoch);
    const session = new TrainingSession({
      cfg, folder, backend, parts, model, optimizer, train, val, watchImages, watchLayers, probe, info, resumeState,
      batchesPerEpoch: perEpoch, loss,
    }, opts);
    session.emit({
      type: 'run/start', time: isoNow(), runDir: folder.dir, backend, epochs: cfg.train.epochs, batchesPerEpoch: perEpoch,
      ...(info.resumedFrom ? { resumedFrom: info.resumedFrom } : {}),
    });
    for (const e of pendingEvents) session.emit(e);
    return session;
  }

  get runDir(): string {
    return this.folder.dir;
  }

  get currentPosition(): TrainerPosition {
    return { ...this.position };
  }

  get layersModel(): tfl.LayersModel {
    return this.model;
  }

  pause(): void { this.control.pause(); }
  resume(): void { this.control.resume(); }
  stepBatch(): void { this.control.stepBatch(); }
  stepEpoch(): void { this.control.stepEpoch(); }
  stop(): void { this.control.stop(); }

  /**
   * Probes one image (a watch image or any train/val id) and one layer at the current weights, between batches.
   * Writes probes/step-<N>/<image>/<layer>.u8 + .json and returns the layer's statistics on that image.
   */
  requestProbe(image: string, layer: string): Promise<ProbeResult> {
    const work = () => this.probeNow(image, layer);
    return this.running ? this.control.enqueue(work) : work();
  }

  private async probeNow(image: string, layer: string): Promise<ProbeResult> {
    if (!this.probe.hasLayer(layer)) throw new Error(`no layer named "${layer}" in the model`);
    const watched = this.watchImages.find((w) => w.id === image);
    const from = this.val.ids.includes(image) ? this.val : this.train.ids.includes(image) ? this.train : undefined;
    if (!watched && !from) throw new Error(`no image "${image}" in the train or val split`);
    const sample = watched?.sample ?? (await from!.sample(image));
    const result = this.probe.run(sample.image, this.cfg.data.inputSize, [layer]);
    const index = this.probe.layerNames.indexOf(layer);
    const activation = result.activations[layer];
    const { bytes, header } = quantizeActivation(activation.values, activation.shape, layer, image);
    const base = `probes/step-${String(this.position.step).padStart(6, '0')}/${safeName(image)}/${safeName(layer)}`;
    this.folder.writeFile(`${base}.u8`, bytes);
    this.folder.writeFile(`${base}.json`, JSON.stringify(header));
    return { layer, image, stats: mergeRawStats([result.rawStats[index]]), activation: `${base}.u8`, header: `${base}.json` };
  }

  /** Runs the loop until the last epoch, early stopping, Stop, or an error (then status 'crashed'). */
  async run(): Promise<RunResult> {
    if (this.running) throw new Error('this session is already running');
    this.running = true;
    let result: RunResult;
    try {
      result = await this.loop();
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      this.writeStatus('crashed');
      result = { status: 'crashed', runDir: this.runDir, epochsDone: this.state.epochsDone, error: message };
      this.emit({ type: 'run/end', time: isoNow(), runDir: this.runDir, status: 'crashed', epochsDone: this.state.epochsDone, error: message });
    } finally {
      this.running = false;
    }
    await this.control.drain();
    return result;
  }

  private async loop(): Promise<RunResult> {
    const { epochs, batchSize } = this.cfg.train;
    let lastVal: { miou: number; loss: number } | undefined;
    const dropLast = this.train.ids.length > batchSize;
    while (this.state.epochsDone < epochs) {
      const epoch = this.state.epochsDone + 1;
      const skip = this.state.batchInEpoch;
      const epochStart = performance.now();
      const pausedBefore = this.control.pausedMs;
      const trainConfusion = this.parts.newConfusion(this.cfg.numClasses, this.cfg.data.ignoreLabel);
      let lossSum = 0, images = 0, trainMs = 0;
      const batches = this.train.batches({
        batchSize, shuffle: true, augment: true, seed: this.cfg.seed, epoch, dropLast, limitBatches: this.cfg.train.stepsPerEpoch,
      });
      let next = await batches.next();
      let index = 0;
      while (!next.done) {
        const batch: SessionBatch = next.value;
        index++;
        if (index <= skip) {
          next = await batches.next();
          continue;
        }
        this.position = { epoch, batch: index - 1, step: this.state.step };
        if ((await this.control.boundary(() => this.currentPosition)) === 'stop') {
          await batches.return?.(undefined);
          return this.finishStopped();
        }
        const t0 = performance.now();
        next = await batches.next();
        const isLast = next.done === true;
        const learningRate = learningRateAt(this.cfg.train.schedule, this.cfg.train.optimizer.learningRate, this.state.step,
          epochs * this.batchesPerEpoch);
        setLearningRate(this.optimizer, learningRate);
        await this.health.beforeFirstStep(batch, this.train.classPixelCounts && (() => this.train.classPixelCounts!()));
        const step = trainStep(this.stepContext, batch, isLast);
        this.health.afterStep(epoch, index, step.loss, step.gradNorms);
        if (isLast) this.lastMeasure = { gradNorms: step.gradNorms, updateRatios: step.updateRatios };
        trainConfusion.add(batch.masks, step.predictions);
        lossSum += step.loss * batch.batchSize;
        images += batch.batchSize;
        // From the end of the boundary (a pause is not training time) to here: waiting for data + the step.
        const batchMs = performance.now() - t0;
        trainMs += batchMs;
        this.state = { ...this.state, batchInEpoch: index, step: this.state.step + 1 };
        this.position = { epoch, batch: index, step: this.state.step };
        this.control.batchDone();
        this.emit({
          type: 'batch/end', time: isoNow(), epoch, batch: index, step: this.state.step, loss: step.loss,
          imagesPerSec: batch.batchSize / Math.max(1e-9, batchMs / 1000), learningRate,
        });
        await yieldToEventLoop();
      }
      const train: SplitMetrics = { loss: images ? lossSum / images : NaN, ...trainConfusion.metrics() };
      const stopEarly = await this.endEpoch(epoch, train, images, trainMs, epochStart + (this.control.pausedMs - pausedBefore));
      lastVal = stopEarly.val;
      this.control.epochDone();
      this.position = { epoch, batch: index, step: this.state.step };
      if (stopEarly.stop || this.state.epochsDone >= epochs) {
        // Every epoch is done and checkpointed: a Stop while halted here still ends the run as finished.
        if (this.lastEpochBoundary) await this.control.boundary(() => this.currentPosition);
        return this.finish(stopEarly.stop ? 'early-stopped' : 'finished', lastVal);
      }
      if ((await this.control.boundary(() => this.currentPosition)) === 'stop') return this.finishStopped(lastVal);
    }
    return this.finish('finished', lastVal);
  }

  /** Validation, probes, epoch folder, checkpoint, epoch/end event, run.json; returns whether early stopping fired. */
  private async endEpoch(epoch: number, train: SplitMetrics, images: number, trainMs: number, epochStart: number)
    : Promise<{ stop: boolean; val: { miou: number; loss: number } }> {
    const timing: EpochTiming = { trainMs, valMs: 0, probeMs: 0, writeMs: 0 };
    let t = performance.now();
    const { val, confusion } = await this.validate();
    timing.valMs = performance.now() - t;

    t = performance.now();
    const files: [string, string | Uint8Array][] = [];
    const probed = probeWatchImages(epoch, this.watchImages, this.probe, this.cfg, this.watchLayers, this.parts,
      (relative, data) => files.push([relative, data]));
    const layers: Record<string, LayerStats> = {};
    for (const [name, stats] of Object.entries(probed.layers)) {
      const gradNorm = this.lastMeasure.gradNorms?.[name];
      const updateRatio = this.lastMeasure.updateRatios?.[name];
      layers[name] = { ...stats, ...(gradNorm !== undefined ? { gradNorm } : {}), ...(updateRatio !== undefined ? { updateRatio } : {}) };
    }
    timing.probeMs = performance.now() - t;

    t = performance.now();
    const metrics: EpochMetrics = {
      epoch, train, val, confusion,
      learningRate: getLearningRate(this.optimizer),
      durationMs: 0,
      imagesPerSec: trainMs > 0 ? images / (trainMs / 1000) : 0,
      layers,
      watch: probed.watch,
      timing,
    };
    await this.folder.writeEpoch(epoch, (write) => {
      for (const [relative, data] of files) write(relative, data);
      timing.writeMs = performance.now() - t;
      metrics.durationMs = performance.now() - epochStart;
      write(runPaths.metrics(epoch), JSON.stringify(metrics));
    });
    this.health.afterEpoch(metrics, this.watchImages);
    const stop = this.earlyStopping?.update(epoch, val) ?? false;
    this.state = { epochsDone: epoch, batchInEpoch: 0, step: this.state.step };
    await this.saveCheckpoint();
    this.epochDurations.push(metrics.durationMs);
    const remaining = this.cfg.train.epochs - epoch;
    const average = this.epochDurations.reduce((a, b) => a + b, 0) / this.epochDurations.length;
    this.info = { ...this.info, epochsDone: epoch };
    this.emit({ type: 'epoch/end', time: isoNow(), epoch, metrics, etaSec: stop ? 0 : (remaining * average) / 1000 });
    this.emit({ type: 'checkpoint', time: isoNow(), epoch, path: runPaths.checkpointDir });
    this.writeStatus('running');
    return { stop, val: { miou: val.miou, loss: val.loss } };
  }

  private async validate(): Promise<{ val: SplitMetrics; confusion: number[][] }> {
    const confusion = this.parts.newConfusion(this.cfg.numClasses, this.cfg.data.ignoreLabel);
    const batches = this.val.batches({ batchSize: this.cfg.train.batchSize, shuffle: false, augment: false, seed: this.cfg.seed, epoch: 0 });
    let lossSum = 0, count = 0;
    for (let next = await batches.next(); !next.done; next = await batches.next()) {
      const { images, masks, batchSize: b, size: s } = next.value;
      const { loss, predictions } = tf.tidy(() => {
        const x = tf.tensor4d(images, [b, s, s, 3]);
        const y = tf.tensor3d(masks, [b, s, s], 'int32');
        const output = this.model.apply(x, { training: false }) as tf.Tensor;
        return { loss: this.stepContext.loss(y, output), predictions: tf.cast(tf.argMax(output, -1), 'int32') };
      });
      const lossValue = (await loss.data())[0];
      const predicted = (await predictions.data()) as Int32Array;
      tf.dispose([loss, predictions]);
      confusion.add(masks, predicted);
      lossSum += lossValue * b;
      count += b;
      await yieldToEventLoop();
    }
    return { val: { loss: count ? lossSum / count : NaN, ...confusion.metrics() }, confusion: confusion.matrix() };
  }

  private async saveCheckpoint(): Promise<void> {
    await saveCheckpoint(this.folder.file(runPaths.checkpointDir), this.model, this.optimizer, {
      formatVersion: 1,
      epochsDone: this.state.epochsDone,
      batchInEpoch: this.state.batchInEpoch,
      step: this.state.step,
      seed: this.cfg.seed,
      optimizer: this.cfg.train.optimizer.name,
      learningRate: getLearningRate(this.optimizer),
      earlyStopping: this.earlyStopping?.snapshot(),
      savedAt: isoNow(),
    });
  }

  private async finishStopped(val?: { miou: number; loss: number }): Promise<RunResult> {
    await this.saveCheckpoint();
    this.emit({ type: 'checkpoint', time: isoNow(), epoch: this.state.epochsDone, path: runPaths.checkpointDir });
    return this.finish('stopped', val);
  }

  private finish(status: 'finished' | 'stopped' | 'early-stopped', val?: { miou: number; loss: number }): RunResult {
    this.writeStatus(status === 'stopped' ? 'stopped' : 'finished');
    this.emit({ type: 'run/end', time: isoNow(), runDir: this.runDir, status, epochsDone: this.state.epochsDone, ...(val ? { val } : {}) });
    return { status, runDir: this.runDir, epochsDone: this.state.epochsDone, ...(val ? { val } : {}) };
  }

  private writeStatus(status: RunInfo['status']): void {
    this.info = { ...this.info, status, epochsDone: this.state.epochsDone };
    this.folder.writeInfo(this.info);
  }

  private emit(event: RunEvent): void {
    this.events.emit(event);
  }

  /** Frees the model, the optimizer and the datasets' decode workers (the session cannot run afterwards). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.model.dispose();
    for (const dataset of [this.train, this.val]) void dataset.close?.().catch(() => undefined);
  }
}

/** The configured loss, or the user's loss module when the config names one and is trusted. */
async function makeSessionLoss(cfg: ResolvedConfig, configDir: string, parts: EngineParts, train: SessionDataset, trusted: boolean)
  : Promise<TrainStepContext['loss']> {
  if (cfg.loss.module) {
    const modulePath = path.resolve(configDir, cfg.loss.module);
    if (!trusted) throw new Error(`loss.module ${modulePath} is user code: it runs only when the workspace is trusted (CLI: --trust)`);
    if (!parts.loadLossModule) throw new Error('this engine cannot load loss modules');
    return parts.loadLossModule(modulePath);
  }
  const classFrequencies = cfg.loss.classWeights === 'inverse-frequency' ? await train.classPixelCounts?.() : undefined;
  return parts.makeLoss(cfg.loss, { numClasses: cfg.numClasses, ignoreLabel: cfg.data.ignoreLabel, classFrequencies });
}

/** Batches per epoch: with more images than one batch the last partial batch is dropped (BatchNorm needs > 1). */
export function countBatches(images: number, batchSize: number, stepsPerEpoch?: number): number {
  const full = images > batchSize ? Math.floor(images / batchSize) : Math.min(1, images);
  return stepsPerEpoch ? Math.min(stepsPerEpoch, full) : full;
}
