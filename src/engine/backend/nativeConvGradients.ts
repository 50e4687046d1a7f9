// Convolutions on the native SIMD kernels (NHWC, float32, any stride, dilation and padding): depthwise (channel
// multiplier 1) forward, input and filter gradients, and the filter gradient of ordinary convolutions.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';
import { matMulAtBNative } from './nativeProducts';
import type { ConvGeometry } from './convMath';

/** Whether the native kernels can compute this depthwise gradient (else the composed one is used). */
export function nativeDepthwiseApplies(filterShape: number[], dtype: tf.DataType, g: ConvGeometry): boolean {
  return filterShape[3] === 1 && dtype === 'float32' && g.dimRoundingMode === undefined;
}

/** Whether the native kernels can compute this convolution's filter gradient (else the composed one is used). */
export function nativeConvFilterApplies(x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): boolean {
  return x.dtype === 'float32' && dy.dtype === 'float32' && g.dimRoundingMode === undefined;
}

function convInfo(inputShape: number[], filterShape: number[], g: ConvGeometry, depthwise = true): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inputShape as [number, number, number, number],
    filterShape as [number, number, number, number], g.strides, g.dilations, g.pad, g.dimRoundingMode, depthwise);
}

/** Runs `work` with the 14 ints the C kernels read as a convolution geometry written to the heap (freed after). */
function withGeometry(native: NativeKernels, info: tf.backend_util.Conv2DInfo, work: (geometry: number) => void): void {
  const geometry = native.malloc(14 * 4);
  try {
    new Int32Array(native.buffer, geometry, 14).set([
      info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
      info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
      info.outChannels,
    ]);
    work(geometry);
  } finally {
    native.free(geometry);
  }
}

/** Runs a filter-gradient kernel over the output rows, one float64 accumulator per chunk (added in order); writes the sum to dw. */
function filterGradient(
  native: NativeKernels, name: 'depthwise_filter_grad' | 'conv_filter_grad', info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo, dy: tf.TensorInfo, dw: tf.TensorInfo, weights: number,
): void {
  const accBytes = 8 * weights, rows = info.batchSize * info.outHeight;
  const slots = native.reductionSlots(rows, info.outWidth * weights, accBytes);
  withGeometry(native, info, (geometry) => {
    const { raw, acc } = native.zeroedAccumulators(slots, weights);
    try {
      const xOff = native.offset(x), dyOff = native.offset(dy);
      native.runReduction(name, rows, slots, accBytes, (r0, r1, slot) => [geometry, xOff, dyOff, acc + slot, r0, r1]);
      native.sumAccumulators(acc, slots, weights, native.offset(dw));
    } finally {
      native.free(raw);
    }
  });
}

/** dx ([N, H, W, C]) from dy and the filter. */
export function depthwiseInputGradientNative(
  native: NativeKernels, inputShape: number[], dy: tf.TensorInfo, filter: tf.TensorInfo, dx: tf.TensorInfo, g: ConvGeometry,
): void {
  const info = convInfo(inputShape, filter.shape, g);
  const dyOff = native.offset(dy), wOff = native.offset(filter), dxOff = native.offset(dx);
  const rows = info.batchSize * info.inHeight;
  withGeometry(native, info, (geometry) => native.run('depthwise_input_grad', rows,
    info.inWidth * info.inChannels * info.filterHeight * info.filterWidth, (r0, r1) => [geometry, dyOff, wOff, dxOff, r0, r1]));
}

/** dw ([KH, KW, C, 1]) of a depthwise convolution from x and dy. */
export function depthwiseFilterGradientNative(
  native: NativeKernels, x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: number[], dw: tf.TensorInfo, g: ConvGeometry,
): void {
  const info = convInfo(x.shape, filterShape, g);
  filterGradient(native, 'depthwise_filter_grad', info, x, dy, dw, info.filterHeight * info.filterWidth * info.inChannels);
}

/** dw ([KH, KW, C, CO]) of a convolution from x and dy. */
export function convFilterGradientNative(
  native: NativeKernels, x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: number[], dw: tf.TensorInfo, g: ConvGeometry,
): void {
  const info = convInfo(x.shape, filterShape, g, false);
  const p = info.padInfo;
  if (info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
      p.top === 0 && p.left === 0 && p.bottom === 0 && p.right === 0) {
    // Every pixel is one row of a product: xᵀ·dy over all of them, in long cache-sized chunks.
    const pixels = info.batchSize * info.inHeight * info.inWidth;
    matMulAtBNative(native, { ...x, shape: [pixels, info.inChannels] }, { ...dy, shape: [pixels, info.outChannels] }, dw);
    return;
  }
  filterGradient(native, 'conv_filter_grad', info, x, dy, dw, filterShape.reduce((a, b) => a * b, 1));
}

/** y ([N, OH, OW, C]) = act(depthwise(x, filter) + bias), channel multiplier 1. */
export function depthwiseForwardNative(
  native: NativeKernels, x: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry, bias: tf.TensorInfo | undefined,
  activation: number, y: tf.TensorInfo,
): void {
  const info = convInfo(x.shape, filter.shape, g);
  const xOff = native.offset(x), wOff = native.offset(filter), yOff = native.offset(y);
  const rows = info.batchSize * info.outHeight;
  withGeometry(native, info, (geometry) => native.run('depthwise_forward', rows,
    info.outWidth * info.inChannels * info.filterHeight * info.filterWidth, (r0, r1) => [geometry, xOff, wOff, yOff, r0, r1]));
  if (bias || activation !== 0) {
    const biasOff = bias ? native.offset(bias) : 0, C = info.inChannels;
    native.run('bias_activation', rows * info.outWidth, C, (r0, r1) => [yOff, biasOff, C, activation, r0, r1]);
  }
}
