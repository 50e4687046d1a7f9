// Model builders of the engine: buildModel from the resolved config, the bench model, BatchNorm, freezing, summaries.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ResolvedConfig } from '../../config/resolve';
import { buildBenchModel } from './bench';
import { buildDeepLabV3Plus } from './deeplab';
import { buildUNet } from './unet';

export { BatchNorm, isBatchNorm } from './batchNorm';
export { batchNormTraining } from './batchNormTraining';
export { DepthwiseConv } from './depthwiseConv';
export { Resize } from './resize';
export { buildBenchModel, BENCH_TORCH_PARAMS } from './bench';
export { buildDeepLabV3Plus } from './deeplab';
export { buildUNet } from './unet';
export { mobileNetV2Spec, makeDivisible } from './mobilenetV2';
export { setFrozen, type FreezeSpec } from './freeze';
export { summarizeModel, countTrainableLikeTorch, learnableParams } from './summary';

export interface BuildOptions {
  numClasses: number;
  inputSize: number;
  seed?: number;
}

/**
 * Builds the configured architecture. Output: logits [B, inputSize, inputSize, numClasses] (probabilities if
 * `finalSoftmax`). Loading `model.path` files is not done here (arch 'file' is handled by the caller).
 */
export function buildModel(model: ResolvedConfig['model'], opts: BuildOptions): tfl.LayersModel {
  const { numClasses, inputSize, seed } = opts;
  switch (model.arch) {
    case 'unet':
      return buildUNet({ numClasses, inputSize, seed, width: model.width, finalSoftmax: model.finalSoftmax });
    case 'bench': {
      if (model.finalSoftmax) throw new Error("arch 'bench' is fixed; finalSoftmax is not supported with it");
      return buildBenchModel(numClasses, inputSize, seed);
    }
    case 'deeplabv3plus':
      return buildDeepLabV3Plus({
        numClasses, inputSize, seed, backbone: model.backbone, width: model.width, depth: model.depth,
        outputStride: model.outputStride, asppRates: model.asppRates, finalSoftmax: model.finalSoftmax,
      });
    default:
      throw new Error(`unknown model arch '${String((model as { arch: unknown }).arch)}'`);
  }
}
