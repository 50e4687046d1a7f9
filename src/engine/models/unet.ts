// A small U-Net (arch 'unet') for fast runs: three 2× downsamplings, transposed-conv upsampling, skip concatenations.
import * as tfl from '@tensorflow/tfjs-layers';
import { LayerFactory, type Sym } from './layerFactory';

export interface UNetOptions {
  numClasses: number;
  inputSize: number;
  /** Channel multiplier; base width 16 at width 1. */
  width?: number;
  seed?: number;
  finalSoftmax?: boolean;
}

const LEVELS = 3;

export function buildUNet(o: UNetOptions): tfl.LayersModel {
  if (o.inputSize % 2 ** LEVELS !== 0) throw new Error(`U-Net input size must be a multiple of ${2 ** LEVELS}, got ${o.inputSize}`);
  const f = new LayerFactory(o.seed);
  const base = Math.max(4, Math.round(16 * (o.width ?? 1)));
  const input = tfl.input({ shape: [o.inputSize, o.inputSize, 3], name: f.name('input') });

  const doubleConv = (scope: string, x: Sym, filters: number): Sym => {
    const y = f.convBnAct(`${scope}/conv1`, x, { filters, kernel: 3 }, 'relu');
    return f.convBnAct(`${scope}/conv2`, y, { filters, kernel: 3 }, 'relu');
  };

  const skips: Sym[] = [];
  let x: Sym = input;
  for (let level = 1; level <= LEVELS; level++) {
    x = doubleConv(`encoder/level${level}`, x, base * 2 ** (level - 1));
    skips.push(x);
    x = f.apply(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: f.name(`encoder/level${level}/pool`) }), x);
  }
  x = doubleConv('bottleneck', x, base * 2 ** LEVELS);
  for (let level = LEVELS; level >= 1; level--) {
    const filters = base * 2 ** (level - 1);
    const upName = `decoder/level${level}/up`;
    x = f.apply(tfl.layers.conv2dTranspose({
      name: f.name(upName), filters, kernelSize: 2, strides: 2, padding: 'valid', useBias: true,
      kernelInitializer: tfl.initializers.heNormal({ seed: f.seedFor(upName) }),
    }), x);
    x = f.concat(`decoder/level${level}/concat`, [x, skips[level - 1]]);
    x = doubleConv(`decoder/level${level}`, x, filters);
  }
  let out = f.conv('head/logits', x, { filters: o.numClasses, kernel: 1, bias: true, init: 'glorot' });
  if (o.finalSoftmax) out = f.apply(tfl.layers.softmax({ axis: -1, name: f.name('head/softmax') }), out);
  return tfl.model({ inputs: input, outputs: out, name: 'unet' });
}
