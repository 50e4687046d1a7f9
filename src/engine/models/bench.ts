// The bench model: exactly DeepLabV3Plus(width=0.75) of /work/shared/peers/deeplab_ref.py (1,337,365 PyTorch params).
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildDeepLabV3Plus } from './deeplab';

export const BENCH_TORCH_PARAMS = 1_337_365;

export function buildBenchModel(numClasses = 21, inputSize = 128, seed?: number): tfl.LayersModel {
  return buildDeepLabV3Plus({
    numClasses, inputSize, seed, backbone: 'mobilenetv2', width: 0.75, outputStride: 16, asppRates: [6, 12, 18],
    asppChannels: 128, decoderChannels: 128, lowLevelChannels: 48, name: 'deeplabv3plus_bench',
  });
}
