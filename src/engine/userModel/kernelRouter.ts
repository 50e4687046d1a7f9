// Per-configuration kernel routing: wraps a backend's convolution and pooling kernels so that calls with a given
// configuration (kernel, strides, padding, dilation, channels) run on the cpu backend's kernel instead, and can record
// which configurations a piece of code runs. Used when a backend computes some configuration wrongly.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/** Kernels whose results depend on a convolution / pooling configuration. */
export const ROUTABLE_KERNELS = [
  'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter',
  'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter',
  'MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad',
] as const;

const ATTRS_IN_KEY = ['strides', 'pad', 'dilations', 'filterSize', 'dataFormat', 'dimRoundingMode', 'filterShape'];

interface RouterState {
  /** Call keys that run on cpu. */
  routed: Set<string>;
  /** Set while recording: keys of every routable call. */
  recording?: Set<string>;
  /** The kernels as they were before wrapping, by kernel name. */
  originals: Map<string, tf.KernelConfig>;
  wrapped: Set<tf.KernelFunc>;
}

const routers = new Map<string, RouterState>();

/**
 * The configuration of one kernel call, without batch and spatial sizes (so that a configuration checked on a small
 * input routes the same configuration at training size): kernel name, channel counts, filter shape, attributes.
 */
export function callKey(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): string {
  const parts = [kernelName];
  for (const name of Object.keys(inputs).sort()) {
    const info = inputs[name];
    if (!info) continue;
    parts.push(name === 'filter' ? `filter=${info.shape.join('x')}` : `${name}C=${info.shape[info.shape.length - 1]}`);
  }
  for (const name of ATTRS_IN_KEY) {
    const value = attrs?.[name];
    if (value !== undefined && value !== null) parts.push(`${name}=${JSON.stringify(value)}`);
  }
  const inputShape = attrs?.inputShape as number[] | undefined;
  if (inputShape) parts.push(`inputC=${inputShape[inputShape.length - 1]}`);
  return parts.join(' ');
}

/** Runs a kernel on the cpu backend with the target backend's data, and hands the result back to the target. */
function runOnCpu(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined, target: tf.KernelBackend): tf.TensorInfo | tf.TensorInfo[] {
  const cpu = tf.engine().findBackend('cpu');
  const kernel = tf.getKernel(kernelName, 'cpu');
  if (!cpu || !kernel) throw new Error(`cannot route ${kernelName} to the cpu backend: it has no such kernel`);
  const owned: tf.DataId[] = [];
  const cpuInputs: tf.NamedTensorInfoMap = {};
  for (const [name, info] of Object.entries(inputs)) {
    if (!info) continue;
    const values = (target.readSync(info.dataId) as tf.TypedArray).slice();
    const dataId = cpu.write(values, info.shape, info.dtype);
    owned.push(dataId);
    cpuInputs[name] = { dataId, shape: info.shape, dtype: info.dtype };
  }
  try {
    const out = kernel.kernelFunc({ inputs: cpuInputs, attrs: attrs ?? {}, backend: cpu });
    const outs = Array.isArray(out) ? out : [out];
    const results = outs.map((o) => {
      const values = (cpu.readSync(o.dataId) as tf.TypedArray).slice();
      if (!owned.includes(o.dataId)) cpu.disposeData(o.dataId);
      return { dataId: target.write(values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
    });
    return Array.isArray(out) ? results : results[0];
  } finally {
    for (const id of owned) cpu.disposeData(id);
  }
}

/**
 * Wraps the routable kernels of `backendName` (idempotent; re-wraps kernels someone re-registered since). Calls whose
 * key is routed run on cpu; all others run the backend's own kernel unchanged.
 */
export function installKernelRouter(backendName: string): void {
  let state = routers.get(backendName);
  if (!state) {
    state = { routed: new Set(), originals: new Map(), wrapped: new Set() };
    routers.set(backendName, state);
  }
  const s = state;
  for (const kernelName of ROUTABLE_KERNELS) {
    const current = tf.getKernel(kernelName, backendName);
    if (!current || s.wrapped.has(current.kernelFunc)) continue;
    const original = current.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      const key = callKey(kernelName, args.inputs, args.attrs);
      s.recording?.add(key);
      if (s.routed.has(key)) return runOnCpu(kernelName, args.inputs, args.attrs, args.backend as tf.KernelBackend);
      return original(args);
    };
    s.wrapped.add(kernelFunc);
    s.originals.set(kernelName, current);
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ ...current, kernelFunc });
  }
}

/** Restores the kernels that installKernelRouter wrapped and forgets the routes (tests). */
export function removeKernelRouter(backendName: string): void {
  const state = routers.get(backendName);
  if (!state) return;
  for (const [kernelName, original] of state.originals) {
    const current = tf.getKernel(kernelName, backendName);
    if (current && state.wrapped.has(current.kernelFunc)) {
      tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel(original);
    }
  }
  routers.delete(backendName);
}

/** Sends these call keys to the cpu kernels from now on (the router must be installed). */
export function routeToCpu(backendName: string, keys: Iterable<string>): void {
  const state = routers.get(backendName);
  if (!state) throw new Error(`no kernel router on backend '${backendName}'`);
  for (const key of keys) state.routed.add(key);
}

export function routedKeys(backendName: string): string[] {
  return [...(routers.get(backendName)?.routed ?? [])];
}

/** Runs `work` and returns the keys of the routable kernel calls it made on `backendName`. */
export function recordKernelCalls<T>(backendName: string, work: () => T): { result: T; keys: Set<string> } {
  const state = routers.get(backendName);
  if (!state) throw new Error(`no kernel router on backend '${backendName}'`);
  const keys = new Set<string>();
  const previous = state.recording;
  state.recording = keys;
  try {
    return { result: work(), keys };
  } finally {
    state.recording = previous;
  }
}
