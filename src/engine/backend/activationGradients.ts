// ReLU and ReLU6 gradients in one pass on wasm (stock tfjs builds each from 2–5 full-size kernels); same values.
// Also makes tfjs-layers' 'relu6' activation one Relu6 kernel instead of Relu then Minimum.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { heapView, type WasmBackendInternals } from './wasmHeap';
import { nativeKernelsFor, type NativeKernelName } from './nativeKernels';
import { activationAlreadyApplied, type FusableActivation } from './fusedActivation';

const floatView = (backend: WasmBackendInternals, info: tf.TensorInfo) => heapView(backend, info) as Float32Array;

/** Kernel names (registered for wasm only) that compute dy masked by where the activation passes its input. */
const RELU_GRAD = 'SegScopeReluGrad';
const RELU6_GRAD = 'SegScopeRelu6Grad';

type MaskLoop = (dy: Float32Array, x: Float32Array, out: Float32Array) => void;

function maskKernel(kernelName: string, nativeName: NativeKernelName, loop: MaskLoop): tf.KernelConfig {
  return {
    kernelName, backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const wasm = backend as unknown as WasmBackendInternals;
      const dyInfo = inputs.dy as tf.TensorInfo, xInfo = inputs.x as tf.TensorInfo;
      const out = wasm.makeOutput(dyInfo.shape, 'float32');
      const native = nativeKernelsFor(backend);
      if (native) {
        const dy = native.offset(dyInfo), x = native.offset(xInfo), o = native.offset(out);
        native.run(nativeName, tf.util.sizeFromShape(out.shape), 1, (begin, end) => [dy, x, o, begin, end]);
        return out;
      }
      loop(floatView(wasm, dyInfo), floatView(wasm, xInfo), floatView(wasm, out));
      return out;
    },
  };
}

// The masks match tfjs-core's gradients exactly: ReLU passes x > 0 (step), ReLU6 passes 0 <= x <= 6, and like
// tfjs' mul(dy, mask) they multiply (Inf·0 = NaN). Branch-free (dy × +comparison): ~3× faster than a conditional
// on activations whose signs vary at random. Two loops so each compiles to a tight loop.
const kernels = [
  maskKernel(RELU_GRAD, 'relu_grad', (dy, x, out) => {
    for (let i = 0; i < out.length; i++) out[i] = dy[i] * +(x[i] > 0);
  }),
  maskKernel(RELU6_GRAD, 'relu6_grad', (dy, x, out) => {
    for (let i = 0; i < out.length; i++) {
      const v = x[i];
      out[i] = dy[i] * (+(v >= 0) & +(v <= 6));
    }
  }),
];

function useFastPath(dy: tf.Tensor, x: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && dy.dtype === 'float32' && x.dtype === 'float32' &&
    tf.util.arraysEqual(dy.shape, x.shape);
}

const reluGradient: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const d = dy as tf.Tensor;
    return {
      x: () => (useFastPath(d, x) ? tf.engine().runKernel(RELU_GRAD, { dy: d, x }) as tf.Tensor : tf.mul(d, tf.step(tf.cast(x, 'float32')))),
    };
  },
};

const relu6Gradient: tf.GradConfig = {
  kernelName: 'Relu6',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const d = dy as tf.Tensor;
    return {
      x: () => (useFastPath(d, x)
        ? tf.engine().runKernel(RELU6_GRAD, { dy: d, x }) as tf.Tensor
        : tf.mul(d, tf.cast(tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, 6)), 'float32'))),
    };
  },
};

/**
 * tfjs-layers computes 'relu6' as minimum(6, relu(x)): two full-size kernels forward and two gradients (the Minimum one
 * built from several more). tf.relu6 gives the same values with one kernel each way (its gradient passes 0 ≤ x ≤ 6,
 * the composite's 0 < x < 6: they differ only on the measure-zero set x ∈ {0, 6}).
 */
function patchLayersRelu6(): void {
  patchLayersActivation('relu6', (x) => tf.relu6(x));
}

/**
 * A tensor that a fused BatchNorm+activation op already activated (models/batchNormTraining.ts) passes through the
 * activation layer as a clone (which shares its data on wasm) instead of being activated twice.
 */
function patchLayersActivation(name: FusableActivation, activate: (x: tf.Tensor) => tf.Tensor): void {
  const layer = tfl.layers.activation({ activation: name }) as unknown as { activation: { apply(x: tf.Tensor): tf.Tensor } };
  const proto = Object.getPrototypeOf(layer.activation) as { apply(x: tf.Tensor): tf.Tensor };
  proto.apply = (x: tf.Tensor) => (activationAlreadyApplied(x, name) ? tf.clone(x) : activate(x));
}

let registered = false;

/** Registers the one-pass wasm kernels and the ReLU/ReLU6 gradients that use them on wasm. Idempotent. */
export function registerActivationGradients(): void {
  if (registered) return;
  for (const k of kernels) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
  tf.registerGradient(reluGradient);
  tf.registerGradient(relu6Gradient);
  patchLayersRelu6();
  patchLayersActivation('relu', (x) => tf.relu(x));
  registered = true;
}
