// The wasm kernels SegScope's native SIMD kernels replace (see docs/backends.md), each falling back to the stock kernel
// for the cases it does not cover; registered with the other speed kernels by registerWasmSpeedKernels.
import * as tf from '@tensorflow/tfjs-core';
import { asPair, type ConvGeometry, type PadSpec } from './convMath';
import { batchNormInferenceNative, nativeBatchNormInferenceApplies } from './nativeBatchNorm';
import { depthwiseForwardNative } from './nativeConvGradients';
import { nativeKernelsFor } from './nativeKernels';
import { NATIVE_ACTIVATIONS, nativePointwiseApplies, pointwiseConvNative } from './nativeProducts';
import { resizeBilinearGradNative, resizeBilinearNative } from './nativeResize';
import { makeOutput } from './wasmHeap';

/** Kernel names replaced here, in registration order. */
export const NATIVE_REPLACED_KERNELS = [
  'FusedBatchNorm', 'Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'ResizeBilinearGrad',
  'ResizeBilinear', 'Relu', 'Relu6', 'Concat', 'PadV2', 'Add',
] as const;

/** 32-bit tensors whose channels (last axis) are copied row by row. */
const copyable = (t: tf.TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32';

/** SplitV along the last axis as row-strided native copies; null when the native kernels cannot run it. */
export function splitLastAxisNative(backend: unknown, x: tf.TensorInfo, sizes: number[]): tf.TensorInfo[] | null {
  const native = nativeKernelsFor(backend);
  if (!native || !copyable(x) || x.shape.length < 2) return null;
  const C = x.shape[x.shape.length - 1], rows = tf.util.sizeFromShape(x.shape.slice(0, -1));
  let begin = 0;
  return sizes.map((width) => {
    const out = makeOutput(backend, [...x.shape.slice(0, -1), width], x.dtype);
    const src = native.offset(x) + 4 * begin, dst = native.offset(out);
    if (width > 0 && rows > 0) native.run('copy_rows', rows, width, (r0, r1) => [src, C, dst, width, width, r0, r1]);
    begin += width;
    return out;
  });
}

export function nativeReplacements(stock: (name: string) => tf.KernelConfig): tf.KernelConfig[] {
  const list: tf.KernelConfig[] = [];
  list.push({
    // Stock: a scalar C loop over every element (54 % of the bench model's inference time); here one SIMD pass.
    kernelName: 'FusedBatchNorm', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const x = inputs.x as tf.TensorInfo, mean = inputs.mean as tf.TensorInfo, variance = inputs.variance as tf.TensorInfo;
      const offset = (inputs.offset ?? undefined) as tf.TensorInfo | undefined, scale = (inputs.scale ?? undefined) as tf.TensorInfo | undefined;
      const native = nativeKernelsFor(args.backend);
      if (!native || !nativeBatchNormInferenceApplies(x, [mean, variance, offset, scale])) return stock('FusedBatchNorm').kernelFunc(args);
      const y = makeOutput(args.backend, x.shape, 'float32');
      if (tf.util.sizeFromShape(x.shape) > 0) batchNormInferenceNative(native, x, mean, variance, offset, scale, attrs.varianceEpsilon as number, y);
      return y;
    },
  });

  /** 1×1 stride-1 convolutions (nearly all of the bench model's FLOPs) as native products, ~2.5× XNNPACK's speed here. */
  for (const kernelName of ['Conv2D', 'FusedConv2D'] as const) {
    list.push({
      kernelName, backendName: 'wasm',
      kernelFunc: (args) => {
        const { inputs, attrs = {} } = args;
        const x = inputs.x as tf.TensorInfo, filter = inputs.filter as tf.TensorInfo;
        const bias = (inputs.bias ?? undefined) as tf.TensorInfo | undefined;
        const native = nativeKernelsFor(args.backend);
        if (!native || inputs.preluActivationWeights || !nativePointwiseApplies(x, filter, attrs)) return stock(kernelName).kernelFunc(args);
        const y = makeOutput(args.backend, [...x.shape.slice(0, 3), filter.shape[3]], 'float32');
        pointwiseConvNative(native, x, filter, bias, attrs.activation as string | undefined, y);
        return y;
      },
    });
  }

  /** Depthwise convolutions (multiplier 1) forward, plain and fused with bias and ReLU/ReLU6, as native SIMD loops. */
  for (const kernelName of ['DepthwiseConv2dNative', 'FusedDepthwiseConv2D'] as const) {
    list.push({
      kernelName, backendName: 'wasm',
      kernelFunc: (args) => {
        const { inputs, attrs = {} } = args;
        const x = inputs.x as tf.TensorInfo, filter = inputs.filter as tf.TensorInfo;
        const bias = (inputs.bias ?? undefined) as tf.TensorInfo | undefined;
        const activation = (attrs.activation as string | undefined) ?? 'linear';
        const native = nativeKernelsFor(args.backend);
        if (!native || inputs.preluActivationWeights || x.dtype !== 'float32' || filter.dtype !== 'float32' || filter.shape[3] !== 1 ||
            (attrs.dataFormat ?? 'NHWC') !== 'NHWC' || attrs.dimRoundingMode != null || !(activation in NATIVE_ACTIVATIONS)) {
          return stock(kernelName).kernelFunc(args);
        }
        const g: ConvGeometry = {
          strides: asPair(attrs.strides as number | number[]), dilations: asPair(attrs.dilations as number | number[] | undefined),
          pad: attrs.pad as PadSpec,
        };
        const outShape = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
          filter.shape as [number, number, number, number], g.strides, g.dilations, g.pad, undefined, true).outShape;
        const y = makeOutput(args.backend, outShape, 'float32');
        depthwiseForwardNative(native, x, filter, g, bias, NATIVE_ACTIVATIONS[activation], y);
        return y;
      },
    });
  }

  /**
   * Bilinear-resize gradient (align-corners or not; without half-pixel centres) as a native SIMD scatter, split by
   * image: stock wasm's scalar kernel was 3.7 % of a 256² training step.
   */
  list.push({
    kernelName: 'ResizeBilinearGrad', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const images = inputs.images as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const native = nativeKernelsFor(args.backend);
      if (!native || attrs.halfPixelCenters || dy.dtype !== 'float32' || images.shape.length !== 4) {
        return stock('ResizeBilinearGrad').kernelFunc(args);
      }
      const dx = makeOutput(args.backend, images.shape, 'float32');
      resizeBilinearGradNative(native, images.shape, dy, Boolean(attrs.alignCorners), dx);
      return dx;
    },
  });

  /** The decoder's and the logits' upsampling (align corners), split by output row. */
  list.push({
    kernelName: 'ResizeBilinear', backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs = {} } = args;
      const images = inputs.images as tf.TensorInfo;
      const [newHeight, newWidth] = attrs.size as [number, number];
      const native = nativeKernelsFor(args.backend);
      if (!native || attrs.halfPixelCenters || images.dtype !== 'float32' || images.shape.length !== 4) {
        return stock('ResizeBilinear').kernelFunc(args);
      }
      const [batch, , , channels] = images.shape;
      const y = makeOutput(args.backend, [batch, newHeight, newWidth, channels], 'float32');
      if (batch * newHeight * newWidth * channels > 0) resizeBilinearNative(native, images, Boolean(attrs.alignCorners), y);
      return y;
    },
  });

  /** Stock Relu/Relu6 are scalar loops (Relu6 forward was 2.7 % of a 256² training step); these are SIMD and split. */
  for (const [kernelName, kernel] of [['Relu', 'relu_forward'], ['Relu6', 'relu6_forward']] as const) {
    list.push({
      kernelName, backendName: 'wasm',
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        const native = nativeKernelsFor(args.backend);
        if (!native || x.dtype !== 'float32') return stock(kernelName).kernelFunc(args);
        const y = makeOutput(args.backend, x.shape, 'float32');
        const xOff = native.offset(x), yOff = native.offset(y);
        native.run(kernel, tf.util.sizeFromShape(x.shape), 1, (begin, end) => [xOff, yOff, begin, end]);
        return y;
      },
    });
  }

  /** Concat along the last axis (ASPP and decoder concatenations) as row-strided native copies. */
  list.push({
    kernelName: 'Concat', backendName: 'wasm',
    kernelFunc: (args) => {
      const tensors = args.inputs as unknown as tf.TensorInfo[];
      const first = tensors[0];
      const axis = tf.util.parseAxisParam(args.attrs?.axis as number, first.shape)[0];
      const native = nativeKernelsFor(args.backend);
      if (!native || axis !== first.shape.length - 1 || first.shape.length < 2 || !tensors.every((t) => copyable(t) && t.dtype === first.dtype)) {
        return stock('Concat').kernelFunc(args);
      }
      const total = tensors.reduce((n, t) => n + t.shape[axis], 0);
      const out = makeOutput(args.backend, [...first.shape.slice(0, -1), total], first.dtype);
      const rows = tf.util.sizeFromShape(first.shape.slice(0, -1));
      let begin = 0;
      for (const t of tensors) {
        const width = t.shape[axis];
        const src = native.offset(t), dst = native.offset(out) + 4 * begin;
        if (width > 0 && rows > 0) native.run('copy_rows', rows, width, (r0, r1) => [src, width, dst, total, width, r0, r1]);
        begin += width;
      }
      return out;
    },
  });

  /** Zero padding of the image before the stem convolution: stock PadV2 is a generic scalar loop (1 % of a step). */
  list.push({
    kernelName: 'PadV2', backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const paddings = args.attrs?.paddings as [number, number][];
      const native = nativeKernelsFor(args.backend);
      const onlyHeightWidth = x.shape.length === 4 && paddings.length === 4 && paddings[0].every((p) => p === 0) &&
        paddings[3].every((p) => p === 0) && paddings.every(([a, b]) => a >= 0 && b >= 0);
      if (!native || x.dtype !== 'float32' || !onlyHeightWidth) return stock('PadV2').kernelFunc(args);
      const [N, H, W, C] = x.shape;
      const OH = H + paddings[1][0] + paddings[1][1], OW = W + paddings[2][0] + paddings[2][1];
      const y = makeOutput(args.backend, [N, OH, OW, C], 'float32');
      const xOff = native.offset(x), yOff = native.offset(y), value = Number(args.attrs?.constantValue ?? 0);
      if (N * OH * OW * C > 0) {
        native.run('pad_hw', N * OH, OW * C, (r0, r1) => [xOff, H, W, C, OH, OW, paddings[1][0], paddings[2][0], value, yOff, r0, r1]);
      }
      return y;
    },
  });

  /** Additions of two float32 tensors of one shape (residual connections; gradients summed over a tensor's consumers). */
  list.push({
    kernelName: 'Add', backendName: 'wasm',
    kernelFunc: (args) => {
      const a = args.inputs.a as tf.TensorInfo, b = args.inputs.b as tf.TensorInfo;
      const native = nativeKernelsFor(args.backend);
      if (!native || a.dtype !== 'float32' || b.dtype !== 'float32' || !tf.util.arraysEqual(a.shape, b.shape)) return stock('Add').kernelFunc(args);
      const out = makeOutput(args.backend, a.shape, 'float32');
      const aOff = native.offset(a), bOff = native.offset(b), outOff = native.offset(out);
      const n = tf.util.sizeFromShape(a.shape);
      if (n > 0) native.run('add_arrays', n, 1, (begin, end) => [aOff, bOff, outOff, begin, end]);
      return out;
    },
  });
  return list;
}
