// Fine-tuning: copies weights from a trained model into a new architecture by layer name (a backbone into a model with
// another head), and loads a previous run's checkpoint or any tfjs model folder the same way.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadLayersModelFromFolder } from './loadLayersModel';
import { leafLayers, loadWeightsByLayerName, type SourceWeight, type WeightLoadReport } from './weightsByName';

export interface TransferOptions {
  /** Layers not to copy even when their shapes fit: names, a RegExp, or a predicate (e.g. /^head\//). */
  skipHead?: string[] | RegExp | ((layerName: string) => boolean);
  strict?: boolean;
}

function skipPredicate(skip: TransferOptions['skipHead']): ((name: string) => boolean) | undefined {
  if (skip === undefined) return undefined;
  if (typeof skip === 'function') return skip;
  if (skip instanceof RegExp) return (name) => skip.test(name);
  const names = new Set(skip);
  return (name) => names.has(name);
}

/** The weights of a model, per layer, as a by-name source (copies are made when written). */
export function modelWeightSource(model: tfl.LayersModel): Map<string, SourceWeight[]> {
  const source = new Map<string, SourceWeight[]>();
  for (const layer of leafLayers(model)) {
    if (layer.weights.length === 0) continue;
    source.set(layer.name, layer.weights.map((w) => ({
      storedName: w.originalName,
      shape: w.shape as number[],
      tensor: () => tf.clone(w.read()),
    })));
  }
  return source;
}

/**
 * Copies `from`'s weights into `to` layer by layer name. Layers whose shapes differ are not loaded and are listed in
 * `shapeMismatched`; `skipHead` leaves more out on purpose. A classifier left out this way (a head for another number
 * of classes) starts at zero (`newHead`); other layers left out keep their initialisation.
 */
export function transferWeights(from: tfl.LayersModel, to: tfl.LayersModel, opts: TransferOptions = {}): WeightLoadReport {
  return loadWeightsByLayerName(to, modelWeightSource(from), `model "${from.name}"`, { skip: skipPredicate(opts.skipHead), strict: opts.strict });
}

/**
 * `weights: "<run>/checkpoint/model.json"` (or any tfjs LayersModel folder): loads that model, copies its weights
 * into `to` by layer name, and frees it. The report's source is the file.
 */
export async function loadLayersWeightsByName(modelJsonPath: string, to: tfl.LayersModel, opts: TransferOptions = {}): Promise<WeightLoadReport> {
  const from = await loadLayersModelFromFolder(modelJsonPath, { strict: false });
  try {
    return loadWeightsByLayerName(to, modelWeightSource(from), modelJsonPath, { skip: skipPredicate(opts.skipHead), strict: opts.strict });
  } finally {
    from.dispose();
  }
}
