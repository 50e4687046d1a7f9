// Creates the named, seeded layers every architecture is built from (conv, depthwise, BatchNorm, activations…).
//
// Layer-name scheme (what users hover and set breakpoints on): '/'-separated scopes, then the part, e.g.
//   backbone/block3/expand, backbone/block3/expand_bn, backbone/block3/expand_relu6, aspp/rate6/depthwise,
//   decoder/conv1/pointwise, head/logits.
// A convolution is named for its role; its BatchNorm and activation append `_bn` and `_relu`/`_relu6`.
// Only [A-Za-z0-9._/-] are used (tfjs' valid tensor-name characters); weights become `<layer>/<kernel|gamma|…>`,
// which tfjs' save/load keeps as is. Every initialiser is seeded from (model seed, layer name), so weights do not
// depend on the order layers are created in.
import * as tfl from '@tensorflow/tfjs-layers';
import { BatchNorm } from './batchNorm';
import { DepthwiseConv } from './depthwiseConv';
import { Resize } from './resize';

export type Sym = tfl.SymbolicTensor;
export type Activation = 'relu' | 'relu6' | 'none';

/** PyTorch's BatchNorm2d defaults (momentum 0.1 there = 0.9 here), not tfjs' 0.99 / 1e-3. */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

const VALID_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;

export interface ConvOptions {
  filters: number;
  kernel?: number;
  stride?: number;
  dilation?: number;
  bias?: boolean;
  /** Kernel initialiser: 'he' (default, for convs followed by ReLU) or 'glorot' (classifier). */
  init?: 'he' | 'glorot';
}

export function shapeOf(x: Sym): number[] {
  return x.shape.slice(1) as number[];
}

export class LayerFactory {
  private readonly names = new Set<string>();

  constructor(private readonly seed?: number) {}

  /** Registers a name, refusing duplicates and characters tfjs would reject. */
  name(name: string): string {
    if (!VALID_NAME.test(name)) throw new Error(`invalid layer name '${name}'`);
    if (this.names.has(name)) throw new Error(`duplicate layer name '${name}'`);
    this.names.add(name);
    return name;
  }

  seedFor(name: string): number | undefined {
    if (this.seed === undefined) return undefined;
    // FNV-1a over "seed:name".
    let h = 0x811c9dc5;
    for (const ch of `${this.seed}:${name}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h;
  }

  /** Regular convolution; a k×k stride-2 conv gets explicit symmetric zero padding (`<name>_pad`), like PyTorch. */
  conv(name: string, x: Sym, o: ConvOptions): Sym {
    const kernel = o.kernel ?? 1;
    const stride = o.stride ?? 1;
    const dilation = o.dilation ?? 1;
    let input = x;
    let padding: 'same' | 'valid' = 'same';
    if (stride > 1 && kernel > 1) {
      const pad = (dilation * (kernel - 1)) / 2;
      input = this.apply(tfl.layers.zeroPadding2d({ padding: [[pad, pad], [pad, pad]], name: this.name(`${name}_pad`) }), x);
      padding = 'valid';
    } else if (kernel === 1) {
      padding = 'valid';
    }
    const seed = this.seedFor(name);
    const kernelInitializer = o.init === 'glorot'
      ? tfl.initializers.glorotUniform({ seed })
      : tfl.initializers.heNormal({ seed });
    return this.apply(tfl.layers.conv2d({
      name: this.name(name), filters: o.filters, kernelSize: kernel, strides: stride, dilationRate: dilation,
      padding, useBias: o.bias ?? false, kernelInitializer,
    }), input);
  }

  depthwise(name: string, x: Sym, o: { kernel?: number; stride?: number; dilation?: number } = {}): Sym {
    return this.apply(new DepthwiseConv({
      name: this.name(name), kernelSize: o.kernel ?? 3, strides: o.stride ?? 1, dilationRate: o.dilation ?? 1,
      seed: this.seedFor(name),
    }), x);
  }

  /** `followedBy`: the activation layer that will be this BatchNorm's only consumer (lets training fuse the two). */
  bn(name: string, x: Sym, followedBy?: Activation): Sym {
    const layer = new BatchNorm({ name: this.name(name), momentum: BN_MOMENTUM, epsilon: BN_EPSILON });
    if (followedBy === 'relu' || followedBy === 'relu6') layer.followedBy = followedBy;
    return this.apply(layer, x);
  }

  act(name: string, x: Sym, activation: Activation): Sym {
    if (activation === 'none') return x;
    return this.apply(tfl.layers.activation({ name: this.name(name), activation }), x);
  }

  /** conv → `<name>_bn` → `<name>_<activation>`. */
  convBnAct(name: string, x: Sym, o: ConvOptions, activation: Activation): Sym {
    const y = this.bn(`${name}_bn`, this.conv(name, x, o), activation);
    return this.act(`${name}_${activation}`, y, activation);
  }

  /** depthwise → `<name>_bn` → `<name>_<activation>`. */
  depthwiseBnAct(name: string, x: Sym, o: { kernel?: number; stride?: number; dilation?: number }, activation: Activation): Sym {
    const y = this.bn(`${name}_bn`, this.depthwise(name, x, o), activation);
    return this.act(`${name}_${activation}`, y, activation);
  }

  /** Depthwise-separable conv as in deeplab_ref.py's SepConv: `<scope>/depthwise…`, `<scope>/pointwise…`, both BN+act. */
  sepConv(scope: string, x: Sym, filters: number, o: { stride?: number; dilation?: number } = {}, activation: Activation = 'relu'): Sym {
    const d = this.depthwiseBnAct(`${scope}/depthwise`, x, { kernel: 3, ...o }, activation);
    return this.convBnAct(`${scope}/pointwise`, d, { filters, kernel: 1 }, activation);
  }

  resize(name: string, x: Sym, height: number, width: number): Sym {
    return this.apply(new Resize({ name: this.name(name), height, width }), x);
  }

  add(name: string, xs: Sym[]): Sym {
    return this.apply(tfl.layers.add({ name: this.name(name) }), xs);
  }

  concat(name: string, xs: Sym[]): Sym {
    return this.apply(tfl.layers.concatenate({ name: this.name(name), axis: -1 }), xs);
  }

  apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
    return layer.apply(x) as Sym;
  }
}
