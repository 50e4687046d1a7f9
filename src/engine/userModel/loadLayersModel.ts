// Loads a user's tfjs LayersModel folder as a model the engine treats like a built-in one (names, freezing, probes).
import * as tfl from '@tensorflow/tfjs-layers';
import '../models'; // registers SegScope's layer classes (BatchNorm, DepthwiseConv, Resize) for deserialisation
import { folderLoadHandler, modelJsonIn } from './layersFolderIO';
import { toSegScopeBatchNorm } from './topology';
import { fileError } from './userFileError';

export interface LoadModelOptions {
  /** Pass false to skip tfjs' check that every weight in the file belongs to the model. Default true. */
  strict?: boolean;
}

/**
 * model.json (or its folder) → tf.LayersModel, read from disk with its weight shards. Stock BatchNormalization layers
 * become SegScope's BatchNorm (same weights and numbers), so `setFrozen(..., 'inference')` works on them.
 * Errors name the file; nothing is left half-loaded.
 */
export async function loadLayersModelFromFolder(modelJsonPath: string, opts: LoadModelOptions = {}): Promise<tfl.LayersModel> {
  const file = modelJsonIn(modelJsonPath);
  try {
    return await tfl.loadLayersModel(folderLoadHandler(file, toSegScopeBatchNorm), { strict: opts.strict ?? true });
  } catch (err) {
    throw fileError(file, 'cannot load this tfjs LayersModel', err);
  }
}

/** The layers that produce the model's outputs. */
function outputLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.outputs.map((o) => o.sourceLayer as tfl.layers.Layer);
}

function appliesSoftmax(layer: tfl.layers.Layer): boolean {
  const className = layer.getClassName();
  if (className === 'Softmax') return true;
  const config = layer.getConfig() as { activation?: unknown };
  return config.activation === 'softmax';
}

/**
 * True when the model's (first) output comes out of a softmax: a Softmax layer, an Activation('softmax'), or a layer
 * with activation 'softmax' (Conv2D/Dense). With a loss that expects logits this is the double-softmax bug.
 */
export function endsInSoftmax(model: tfl.LayersModel): boolean {
  const [first] = outputLayers(model);
  return first !== undefined && appliesSoftmax(first);
}
