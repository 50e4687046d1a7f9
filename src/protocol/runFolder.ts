// Types and relative paths of the run folder (.segscope/runs/<id>/): the public, on-disk interface every face reads.
import type { SegScopeConfig } from './config';

export const RUN_FORMAT_VERSION = 1;

export interface BackendReport {
  /** The backend that runs this training: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'. */
  name: string;
  /** Why it was chosen (e.g. "forced by config", "first available"). */
  reason: string;
  /** Backends tried before it and why each was skipped. */
  skipped: { name: string; why: string }[];
  /** wasm only: SIMD and thread count in effect. */
  simd?: boolean;
  threads?: number;
  /** Kernels the engine registered or replaced on this backend. */
  kernels?: string[];
  /** wasm only: SegScope's own SIMD kernels (BatchNorm, activation and depthwise gradients, transposes), if in effect. */
  nativeKernels?: { threads: number; fma?: boolean } | { off: string };
}

export interface LayerSummary {
  name: string;
  className: string;
  /** Output shape without the batch dimension, e.g. [32, 32, 64]. */
  outputShape: number[];
  params: number;
  trainable: boolean;
}

export interface ModelSummary {
  name: string;
  params: number;
  trainableParams: number;
  layers: LayerSummary[];
}

export interface ClassInfo {
  id: number;
  name: string;
  /** [r, g, b], the colour in label PNGs and the dashboard. */
  color: [number, number, number];
}

export interface WatchImageInfo {
  id: string;
  /** Relative to the run folder: the preprocessed input as RGB PNG and its ground truth as palette PNG. */
  input: string;
  groundTruth: string;
}

/** run.json: written at start, rewritten when status changes. */
export interface RunInfo {
  formatVersion: number;
  id: string;
  name: string;
  createdAt: string;
  /** Absolute path of the segscope.json this run came from. */
  configPath: string;
  config: SegScopeConfig;
  backend: BackendReport;
  model: ModelSummary;
  classes: ClassInfo[];
  ignoreLabel: number;
  inputSize: number;
  watch: { images: WatchImageInfo[]; layers: string[] };
  status: 'running' | 'paused' | 'finished' | 'stopped' | 'crashed';
  /** Last completed epoch (1-based), 0 before the first. */
  epochsDone: number;
  /** Set when this run was resumed from a checkpoint. */
  resumedFrom?: string;
  /** 'built-in architecture' or the model.json the model was loaded from (config model.path). */
  modelSource?: string;
  /** Report of config model.weights: which layers were matched, missing, unexpected, shape-mismatched. */
  weightsLoaded?: object;
}

export interface SplitMetrics {
  loss: number;
  miou: number;
  pixelAccuracy: number;
  /** Per class; NaN-free: a class absent from both GT and prediction has iou null. */
  iou: (number | null)[];
}

export interface LayerStats {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of exact zeros, 0..1. */
  zeros: number;
  /** Fraction at the activation's saturation (e.g. ReLU6 at 6, sigmoid/softmax near 0 or 1), 0..1. */
  saturated: number;
  /** L2 norm of the gradient of this layer's weights in the last batch (absent for weightless layers). */
  gradNorm?: number;
  /** ‖Δw‖/‖w‖ of the last batch's update (absent for weightless or frozen layers). */
  updateRatio?: number;
}

/** epochs/<NNNN>/metrics.json */
export interface EpochMetrics {
  epoch: number;
  train: SplitMetrics;
  val: SplitMetrics;
  /** Confusion matrix on val, rows = ground truth, columns = prediction, over valid pixels. */
  confusion: number[][];
  learningRate: number;
  durationMs: number;
  imagesPerSec: number;
  /** Statistics of every layer's output on the watch images, and of its weights' gradients. */
  layers: Record<string, LayerStats>;
  /** Per watch image: its IoU per class and pixel accuracy at this epoch. */
  watch: Record<string, { miou: number; pixelAccuracy: number }>;
  /** Where the epoch's time went, in ms: training batches, validation pass, probes, writing the epoch folder. */
  timing?: { trainMs: number; valMs: number; probeMs: number; writeMs: number };
}

/** Header (.json) of one saved activation (.u8): channel-major uint8, each channel scaled from [min, max]. */
export interface ActivationHeader {
  layer: string;
  image: string;
  /** [height, width, channels] */
  shape: [number, number, number];
  min: number[];
  max: number[];
  /** Channel indices sorted by mean activation, strongest first (for thumbnails). */
  strongest: number[];
}

/** Relative paths inside a run folder. Epoch folders are written under a temp name and renamed when complete. */
export const runPaths = {
  info: 'run.json',
  events: 'events.jsonl',
  watchInput: (image: string) => `watch/${safeName(image)}/input.png`,
  watchGroundTruth: (image: string) => `watch/${safeName(image)}/gt.png`,
  epochDir: (epoch: number) => `epochs/${String(epoch).padStart(4, '0')}`,
  metrics: (epoch: number) => `${runPaths.epochDir(epoch)}/metrics.json`,
  /** Palette PNG of predicted labels. */
  argmax: (epoch: number, image: string) => `${runPaths.epochDir(epoch)}/images/${safeName(image)}/argmax.png`,
  /** Grayscale PNG, 255 = probability 1 of the predicted class. */
  confidence: (epoch: number, image: string) => `${runPaths.epochDir(epoch)}/images/${safeName(image)}/confidence.png`,
  /** Palette PNG: 0 right, 1 wrong, 2 void. */
  error: (epoch: number, image: string) => `${runPaths.epochDir(epoch)}/images/${safeName(image)}/error.png`,
  /** Softmax probabilities as float16-free uint8 [H, W, C] (for pixel hover: top-3). */
  probabilities: (epoch: number, image: string) => `${runPaths.epochDir(epoch)}/images/${safeName(image)}/probs.u8`,
  activation: (epoch: number, image: string, layer: string) =>
    `${runPaths.epochDir(epoch)}/activations/${safeName(image)}/${safeName(layer)}.u8`,
  activationHeader: (epoch: number, image: string, layer: string) =>
    `${runPaths.epochDir(epoch)}/activations/${safeName(image)}/${safeName(layer)}.json`,
  checkpointDir: 'checkpoint',
};

/** Error map values. */
export const ERROR_MAP = { right: 0, wrong: 1, void: 2 } as const;

/** File-system-safe form of a layer or image name (layer names may contain '/'). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
