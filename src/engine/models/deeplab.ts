// DeepLab v3+ head on any backbone: ASPP (1×1, separable atrous branches, image pooling), projection, decoder, upsampling.
import * as tfl from '@tensorflow/tfjs-layers';
import { LayerFactory, shapeOf, type Sym } from './layerFactory';
import { mobileNetV2Backbone } from './mobilenetV2';
import { xceptionBackbone } from './xception';

/** What a backbone hands to the head: stride-16/8 features and the stride-4 low-level skip. */
export interface Backbone {
  high: Sym;
  low: Sym;
  highChannels: number;
  lowChannels: number;
}

export interface DeepLabOptions {
  numClasses: number;
  inputSize: number;
  backbone: 'mobilenetv2' | 'xception';
  width: number;
  /** Xception middle-flow repeats multiplier. */
  depth?: number;
  outputStride: 8 | 16;
  asppRates: number[];
  asppChannels?: number;
  decoderChannels?: number;
  lowLevelChannels?: number;
  finalSoftmax?: boolean;
  seed?: number;
  name?: string;
}

/**
 * Layer names: aspp/conv1x1, aspp/rate<r>/{depthwise,pointwise}, aspp/pool/{average,reshape,conv,upsample},
 * aspp/concat, aspp/projection, decoder/lowlevel, decoder/upsample, decoder/concat, decoder/conv1|conv2/…,
 * head/logits, head/upsample (the model's logits at input size), head/softmax (only with finalSoftmax).
 * The defaults (128/128/48 channels) are those of the reference.
 */
export function buildDeepLabV3Plus(o: DeepLabOptions): tfl.LayersModel {
  const f = new LayerFactory(o.seed);
  const A = o.asppChannels ?? 128;
  const D = o.decoderChannels ?? 128;
  const input = tfl.input({ shape: [o.inputSize, o.inputSize, 3], name: f.name('input') });
  const bb = o.backbone === 'xception'
    ? xceptionBackbone(f, input, o.width, o.depth ?? 1, o.outputStride)
    : mobileNetV2Backbone(f, input, o.width, o.outputStride);

  const [h, w] = shapeOf(bb.high);
  const branches: Sym[] = [f.convBnAct('aspp/conv1x1', bb.high, { filters: A, kernel: 1 }, 'relu')];
  const used = new Set<string>();
  o.asppRates.forEach((rate, i) => {
    let scope = `aspp/rate${rate}`;
    if (used.has(scope)) scope = `${scope}_branch${i + 1}`;
    used.add(scope);
    branches.push(f.sepConv(scope, bb.high, A, { dilation: rate }));
  });
  let pooled = f.apply(tfl.layers.globalAveragePooling2d({ name: f.name('aspp/pool/average') }), bb.high);
  pooled = f.apply(tfl.layers.reshape({ targetShape: [1, 1, bb.highChannels], name: f.name('aspp/pool/reshape') }), pooled);
  pooled = f.convBnAct('aspp/pool/conv', pooled, { filters: A, kernel: 1 }, 'relu');
  branches.push(f.resize('aspp/pool/upsample', pooled, h, w));
  let y = f.concat('aspp/concat', branches);
  y = f.convBnAct('aspp/projection', y, { filters: A, kernel: 1 }, 'relu');

  const low = f.convBnAct('decoder/lowlevel', bb.low, { filters: o.lowLevelChannels ?? 48, kernel: 1 }, 'relu');
  const [lh, lw] = shapeOf(low);
  y = f.concat('decoder/concat', [f.resize('decoder/upsample', y, lh, lw), low]);
  y = f.sepConv('decoder/conv1', y, D);
  y = f.sepConv('decoder/conv2', y, D);
  y = f.conv('head/logits', y, { filters: o.numClasses, kernel: 1, bias: true, init: 'glorot' });
  y = f.resize('head/upsample', y, o.inputSize, o.inputSize);
  if (o.finalSoftmax) y = f.apply(tfl.layers.softmax({ axis: -1, name: f.name('head/softmax') }), y);
  return tfl.model({ inputs: input, outputs: y, name: o.name ?? `deeplabv3plus_${o.backbone}` });
}
