// The bilinear-resize gradient on the native SIMD kernel, with the sampling of tfjs-backend-cpu's ResizeBilinearGrad.
import type * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './nativeKernels';

/** dx ([N, XH, XW, C], the resized images' shape) from dy ([N, YH, YW, C]). */
export function resizeBilinearGradNative(
  native: NativeKernels, imagesShape: number[], dy: tf.TensorInfo, alignCorners: boolean, dx: tf.TensorInfo,
): void {
  const [batch, xh, xw, channels] = imagesShape;
  const [, yh, yw] = dy.shape;
  const effective = (x: number, y: number) => (alignCorners && y > 1 ? [x - 1, y - 1] : [x, y]);
  const [ex, ey] = effective(xh, yh), [fx, fy] = effective(xw, yw);
  const geometry = native.malloc(5 * 4);
  try {
    new Int32Array(native.buffer, geometry, 5).set([xh, xw, yh, yw, channels]);
    const dyOff = native.offset(dy), dxOff = native.offset(dx);
    native.run('resize_bilinear_grad', batch, yh * yw * channels, (n0, n1) => [geometry, dyOff, dxOff, ex / ey, fx / fy, n0, n1]);
  } finally {
    native.free(geometry);
  }
}
