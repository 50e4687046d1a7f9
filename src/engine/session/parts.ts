// The pieces a training session is assembled from (backend, data, model, loss, metrics), as one injectable record:
// the real ones come from engineParts.ts; tests may pass small stand-ins.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ResolvedConfig } from '../../config/resolve';
import type { BackendChoice } from '../../protocol/config';
import type { RunEvent } from '../../protocol/runEvents';
import type { BackendReport, ModelSummary } from '../../protocol/runFolder';

export interface SessionBatch {
  ids: string[];
  images: Float32Array;
  masks: Int32Array;
  batchSize: number;
  size: number;
}

export interface SessionSample {
  id: string;
  rgb: Uint8Array;
  image: Float32Array;
  mask: ArrayLike<number>;
}

export interface SessionDataset {
  ids: string[];
  size: number;
  batches(opts: { batchSize: number; shuffle: boolean; augment: boolean; seed: number; epoch: number; dropLast?: boolean; limitBatches?: number }): AsyncIterator<SessionBatch>;
  sample(id: string): Promise<SessionSample>;
  classPixelCounts?(): Promise<number[]>;
  /** Stops background decoding (a worker thread), if any. */
  close?(): Promise<void>;
}

/** Confusion matrix over valid pixels; rows = ground truth, columns = prediction. */
export interface Confusion {
  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void;
  metrics(): { miou: number; pixelAccuracy: number; iou: (number | null)[] };
  matrix(): number[][];
}

export interface EngineParts {
  initBackend(choice: BackendChoice): Promise<BackendReport>;
  openDataset(cfg: ResolvedConfig, configDir: string, split: 'train' | 'val', onEvent: (e: RunEvent) => void): Promise<SessionDataset>;
  buildModel(cfg: ResolvedConfig['model'], opts: { numClasses: number; inputSize: number; seed: number }): tfl.LayersModel;
  /**
   * Loads `model.path` / applies `model.weights` when the config names them (trusted configs only), else builds the
   * architecture with `build`. Optional: without it the session always builds.
   */
  loadModel?(opts: { cfg: ResolvedConfig; configDir: string; trusted: boolean; build: () => tfl.LayersModel })
    : Promise<{ model: tfl.LayersModel; source: string; endsInSoftmax: boolean; weights?: object }>;
  setFrozen(model: tfl.LayersModel, freeze: { firstN: number; pattern?: string }, frozenBatchNorm: 'inference' | 'train'): void;
  summarizeModel(model: tfl.LayersModel): ModelSummary;
  makeLoss(cfg: ResolvedConfig['loss'], opts: { numClasses: number; ignoreLabel: number; classFrequencies?: number[] }): (labels: tf.Tensor, output: tf.Tensor) => tf.Scalar;
  /** A user's loss module (`exports.loss(labels, output, tf)`); only called for trusted configs. */
  loadLossModule?(modulePath: string): (labels: tf.Tensor, output: tf.Tensor) => tf.Scalar;
  newConfusion(numClasses: number, ignoreLabel: number): Confusion;
  /** Colour per label value (at least numClasses entries; 256 for palette PNGs). */
  palette(): [number, number, number][];
  encodePalettePng(indices: Uint8Array, width: number, height: number, palette: [number, number, number][]): Uint8Array;
  encodeRgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array;
  encodeGrayPng(gray: Uint8Array, width: number, height: number): Uint8Array;
}
