// Registers on the wasm backend the three backprop kernels tfjs-backend-wasm 4.22 lacks, composed from kernels it has.
import * as tf from '@tensorflow/tfjs-core';
import {
  asPair, conv2dFilterGradient, depthwiseFilterGradient, depthwiseInputGradient, type ConvGeometry, type PadSpec,
} from './convMath';

/** Names of the kernels registered by registerWasmTrainingKernels, in the order they are registered. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput',
] as const;

/** The engine hands kernels the op's Tensors; wrap a bare TensorInfo just in case (sharing its data, not copying). */
function asTensor(info: tf.TensorInfo, owned: tf.Tensor[]): tf.Tensor4D {
  if (info instanceof tf.Tensor) return info as tf.Tensor4D;
  const t = tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
  owned.push(t);
  return t;
}

function geometry(attrs: tf.NamedAttrMap): ConvGeometry {
  return {
    strides: asPair(attrs.strides as number | number[]),
    dilations: asPair(attrs.dilations as number | number[] | undefined),
    pad: attrs.pad as PadSpec,
    dimRoundingMode: attrs.dimRoundingMode as ConvGeometry['dimRoundingMode'],
  };
}

/** Runs a composed kernel: ops inside a kernel are not taped; the result is returned as a Tensor, which the engine accepts. */
function composed(inputs: tf.NamedTensorInfoMap, body: (t: Record<string, tf.Tensor4D>) => tf.Tensor): tf.Tensor {
  const owned: tf.Tensor[] = [];
  try {
    const tensors: Record<string, tf.Tensor4D> = {};
    for (const [name, info] of Object.entries(inputs)) if (info) tensors[name] = asTensor(info, owned);
    return tf.tidy(() => body(tensors));
  } finally {
    for (const t of owned) t.dispose();
  }
}

const kernels: tf.KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {} }) => composed(inputs, ({ x, dy }) => {
      if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') throw new Error('wasm Conv2DBackpropFilter supports only NHWC');
      return conv2dFilterGradient(x, dy, attrs.filterShape as number[], geometry(attrs));
    }) as unknown as tf.TensorInfo,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {} }) => composed(inputs, ({ x, dy }) =>
      depthwiseFilterGradient(x, dy, attrs.filterShape as number[], geometry(attrs))) as unknown as tf.TensorInfo,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm',
    kernelFunc: ({ inputs, attrs = {} }) => composed(inputs, ({ dy, filter }) =>
      depthwiseInputGradient(attrs.inputShape as number[], dy, filter, geometry(attrs))) as unknown as tf.TensorInfo,
  },
];

const ours = new Set<tf.KernelFunc>(kernels.map((k) => k.kernelFunc));

/** Registers the missing wasm training kernels. Safe to call more than once; never replaces a kernel wasm itself provides. */
export function registerWasmTrainingKernels(): void {
  for (const config of kernels) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) continue; // a future tfjs-backend-wasm that ships the kernel wins
    tf.registerKernel(config);
  }
}

/** Which of our kernels are currently registered for wasm (for the backend report). */
export function registeredWasmTrainingKernels(): string[] {
  return kernels.filter((k) => ours.has(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc as tf.KernelFunc))
    .map((k) => k.kernelName);
}
