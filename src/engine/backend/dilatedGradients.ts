// Gradients of conv2d and depthwiseConv2d that also handle dilation > 1 (tfjs-core 4.22 refuses those), on every backend.
import * as tf from '@tensorflow/tfjs-core';
import {
  asPair, conv2dFilterGradient, conv2dInputGradient, depthwiseFilterGradient, depthwiseInputGradient, isDilated,
  type ConvGeometry, type PadSpec,
} from './convMath';
import { enableLayersDilation } from './layersDilation';

type Attrs = Record<string, unknown>;

function geometry(attrs: Attrs): ConvGeometry {
  return {
    strides: asPair(attrs.strides as number | number[]),
    dilations: asPair(attrs.dilations as number | number[] | undefined),
    pad: attrs.pad as PadSpec,
    dimRoundingMode: attrs.dimRoundingMode as ConvGeometry['dimRoundingMode'],
  };
}

function requireNhwc(attrs: Attrs, op: string): void {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') throw new Error(`Gradient of dilated ${op}: only NHWC (channelsLast) is supported`);
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: Attrs): tf.Tensor4D =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;

/** Same as tfjs-core's Conv2D gradient for dilation 1 (the backend's backprop kernels); composed ops for dilation > 1. */
const conv2dGradient: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as tf.Tensor4D[];
    const dy4 = dy as tf.Tensor4D;
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as Attrs;
    if (!isDilated(attrs.dilations as number[])) {
      return {
        x: () => run('Conv2DBackpropInput', { dy: dy4, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape }),
        filter: () => run('Conv2DBackpropFilter', { x, dy: dy4 }, { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape }),
      };
    }
    requireNhwc(attrs, 'conv2d');
    const g = geometry(attrs);
    return {
      x: () => conv2dInputGradient(x.shape, dy4, filter, g),
      filter: () => conv2dFilterGradient(x, dy4, filter.shape, g),
    };
  },
};

/** Same as tfjs-core's DepthwiseConv2dNative gradient for dilation 1 (and on wasm); composed ops for dilation > 1. */
const depthwiseGradient: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as tf.Tensor4D[];
    const dy4 = dy as tf.Tensor4D;
    const g = geometry(attrs);
    // On wasm our backprop kernels handle dilation directly (the cpu ones ignore it, so elsewhere compose from ops).
    if (!isDilated(g.dilations) || tf.getBackend() === 'wasm') {
      const common = { strides: g.strides, dilations: g.dilations, pad: g.pad, dimRoundingMode: g.dimRoundingMode };
      return {
        x: () => run('DepthwiseConv2dNativeBackpropInput', { dy: dy4, filter }, { ...common, inputShape: x.shape }),
        filter: () => run('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy4 }, { ...common, filterShape: filter.shape }),
      };
    }
    requireNhwc(attrs, 'depthwiseConv2d');
    return {
      x: () => depthwiseInputGradient(x.shape, dy4, filter, g),
      filter: () => depthwiseFilterGradient(x, dy4, filter.shape, g),
    };
  },
};

let registered = false;

/**
 * Replaces the Conv2D and DepthwiseConv2dNative gradients with ones that accept dilation, and makes tfjs-layers use
 * them (enableLayersDilation). Idempotent.
 */
export function registerDilatedConvGradients(): void {
  enableLayersDilation();
  if (registered) return;
  tf.registerGradient(conv2dGradient);
  tf.registerGradient(depthwiseGradient);
  registered = true;
}
