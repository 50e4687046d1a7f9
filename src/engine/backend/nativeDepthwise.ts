// Depthwise-convolution gradients (channel multiplier 1, NHWC, float32) on the native SIMD kernels, any stride and dilation.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';
import type { ConvGeometry } from './convMath';

/** Whether the native kernels can compute this depthwise gradient (else the composed one is used). */
export function nativeDepthwiseApplies(filterShape: number[], dtype: tf.DataType, g: ConvGeometry): boolean {
  return filterShape[3] === 1 && dtype === 'float32' && g.dimRoundingMode === undefined;
}

function convInfo(inputShape: number[], filterShape: number[], g: ConvGeometry): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inputShape as [number, number, number, number],
    filterShape as [number, number, number, number], g.strides, g.dilations, g.pad, g.dimRoundingMode, true);
}

/** The 13 ints native/kernels.c reads as a depthwise geometry, written to the heap (freed by the caller). */
function writeGeometry(native: NativeKernels, info: tf.backend_util.Conv2DInfo): number {
  const ptr = native.malloc(13 * 4);
  new Int32Array(native.buffer, ptr, 13).set([
    info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
  ]);
  return ptr;
}

/** dx ([N, H, W, C]) from dy and the filter. */
export function depthwiseInputGradientNative(
  native: NativeKernels, inputShape: number[], dy: tf.TensorInfo, filter: tf.TensorInfo, dx: tf.TensorInfo, g: ConvGeometry,
): void {
  const info = convInfo(inputShape, filter.shape, g);
  const geometry = writeGeometry(native, info);
  try {
    const dyOff = native.offset(dy), wOff = native.offset(filter), dxOff = native.offset(dx);
    const rows = info.batchSize * info.inHeight;
    native.run('depthwise_input_grad', rows, info.inWidth * info.inChannels * info.filterHeight * info.filterWidth,
      (r0, r1) => [geometry, dyOff, wOff, dxOff, r0, r1]);
  } finally {
    native.free(geometry);
  }
}

/** dw ([KH, KW, C, 1]) from x and dy, summed in float64 per thread. */
export function depthwiseFilterGradientNative(
  native: NativeKernels, x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: number[], dw: tf.TensorInfo, g: ConvGeometry,
): void {
  const info = convInfo(x.shape, filterShape, g);
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const parts = native.threads;
  const geometry = writeGeometry(native, info);
  const accBytes = 8 * taps;
  const raw = native.malloc(parts * accBytes + 16);
  const acc = Math.ceil(raw / 16) * 16;
  try {
    new Float64Array(native.buffer, acc, parts * taps).fill(0);
    const xOff = native.offset(x), dyOff = native.offset(dy);
    const rows = info.batchSize * info.outHeight;
    native.run('depthwise_filter_grad', rows, info.outWidth * taps,
      (r0, r1, part) => [geometry, xOff, dyOff, acc + part * accBytes, r0, r1]);
    const sums = new Float64Array(native.buffer, acc, parts * taps);
    const out = new Float32Array(native.buffer, native.offset(dw), taps);
    for (let i = 0; i < taps; i++) {
      let s = 0;
      for (let p = 0; p < parts; p++) s += sums[p * taps + i];
      out[i] = s;
    }
  } finally {
    native.free(raw);
    native.free(geometry);
  }
}
