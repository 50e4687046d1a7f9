// MobileNetV2 backbone for DeepLab v3+, block for block as `arch()` in /work/shared/peers/deeplab_ref.py.
import { LayerFactory, type Sym } from './layerFactory';
import type { Backbone } from './deeplab';

/** Channel rounding of the reference (and of torchvision's MobileNetV2). */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor(Math.floor(v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

export interface InvertedResidualSpec {
  inp: number;
  oup: number;
  stride: number;
  /** Expansion factor t. */
  expansion: number;
  dilation: number;
}

export interface MobileNetV2Spec {
  stem: number;
  blocks: InvertedResidualSpec[];
  /** Index of the block whose output is the stride-4 low-level feature. */
  lowIndex: number;
  lowChannels: number;
  highChannels: number;
}

/** (t, c, n, s) rows of MobileNetV2; the last row's channels are `lastChannels` (320 in the paper). */
function settings(lastChannels: number): [number, number, number, number][] {
  return [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, lastChannels, 1, 1]];
}

/** Block list for a width multiplier and output stride: strides beyond the output stride become dilation. */
export function mobileNetV2Spec(width: number, outputStride: number, lastChannels = 320): MobileNetV2Spec {
  const stem = makeDivisible(32 * width);
  const blocks: InvertedResidualSpec[] = [];
  let inp = stem;
  let currentStride = 2;
  let dilation = 1;
  let lowIndex = -1;
  let lowChannels = 0;
  settings(lastChannels).forEach(([t, c, n, s], stage) => {
    const oup = makeDivisible(c * width);
    const previousDilation = dilation;
    let stride: number;
    if (currentStride === outputStride) {
      stride = 1;
      dilation *= s;
    } else {
      stride = s;
      currentStride *= s;
    }
    for (let i = 0; i < n; i++) {
      blocks.push({ inp, oup, stride: i === 0 ? stride : 1, expansion: t, dilation: i === 0 ? previousDilation : dilation });
      inp = oup;
    }
    if (stage === 1) {
      lowIndex = blocks.length - 1;
      lowChannels = oup;
    }
  });
  return { stem, blocks, lowIndex, lowChannels, highChannels: inp };
}

/** Layers `backbone/stem…` and `backbone/block<i>/{expand,depthwise,project}[_bn|_relu6]`, `…/add`; i as in the reference. */
export function mobileNetV2Backbone(f: LayerFactory, input: Sym, width: number, outputStride: number): Backbone {
  const spec = mobileNetV2Spec(width, outputStride);
  let x = f.convBnAct('backbone/stem', input, { filters: spec.stem, kernel: 3, stride: 2 }, 'relu6');
  let low: Sym | undefined;
  spec.blocks.forEach((b, i) => {
    const scope = `backbone/block${i}`;
    let y = x;
    if (b.expansion !== 1) y = f.convBnAct(`${scope}/expand`, y, { filters: b.inp * b.expansion, kernel: 1 }, 'relu6');
    y = f.depthwiseBnAct(`${scope}/depthwise`, y, { kernel: 3, stride: b.stride, dilation: b.dilation }, 'relu6');
    y = f.convBnAct(`${scope}/project`, y, { filters: b.oup, kernel: 1 }, 'none');
    x = b.stride === 1 && b.inp === b.oup ? f.add(`${scope}/add`, [x, y]) : y;
    if (i === spec.lowIndex) low = x;
  });
  return { high: x, low: low!, highChannels: spec.highChannels, lowChannels: spec.lowChannels };
}
