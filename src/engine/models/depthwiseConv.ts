// Depthwise convolution layer with dilation (tfjs-layers' DepthwiseConv2D silently ignores dilationRate).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

export interface DepthwiseConvArgs extends LayerArgs {
  kernelSize: number;
  strides?: number;
  dilationRate?: number;
  /** Seed of the kernel initialiser (He normal over the k×k window of one channel). */
  seed?: number;
}

/**
 * k×k depthwise convolution, no bias, padded like PyTorch: dilation·(k−1)/2 zeros on every side, so a stride-2
 * layer sees the same pixels as the PyTorch reference (TF's 'same' would pad only bottom/right).
 * Weight name `depthwise_kernel`, shape [k, k, channels, 1], as in Keras.
 */
export class DepthwiseConv extends tfl.layers.Layer {
  static className = 'SegScopeDepthwiseConv2D';
  readonly kernelSize: number;
  readonly strides: number;
  readonly dilationRate: number;
  readonly seed?: number;
  private kernel: LayerVariable | null = null;

  constructor(args: DepthwiseConvArgs) {
    super(args);
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.dilationRate = args.dilationRate ?? 1;
    this.seed = args.seed;
    if (this.strides > 1 && this.dilationRate > 1) throw new Error(`${this.name}: stride and dilation cannot both exceed 1`);
  }

  private get pad(): number {
    return (this.dilationRate * (this.kernelSize - 1)) / 2;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[3];
    if (channels == null) throw new Error(`${this.name}: channel count must be known`);
    // For [k, k, C, 1] tfjs' "fanOut" is k·k, the true fan-in of a depthwise filter.
    const init = tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: this.seed });
    this.kernel = this.addWeight('depthwise_kernel', [this.kernelSize, this.kernelSize, channels, 1], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const out = (n: number | null) => {
      if (n == null) return null;
      const effective = this.dilationRate * (this.kernelSize - 1) + 1;
      return Math.floor((n + 2 * this.pad - effective) / this.strides) + 1;
    };
    return [shape[0], out(shape[1]), out(shape[2]), shape[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      // Stride 1: 'same' pads exactly pad on every side (odd k); kept as 'same' so kernels see their usual form.
      const padding = this.strides === 1 && this.kernelSize % 2 === 1 ? 'same' : this.pad;
      return tf.depthwiseConv2d(x, this.kernel!.read() as tf.Tensor4D, this.strides, padding, 'NHWC', this.dilationRate);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(), kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}
tf.serialization.registerClass(DepthwiseConv);
