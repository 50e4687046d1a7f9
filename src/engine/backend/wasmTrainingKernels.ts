// Registers on the wasm backend the three backprop kernels tfjs-backend-wasm 4.22 lacks, composed from kernels it has,
// and replaces the gradient kernels whose stock results are wrong (MaxPoolGrad, ResizeNearestNeighborGrad).
import * as tf from '@tensorflow/tfjs-core';
import {
  asPair, conv2dFilterGradient, depthwiseFilterGradient, depthwiseInputGradient, type ConvGeometry, type PadSpec,
} from './convMath';
import { composedKernel } from './composedKernel';
import { correctedKernels } from './poolingGradients';
import { nativeKernelsFor } from './nativeKernels';
import {
  convFilterGradientNative, depthwiseFilterGradientNative, depthwiseInputGradientNative, nativeConvFilterApplies, nativeDepthwiseApplies,
} from './nativeConvGradients';
import { makeOutput } from './wasmHeap';

/** Names of the kernels registered by registerWasmTrainingKernels, in the order they are registered. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput',
] as const;

function geometry(attrs: tf.NamedAttrMap): ConvGeometry {
  return {
    strides: asPair(attrs.strides as number | number[]),
    dilations: asPair(attrs.dilations as number | number[] | undefined),
    pad: attrs.pad as PadSpec,
    dimRoundingMode: attrs.dimRoundingMode as ConvGeometry['dimRoundingMode'],
  };
}

const kernels: tf.KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') throw new Error('wasm Conv2DBackpropFilter supports only NHWC');
      const filterShape = attrs.filterShape as number[], g = geometry(attrs);
      const x = inputs.x as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const native = nativeKernelsFor(backend);
      if (native && nativeConvFilterApplies(x, dy, g)) {
        const dw = makeOutput(backend, filterShape, 'float32');
        convFilterGradientNative(native, x, dy, filterShape, dw, g);
        return dw;
      }
      return composedKernel(inputs, ({ x: xt, dy: dyt }) => conv2dFilterGradient(xt, dyt, filterShape, g));
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const filterShape = attrs.filterShape as number[], g = geometry(attrs);
      const x = inputs.x as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const native = nativeKernelsFor(backend);
      if (native && nativeDepthwiseApplies(filterShape, x.dtype, g) && dy.dtype === 'float32') {
        const dw = makeOutput(backend, filterShape, 'float32');
        depthwiseFilterGradientNative(native, x, dy, filterShape, dw, g);
        return dw;
      }
      return composedKernel(inputs, ({ x: xt, dy: dyt }) => depthwiseFilterGradient(xt, dyt, filterShape, g));
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {}, backend }) => {
      const inputShape = attrs.inputShape as number[], g = geometry(attrs);
      const dy = inputs.dy as tf.TensorInfo, filter = inputs.filter as tf.TensorInfo;
      const native = nativeKernelsFor(backend);
      if (native && nativeDepthwiseApplies(filter.shape, filter.dtype, g) && dy.dtype === 'float32') {
        const dx = makeOutput(backend, inputShape, 'float32');
        depthwiseInputGradientNative(native, inputShape, dy, filter, dx, g);
        return dx;
      }
      return composedKernel(inputs, ({ dy: dyt, filter: ft }) => depthwiseInputGradient(inputShape, dyt, ft, g));
    },
  },
];

/** Stock wasm kernels replaced because they are wrong (see test/unit/backend/poolingGradients.test.ts). */
export const WASM_CORRECTED_KERNELS = ['MaxPoolGrad', 'ResizeNearestNeighborGrad'] as const;

const ours = new Set<tf.KernelFunc>([...kernels, ...correctedKernels].map((k) => k.kernelFunc));

/**
 * Registers the missing wasm training kernels (never replacing one a future wasm backend provides) and the corrected
 * ones (always replacing stock). Safe to call more than once.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of kernels) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) continue; // a future tfjs-backend-wasm that ships the kernel wins
    tf.registerKernel(config);
  }
  for (const config of correctedKernels) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

/** Which of our kernels are currently registered for wasm (for the backend report). */
export function registeredWasmTrainingKernels(): string[] {
  return [...kernels, ...correctedKernels].filter((k) => ours.has(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc as tf.KernelFunc))
    .map((k) => k.kernelName);
}
