// Xception-style backbone for DeepLab v3+: entry, middle and exit flows of depthwise-separable blocks.
import { LayerFactory, type Sym } from './layerFactory';
import { makeDivisible } from './mobilenetV2';
import type { Backbone } from './deeplab';

const MIDDLE_REPEATS = 16;

/**
 * Aligned Xception as in DeepLab v3+, with `width` scaling every channel count and `depth` the 16 middle-flow
 * repeats (at least 1). Each unit is a separable conv (depthwise+BN+ReLU, pointwise+BN+ReLU); a block's stride
 * sits on its last unit. Once the output stride is reached, strides become dilation (a block keeps the rate it
 * started with, later blocks get the doubled one, as in TF-slim). The low-level feature is entry block 1 (stride 4).
 * Names: backbone/entry/conv1…, backbone/entry/block1/unit2/depthwise, backbone/middle/block3/add, backbone/exit/…
 */
export function xceptionBackbone(f: LayerFactory, input: Sym, width: number, depth: number, outputStride: number): Backbone {
  const ch = (c: number) => makeDivisible(c * width);
  let currentStride = 2;
  let dilation = 1;

  const block = (scope: string, x: Sym, filters: number[], wantStride: number, shortcut: 'conv' | 'identity' | 'none'): Sym => {
    let stride = wantStride;
    const rate = dilation;
    if (wantStride > 1) {
      if (currentStride === outputStride) {
        stride = 1;
        dilation *= wantStride;
      } else {
        currentStride *= wantStride;
      }
    }
    let y = x;
    filters.forEach((c, u) => {
      const last = u === filters.length - 1;
      y = f.sepConv(`${scope}/unit${u + 1}`, y, c, { stride: last ? stride : 1, dilation: last && stride > 1 ? 1 : rate });
    });
    if (shortcut === 'none') return y;
    const skip = shortcut === 'conv'
      ? f.convBnAct(`${scope}/shortcut`, x, { filters: filters[filters.length - 1], kernel: 1, stride }, 'none')
      : x;
    return f.add(`${scope}/add`, [skip, y]);
  };

  let x = f.convBnAct('backbone/entry/conv1', input, { filters: ch(32), kernel: 3, stride: 2 }, 'relu');
  x = f.convBnAct('backbone/entry/conv2', x, { filters: ch(64), kernel: 3 }, 'relu');
  x = block('backbone/entry/block1', x, [ch(128), ch(128), ch(128)], 2, 'conv');
  const low = x;
  x = block('backbone/entry/block2', x, [ch(256), ch(256), ch(256)], 2, 'conv');
  x = block('backbone/entry/block3', x, [ch(728), ch(728), ch(728)], 2, 'conv');
  const repeats = Math.max(1, Math.round(MIDDLE_REPEATS * depth));
  for (let i = 1; i <= repeats; i++) x = block(`backbone/middle/block${i}`, x, [ch(728), ch(728), ch(728)], 1, 'identity');
  x = block('backbone/exit/block1', x, [ch(728), ch(1024), ch(1024)], 2, 'conv');
  x = block('backbone/exit/block2', x, [ch(1536), ch(1536), ch(2048)], 1, 'none');
  return { high: x, low, highChannels: ch(2048), lowChannels: ch(128) };
}
