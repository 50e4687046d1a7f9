// Bilinear resizing and its gradient on the native SIMD kernels, with the sampling of tfjs-backend-cpu's kernels.
import type * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';

/**
 * Runs `work` with the resize geometry in the heap (input height, width; output height, width; channels) and the
 * source-per-output scales of tfjs-backend-cpu (align corners: (in − 1)/(out − 1) when out > 1, else in/out).
 */
function withGeometry(
  native: NativeKernels, [xh, xw]: number[], [yh, yw]: number[], channels: number, alignCorners: boolean,
  work: (geometry: number, hScale: number, wScale: number) => void,
): void {
  const effective = (x: number, y: number) => (alignCorners && y > 1 ? [x - 1, y - 1] : [x, y]);
  const [ex, ey] = effective(xh, yh), [fx, fy] = effective(xw, yw);
  const geometry = native.malloc(5 * 4);
  try {
    new Int32Array(native.buffer, geometry, 5).set([xh, xw, yh, yw, channels]);
    work(geometry, ex / ey, fx / fy);
  } finally {
    native.free(geometry);
  }
}

/** dx ([N, XH, XW, C], the resized images' shape) from dy ([N, YH, YW, C]); split by image. */
export function resizeBilinearGradNative(
  native: NativeKernels, imagesShape: number[], dy: tf.TensorInfo, alignCorners: boolean, dx: tf.TensorInfo,
): void {
  const [batch, xh, xw, channels] = imagesShape;
  const [, yh, yw] = dy.shape;
  const dyOff = native.offset(dy), dxOff = native.offset(dx);
  withGeometry(native, [xh, xw], [yh, yw], channels, alignCorners, (geometry, hs, ws) =>
    native.run('resize_bilinear_grad', batch, yh * yw * channels, (n0, n1) => [geometry, dyOff, dxOff, hs, ws, n0, n1]));
}

/** y ([N, YH, YW, C]) = x ([N, XH, XW, C]) resized bilinearly (no half-pixel centres); split by output row. */
export function resizeBilinearNative(native: NativeKernels, x: tf.TensorInfo, alignCorners: boolean, y: tf.TensorInfo): void {
  const [batch, xh, xw, channels] = x.shape;
  const [, yh, yw] = y.shape;
  const xOff = native.offset(x), yOff = native.offset(y);
  withGeometry(native, [xh, xw], [yh, yw], channels, alignCorners, (geometry, hs, ws) =>
    native.run('resize_bilinear', batch * yh, yw * channels, (r0, r1) => [geometry, xOff, yOff, hs, ws, r0, r1]));
}
