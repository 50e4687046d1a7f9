// Bilinear resize layer with align-corners sampling (tfjs 4.22's half-pixel bilinear gradient is wrong).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

export interface ResizeArgs extends LayerArgs {
  height: number;
  width: number;
}

/** Resizes [B, h, w, C] to [B, height, width, C] like PyTorch's interpolate(mode='bilinear', align_corners=True). */
export class Resize extends tfl.layers.Layer {
  static className = 'SegScopeResizeBilinear';
  readonly height: number;
  readonly width: number;

  constructor(args: ResizeArgs) {
    super(args);
    this.height = args.height;
    this.width = args.width;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [shape[0], this.height, this.width, shape[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (x.shape[1] === this.height && x.shape[2] === this.width) return x.clone();
      return tf.image.resizeBilinear(x, [this.height, this.width], true);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
tf.serialization.registerClass(Resize);
