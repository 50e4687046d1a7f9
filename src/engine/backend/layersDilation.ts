// Makes dilated (atrous) convolutions of tfjs-layers train: fused conv ops fall back to plain ops under gradients, and
// DepthwiseConv2D honours its dilationRate (tfjs-layers 4.22 silently ignores it).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isDilated } from './convMath';

type FusedConvArgs = Parameters<typeof tf.fused.conv2d>[0];
type FusedDepthwiseArgs = Parameters<typeof tf.fused.depthwiseConv2d>[0];
type Activation = FusedConvArgs['activation'];

function applyActivation(y: tf.Tensor, activation: Activation, prelu?: tf.Tensor | tf.TensorLike, alpha?: number): tf.Tensor {
  switch (activation ?? 'linear') {
    case 'linear': return y;
    case 'relu': return tf.relu(y);
    case 'relu6': return tf.relu6(y);
    case 'elu': return tf.elu(y);
    case 'sigmoid': return tf.sigmoid(y);
    case 'leakyrelu': return tf.leakyRelu(y, alpha);
    case 'prelu': return tf.prelu(y, prelu as tf.Tensor);
    default: throw new Error(`Unknown fused activation ${activation}`);
  }
}

/**
 * Under gradients the fused ops run unfused, through the registered gradients: the fused ops' own (custom) gradients
 * refuse dilation, and compute every input's gradient eagerly — including the image's through the first convolution,
 * which nobody needs (7 % of a bench-model training step at 128²); the registered ones are skipped for such inputs.
 * The unfused form adds one bias-add kernel per convolution that has a bias (the engine's models: the classifier only).
 */
const underGradient = () => tf.engine().state.gradientDepth > 0;

let fusedPatched = false;

function patchFusedOps(): void {
  if (fusedPatched) return;
  const fused = tf.fused as { conv2d: typeof tf.fused.conv2d; depthwiseConv2d: typeof tf.fused.depthwiseConv2d };
  const originalConv = fused.conv2d;
  const originalDepthwise = fused.depthwiseConv2d;
  fused.conv2d = ((args: FusedConvArgs) => {
    if (!underGradient()) return originalConv(args);
    return tf.tidy(() => {
      let y: tf.Tensor = tf.conv2d(args.x, args.filter, args.strides, args.pad, args.dataFormat, args.dilations, args.dimRoundingMode);
      if (args.bias != null) y = tf.add(y, args.bias);
      return applyActivation(y, args.activation, args.preluActivationWeights, args.leakyreluAlpha);
    });
  }) as typeof tf.fused.conv2d;
  fused.depthwiseConv2d = ((args: FusedDepthwiseArgs) => {
    if (!underGradient()) return originalDepthwise(args);
    return tf.tidy(() => {
      let y: tf.Tensor = tf.depthwiseConv2d(args.x, args.filter, args.strides, args.pad, args.dataFormat, args.dilations,
        args.dimRoundingMode);
      if (args.bias != null) y = tf.add(y, args.bias);
      return applyActivation(y, args.activation, args.preluActivationWeights, args.leakyreluAlpha);
    });
  }) as typeof tf.fused.depthwiseConv2d;
  fusedPatched = true;
}

/** What the patch needs from tfjs-layers' DepthwiseConv2D (its fields are not in the public typings). */
interface DepthwiseLayerInternals {
  dilationRate: number | number[];
  strides: number[];
  padding: string;
  dataFormat: string;
  kernelSize: number[];
  depthMultiplier: number;
  useBias: boolean;
  depthwiseKernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  activation: { apply(t: tf.Tensor): tf.Tensor } | null;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: unknown): tf.Tensor;
  computeOutputShape(shape: number[] | number[][]): number[];
}

function outputLength(size: number | null, kernel: number, padding: string, stride: number, dilation: number): number | null {
  if (size == null) return size;
  const effective = kernel + (kernel - 1) * (dilation - 1);
  const length = padding === 'same' ? size : size - effective + 1;
  return Math.floor((length + stride - 1) / stride);
}

let layerPatched = false;

function patchDepthwiseLayer(): void {
  if (layerPatched) return;
  const proto = Object.getPrototypeOf(tfl.layers.depthwiseConv2d({ kernelSize: 1 })) as DepthwiseLayerInternals;
  const originalCall = proto.call;
  const originalShape = proto.computeOutputShape;
  proto.call = function (this: DepthwiseLayerInternals, inputs, kwargs) {
    if (!isDilated(this.dilationRate)) return originalCall.call(this, inputs, kwargs);
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const channelsFirst = this.dataFormat === 'channelsFirst';
      if (channelsFirst) x = tf.transpose(x, [0, 2, 3, 1]);
      const dilations = (typeof this.dilationRate === 'number'
        ? [this.dilationRate, this.dilationRate] : this.dilationRate) as [number, number];
      let y: tf.Tensor = tf.depthwiseConv2d(x, this.depthwiseKernel.read() as tf.Tensor4D, this.strides as [number, number],
        this.padding === 'same' ? 'same' : 'valid', 'NHWC', dilations);
      if (this.useBias && this.bias) y = tf.add(y, this.bias.read());
      if (channelsFirst) y = tf.transpose(y, [0, 3, 1, 2]);
      return this.activation ? this.activation.apply(y) : y;
    });
  };
  proto.computeOutputShape = function (this: DepthwiseLayerInternals, shape) {
    if (!isDilated(this.dilationRate)) return originalShape.call(this, shape);
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
    const d = typeof this.dilationRate === 'number' ? [this.dilationRate, this.dilationRate] : this.dilationRate;
    const first = this.dataFormat === 'channelsFirst';
    const [rows, cols, ch] = first ? [s[2], s[3], s[1]] : [s[1], s[2], s[3]];
    const outRows = outputLength(rows, this.kernelSize[0], this.padding, this.strides[0], d[0]);
    const outCols = outputLength(cols, this.kernelSize[1], this.padding, this.strides[1], d[1]);
    const outCh = ch * this.depthMultiplier;
    return (first ? [s[0], outCh, outRows, outCols] : [s[0], outRows, outCols, outCh]) as number[];
  };
  layerPatched = true;
}

/** Applies both patches. Idempotent; call before building models (initBackend does). */
export function enableLayersDilation(): void {
  patchFusedOps();
  patchDepthwiseLayer();
}
