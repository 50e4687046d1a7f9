// Adam with each variable's whole update done by one native wasm kernel (adam_update) instead of ~14 small tfjs kernels.
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsFor, type NativeKernels } from '../backend/nativeKernels';

/** One moment slot as AdamOptimizer keeps it (getWeights/setWeights/dispose read these, so the layout must not change). */
interface MomentSlot { originalName: string; variable: tf.Variable }

/** AdamOptimizer's private state, shared with the parent class rather than duplicated. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: MomentSlot[];
  accumulatedSecondMoment: MomentSlot[];
}

/** The parts of tfjs-backend-wasm's backend used here (not in its public typings). */
interface WasmBackendData {
  dataIdMap: { has(dataId: object): boolean };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** What Optimizer.minimize hands applyGradients: a name → gradient map, or a list of named gradients. */
type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** The native kernels when the fused update can run: wasm backend, kernels loaded, not switched off. */
function fusedAdamKernels(): NativeKernels | null {
  if (process.env.SEGSCOPE_FUSED_ADAM === '0' || tf.getBackend() !== 'wasm') return null;
  return nativeKernelsFor(tf.backend());
}

/**
 * tf.train.adam with the same className, config, state layout (getWeights/setWeights, so checkpoints and resume work)
 * and float32 results bit for bit (adam_update does the same correctly rounded operations in the same order). On any
 * backend but wasm, with SEGSCOPE_FUSED_ADAM=0, or for a non-float32 variable it is tfjs' own AdamOptimizer.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    const native = fusedAdamKernels();
    const backend = tf.backend() as unknown as WasmBackendData;
    const list = Array.isArray(variableGradients) ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const variables = tf.engine().registeredVariables;
    const fusable = native !== null && list.every(({ name, tensor }) => tensor == null
      || (tensor.dtype === 'float32' && variables[name]?.dtype === 'float32' && tensor.size === variables[name].size
        && backend.dataIdMap.has(tensor.dataId)));
    if (!native || !fusable) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    // Bias corrections exactly as tfjs forms them: sub(1, accBeta) on the float32 running powers.
    const bias1 = 1 - state.accBeta1.dataSync()[0], bias2 = 1 - state.accBeta2.dataSync()[0];
    list.forEach(({ name, tensor: gradient }, i) => {
      const value = variables[name];
      // Slots are made for every listed variable, by position, even without a gradient (as AdamOptimizer does).
      state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      if (gradient == null) return;
      const m = state.accumulatedFirstMoment[i].variable, v = state.accumulatedSecondMoment[i].variable;
      this.updateVariable(native, backend, gradient, value, m, v, bias1, bias2);
    });
    tf.tidy(() => {
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /**
   * One variable's step, into fresh tensors that the variables are assigned (as AdamOptimizer does). Not in place:
   * tfjs-backend-wasm caches XNNPACK operators with the filter packed inside, keyed by the filter's data id, so a weight
   * changed in place would leave convolutions on its old values; and on wasm a clone or reshape shares the data.
   * (Moments in place would save ~0.4 ms of ~3 ms per bench step.)
   */
  private updateVariable(
    native: NativeKernels, backend: WasmBackendData, gradient: tf.Tensor, w: tf.Variable, m: tf.Variable, v: tf.Variable,
    bias1: number, bias2: number,
  ): void {
    const outputs = [w, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
    const [gOff, wOff, mOff, vOff, wOut, mOut, vOut] = [gradient, w, m, v, ...outputs].map((t) => native.offset(t));
    const { beta1, beta2, epsilon, learningRate } = this;
    native.run('adam_update', w.size, 1, (begin, end) => [
      gOff, wOff, mOff, vOff, wOut, mOut, vOut, beta1, 1 - beta1, beta2, 1 - beta2, bias1, bias2, epsilon, -learningRate, begin, end,
    ]);
    [w, m, v].forEach((variable, k) => {
      const tensor = tf.engine().makeTensorFromTensorInfo(outputs[k], backend as unknown as tf.KernelBackend);
      variable.assign(tensor);
      tensor.dispose();
    });
  }
}
