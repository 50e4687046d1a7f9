// What the training session calls for `model.path` / `model.weights`: trust check, loading, shape checks, report.
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadH5Weights } from './loadH5Weights';
import { endsInSoftmax, loadLayersModelFromFolder } from './loadLayersModel';
import { modelJsonIn } from './layersFolderIO';
import { loadLayersWeightsByName } from './transferWeights';
import { assertTrusted } from './trust';
import { UserFileError } from './userFileError';
import type { WeightLoadReport } from './weightsByName';

export interface ConfiguredModelOptions {
  /** `model.path` (model.json or its folder), resolved against `configDir`. */
  path?: string;
  /** `model.weights`: Keras .h5, or a tfjs model.json / run checkpoint folder whose weights are copied by layer name. */
  weights?: string;
  strict?: boolean;
  configDir: string;
  numClasses: number;
  inputSize: number;
  /** workspace.isTrusted / --trust. */
  trusted: boolean;
  /** Builds the built-in architecture when there is no `path`. */
  build: () => tfl.LayersModel;
}

export interface ConfiguredModel {
  model: tfl.LayersModel;
  /** Set when `weights` was given: goes into run.json and the output channel. */
  weights?: WeightLoadReport;
  /** The model's output already is a softmax (health check model/double-softmax with a logits loss). */
  endsInSoftmax: boolean;
  /** Where the model came from, for the run's first events. */
  source: string;
}

function isH5(file: string): boolean {
  return /\.(h5|hdf5|keras)$/i.test(file);
}

/** Output [B, H, W, K] must have K = numClasses and the input must take inputSize × inputSize × 3. */
function checkShapes(model: tfl.LayersModel, file: string, numClasses: number, inputSize: number): void {
  const input = model.inputs[0].shape;
  const output = model.outputs[0].shape;
  if (input.length !== 4 || (input[1] !== null && input[1] !== inputSize) || (input[2] !== null && input[2] !== inputSize) || input[3] !== 3) {
    throw new UserFileError(file, `the model takes input [${input.slice(1).map((d) => d ?? '?')}], the config feeds [${inputSize}, ${inputSize}, 3] (data.inputSize)`);
  }
  if (output.length !== 4 || output[3] !== numClasses) {
    const last = model.outputs[0].sourceLayer.name;
    throw new UserFileError(file, `the model outputs [${output.slice(1).map((d) => d ?? '?')}] from layer "${last}"; a segmentation model for ${numClasses} classes must output [H, W, ${numClasses}]`, last);
  }
}

/** Loads or builds the run's model and applies `weights`. Call after initBackend, before setFrozen. */
export async function loadConfiguredModel(o: ConfiguredModelOptions): Promise<ConfiguredModel> {
  let model: tfl.LayersModel;
  let source = 'built-in architecture';
  if (o.path) {
    const file = modelJsonIn(path.resolve(o.configDir, o.path));
    assertTrusted(o.trusted, file);
    model = await loadLayersModelFromFolder(file);
    try {
      checkShapes(model, file, o.numClasses, o.inputSize);
    } catch (err) {
      model.dispose();
      throw err;
    }
    source = file;
  } else {
    model = o.build();
  }
  let weights: WeightLoadReport | undefined;
  if (o.weights) {
    const file = path.resolve(o.configDir, o.weights);
    assertTrusted(o.trusted, file);
    try {
      weights = isH5(file)
        ? loadH5Weights(model, file, { strict: o.strict })
        : await loadLayersWeightsByName(modelJsonIn(file), model, { strict: o.strict });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return { model, weights, endsInSoftmax: endsInSoftmax(model), source };
}
