// Bilinear resize layer with align-corners sampling (tfjs 4.22's half-pixel bilinear gradient is wrong).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

export interface ResizeArgs extends LayerArgs {
  height: number;
  width: number;
}

/**
 * Align-corners bilinear resize whose gradient has the input's shape: tfjs-backend-cpu 4.22's ResizeBilinearGrad
 * returns [B, w, h, C] (height and width swapped) for non-square inputs; its values are laid out correctly.
 */
function resizeAlignCorners(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    (args[1] as tf.GradSaveFunc)([input]);
    return {
      value: tf.image.resizeBilinear(input, [height, width], true),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const images = saved[0];
        const dx = tf.engine().runKernel('ResizeBilinearGrad', { images, dy: dy as tf.Tensor }, {
          alignCorners: true, halfPixelCenters: false,
        }) as tf.Tensor;
        return tf.reshape(dx, images.shape);
      },
    };
  });
  return op(x) as tf.Tensor4D;
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
      return resizeAlignCorners(x, this.height, this.width);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
tf.serialization.registerClass(Resize);
