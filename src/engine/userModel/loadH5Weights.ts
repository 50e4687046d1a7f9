// `weights: "x.h5"`: loads Keras HDF5 weights into a built-in or loaded model by layer name, with a report.
import type * as tfl from '@tensorflow/tfjs-layers';
import { readKerasH5Weights } from './kerasH5';
import { leafLayers, loadWeightsByLayerName, type WeightLoadReport } from './weightsByName';

export interface H5LoadOptions {
  /** Any missing, unexpected or shape-mismatched layer is an error naming the file and the first such layer. */
  strict?: boolean;
  /** Layers to leave as initialised (e.g. a replaced head). */
  skip?: (layerName: string) => boolean;
}

/** Loads `h5Path` into `model`; layers that do not fit are listed in the report and left as initialised (a classifier: zero). */
export function loadH5Weights(model: tfl.LayersModel, h5Path: string, opts: H5LoadOptions = {}): WeightLoadReport {
  const known = new Set(leafLayers(model).map((l) => l.name));
  const file = readKerasH5Weights(h5Path, known);
  return loadWeightsByLayerName(model, file.byLayer, h5Path, { strict: opts.strict, skip: opts.skip });
}
