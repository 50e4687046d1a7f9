// The engine's real parts (backend, data, models, losses, metrics, PNG codecs) behind the EngineParts record a
// TrainingSession is built from.
import { initBackend } from '../backend';
import { encodeGrayPng, encodePalettePng, encodeRgbPng } from '../data/codecs';
import { openDataset } from '../data';
import { vocPalette } from '../data/palette';
import { loadLossModule, makeLoss } from '../losses';
import { ConfusionMatrix } from '../metrics';
import { buildModel, setFrozen, summarizeModel } from '../models';
import { loadConfiguredModel } from '../userModel';
import type { EngineParts } from './parts';

export function engineParts(): EngineParts {
  return {
    initBackend: (choice) => initBackend(choice),
    openDataset: (cfg, configDir, split, onEvent) => openDataset(cfg, configDir, split, onEvent),
    buildModel: (cfg, opts) => buildModel(cfg, opts),
    loadModel: async ({ cfg, configDir, trusted, build }) => loadConfiguredModel({
      path: cfg.model.path, weights: cfg.model.weights, strict: cfg.model.strict, configDir,
      numClasses: cfg.numClasses, inputSize: cfg.data.inputSize, trusted, build,
    }),
    setFrozen: (model, freeze, frozenBatchNorm) => { setFrozen(model, freeze, frozenBatchNorm); },
    summarizeModel,
    makeLoss: (cfg, opts) => {
      const loss = makeLoss(cfg, opts);
      return (labels, output) => loss(labels as Parameters<typeof loss>[0], output as Parameters<typeof loss>[1]);
    },
    loadLossModule: (modulePath) => {
      const loss = loadLossModule(modulePath);
      return (labels, output) => loss(labels as Parameters<typeof loss>[0], output as Parameters<typeof loss>[1]);
    },
    newConfusion: (numClasses, ignoreLabel) => {
      const matrix = new ConfusionMatrix(numClasses, ignoreLabel);
      return {
        add: (truth, predicted) => matrix.add(truth as Int32Array, predicted as Int32Array),
        metrics: () => ({ miou: matrix.miou(), pixelAccuracy: matrix.pixelAccuracy(), iou: matrix.iou() }),
        matrix: () => matrix.toArray(),
      };
    },
    palette: vocPalette,
    encodePalettePng,
    encodeRgbPng,
    encodeGrayPng,
  };
}
