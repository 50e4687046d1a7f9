// Checks every distinct convolution / depthwise / pooling configuration of a model on the chosen backend against the
// cpu backend (forward and gradients, small random input) and routes the ones that disagree to the cpu kernels.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { installKernelRouter, recordKernelCalls, routeToCpu } from './kernelRouter';
import { leafLayers } from './weightsByName';

/** Layer classes whose numbers depend on a convolution or pooling configuration. */
const CHECKED_CLASSES = new Set([
  'Conv2D', 'Conv2DTranspose', 'DepthwiseConv2D', 'SeparableConv2D', 'SegScopeDepthwiseConv2D',
  'MaxPooling2D', 'AveragePooling2D',
]);

export interface LayerConfiguration {
  /** Readable and unique: "Conv2D k3x3 s2x2 d1x1 same 16→32". */
  key: string;
  className: string;
  /** Layers of the model with this configuration. */
  layers: string[];
  inputChannels: number;
  /** The layer's config with name, initialisers and trainability removed (what is rebuilt to check it). */
  config: tf.serialization.ConfigDict;
}

export interface ConfigurationResult {
  configuration: LayerConfiguration;
  /** max |backend − cpu| / max |cpu| over the output. */
  forwardError: number;
  /** The same over the gradients of the input and of every weight. */
  gradientError: number;
  agrees: boolean;
  /** Set after routing: the kernel calls sent to cpu and whether the configuration then agrees. */
  routed?: { kernels: string[]; agreesAfter: boolean; forwardErrorAfter: number; gradientErrorAfter: number };
}

export interface BackendCheckReport {
  backend: string;
  tolerance: number;
  checked: ConfigurationResult[];
  disagreeing: ConfigurationResult[];
  ms: number;
}

export interface CheckOptions {
  /** Relative tolerance; default 1e-3 (float32 sums differ by ~1e-6 between correct kernels). */
  tolerance?: number;
  /** Batch of the random input; default 2. */
  batch?: number;
  seed?: number;
}

const DROP_KEYS = ['name', 'trainable', 'kernelInitializer', 'biasInitializer', 'depthwiseInitializer', 'pointwiseInitializer',
  'kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint', 'seed', 'batchInputShape', 'dtype',
  'depthwiseRegularizer', 'pointwiseRegularizer', 'depthwiseConstraint', 'pointwiseConstraint', 'inferenceMode'];

function inputChannels(layer: tfl.layers.Layer): number {
  const input = (Array.isArray(layer.input) ? layer.input[0] : layer.input) as tfl.SymbolicTensor;
  const shape = input.shape;
  return shape[shape.length - 1] ?? 1;
}

function describe(className: string, config: tf.serialization.ConfigDict, channels: number): string {
  const pair = (v: unknown) => (Array.isArray(v) ? v.join('x') : v === undefined ? '1x1' : `${v}x${v}`);
  const kernel = config.kernelSize ?? config.poolSize;
  const parts = [className, `k${pair(kernel)}`, `s${pair(config.strides ?? kernel)}`, `d${pair(config.dilationRate)}`,
    String(config.padding ?? 'pad'), `in${channels}`];
  if (config.filters !== undefined) parts.push(`out${config.filters}`);
  if (config.depthMultiplier !== undefined) parts.push(`mult${config.depthMultiplier}`);
  if (config.activation !== undefined && config.activation !== 'linear') parts.push(String(config.activation));
  if (config.useBias === false) parts.push('nobias');
  return parts.join(' ');
}

/** The distinct conv / depthwise / pooling configurations of a model (nested sub-models included). */
export function listLayerConfigurations(model: tfl.LayersModel): LayerConfiguration[] {
  const byKey = new Map<string, LayerConfiguration>();
  for (const layer of leafLayers(model)) {
    const className = layer.getClassName();
    if (!CHECKED_CLASSES.has(className)) continue;
    const config = { ...layer.getConfig() };
    for (const k of DROP_KEYS) delete config[k];
    const channels = inputChannels(layer);
    const key = describe(className, config, channels);
    const found = byKey.get(key);
    if (found) found.layers.push(layer.name);
    else byKey.set(key, { key, className, layers: [layer.name], inputChannels: channels, config });
  }
  return [...byKey.values()];
}

/** A small odd spatial size the configuration can run on (enough rows for stride and dilated kernel). */
function probeSize(config: tf.serialization.ConfigDict): number {
  const k = Math.max(...([config.kernelSize ?? config.poolSize ?? 1].flat() as number[]));
  const d = Math.max(...([config.dilationRate ?? 1].flat() as number[]));
  const s = Math.max(...([config.strides ?? 1].flat() as number[]));
  return Math.max(9, d * (k - 1) + 1 + 2 * s + 1) | 1;
}

function seededValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32 * 2 - 1;
  }
  return out;
}

interface RunResult { output: Float32Array; gradients: Float32Array[] }

/** A fresh layer of this configuration (tfjs' own deserialiser, so custom SegScope classes work too). */
function makeLayer(c: LayerConfiguration): tfl.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[c.className];
  if (!entry) throw new Error(`layer class ${c.className} is not registered`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, { ...c.config, name: `segscope_check_${c.className}` }) as unknown as tfl.layers.Layer;
}

/** Builds the layer on `x` (applying it once), then gives it `weights` (or keeps its random ones). */
function builtLayer(c: LayerConfiguration, input: tf.Tensor, weights: Float32Array[] | undefined): { layer: tfl.layers.Layer; used: Float32Array[] } {
  const layer = makeLayer(c);
  tf.dispose(layer.apply(input) as tf.Tensor);
  if (weights) layer.weights.forEach((w, i) => w.write(tf.tensor(weights[i], w.shape as number[])));
  const used = layer.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
  return { layer, used };
}

/** Forward + gradients (of the input and every weight) of one configuration on the current backend. */
function runConfiguration(c: LayerConfiguration, x: Float32Array, xShape: number[], weights: Float32Array[] | undefined, dySeed: number): { run: RunResult; weights: Float32Array[] } {
  const input = tf.variable(tf.tensor4d(x, xShape as [number, number, number, number]));
  const { layer, used } = builtLayer(c, input, weights);
  try {
    const output = tf.tidy(() => (layer.apply(input) as tf.Tensor).dataSync() as Float32Array).slice();
    const outShape = [xShape[0], ...(layer.computeOutputShape(xShape) as number[]).slice(1)];
    const dy = tf.tensor(seededValues(outShape.reduce((a, b) => a * b, 1), dySeed), outShape);
    const varList = [input, ...layer.weights.map((w) => w.read() as tf.Variable)];
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, dy)) as tf.Scalar, varList);
    const gradients = varList.map((v) => (grads[v.name].dataSync() as Float32Array).slice());
    tf.dispose([dy, value, ...Object.values(grads)]);
    return { run: { output, gradients }, weights: used };
  } finally {
    layer.dispose();
    input.dispose();
  }
}

/** Forward only, with the given weights (to see which kernels the forward pass uses). */
function runForward(c: LayerConfiguration, x: Float32Array, xShape: number[], weights: Float32Array[]): void {
  const input = tf.tensor4d(x, xShape as [number, number, number, number]);
  const { layer } = builtLayer(c, input, weights);
  tf.tidy(() => { (layer.apply(input) as tf.Tensor).dataSync(); });
  layer.dispose();
  input.dispose();
}

function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) && Number.isFinite(b[i])) return Infinity;
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-6);
}

interface Comparison { forwardError: number; gradientError: number; forwardKeys: Set<string>; gradientKeys: Set<string> }

async function compareOne(c: LayerConfiguration, backendName: string, opts: Required<CheckOptions>): Promise<Comparison> {
  const size = probeSize(c.config);
  const xShape = [opts.batch, size, size, c.inputChannels];
  const x = seededValues(xShape.reduce((a, b) => a * b, 1), opts.seed);
  await tf.setBackend(backendName);
  // On the backend: forward + gradients, then forward alone (which kernels the forward pass uses).
  const recorded = recordKernelCalls(backendName, () => runConfiguration(c, x, xShape, undefined, opts.seed + 1));
  const gradientKeys = recorded.keys;
  const { run: onBackend, weights } = recorded.result;
  const forwardKeys = recordKernelCalls(backendName, () => runForward(c, x, xShape, weights)).keys;
  await tf.setBackend('cpu');
  const { run: onCpu } = runConfiguration(c, x, xShape, weights, opts.seed + 1);
  const gradientError = Math.max(0, ...onBackend.gradients.map((g, i) => relativeError(g, onCpu.gradients[i])));
  return { forwardError: relativeError(onBackend.output, onCpu.output), gradientError, forwardKeys, gradientKeys };
}

/**
 * Runs each distinct configuration of `model` on `backendName` and on cpu and compares. Returns every result and the
 * disagreeing ones. The current backend is restored afterwards. The model itself is not touched.
 */
export async function checkModelConfigurations(model: tfl.LayersModel, backendName: string, options: CheckOptions = {}): Promise<BackendCheckReport> {
  const opts: Required<CheckOptions> = { tolerance: options.tolerance ?? 1e-3, batch: options.batch ?? 2, seed: options.seed ?? 7 };
  const started = performance.now();
  const previous = tf.getBackend();
  installKernelRouter(backendName);
  const checked: ConfigurationResult[] = [];
  try {
    for (const configuration of listLayerConfigurations(model)) {
      const r = await compareOne(configuration, backendName, opts);
      checked.push({
        configuration, forwardError: r.forwardError, gradientError: r.gradientError,
        agrees: r.forwardError <= opts.tolerance && r.gradientError <= opts.tolerance,
      });
      lastKeys.set(configuration.key, r);
    }
  } finally {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
  }
  return { backend: backendName, tolerance: opts.tolerance, checked, disagreeing: checked.filter((c) => !c.agrees), ms: performance.now() - started };
}

/** Kernel calls seen for each configuration in the last check (what routing sends to cpu). */
const lastKeys = new Map<string, Comparison>();

/**
 * Sends the kernels of every disagreeing configuration to the cpu kernels (forward kernels if the forward disagreed,
 * every kernel of the configuration if its gradients did), then checks those configurations again. Mutates and returns
 * the report (`routed` on each disagreeing result).
 */
export async function routeDisagreeing(report: BackendCheckReport, options: CheckOptions = {}): Promise<BackendCheckReport> {
  const opts: Required<CheckOptions> = { tolerance: report.tolerance, batch: options.batch ?? 2, seed: options.seed ?? 7 };
  const previous = tf.getBackend();
  try {
    for (const result of report.disagreeing) {
      const seen = lastKeys.get(result.configuration.key);
      if (!seen) throw new Error(`configuration ${result.configuration.key} was not checked in this process`);
      const keys = result.gradientError > report.tolerance ? new Set([...seen.forwardKeys, ...seen.gradientKeys]) : seen.forwardKeys;
      routeToCpu(report.backend, keys);
      const again = await compareOne(result.configuration, report.backend, opts);
      result.routed = {
        kernels: [...keys], forwardErrorAfter: again.forwardError, gradientErrorAfter: again.gradientError,
        agreesAfter: again.forwardError <= report.tolerance && again.gradientError <= report.tolerance,
      };
    }
  } finally {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
  }
  return report;
}

/** The line for the run's first events (a 'warning' event when something disagreed). */
export function describeBackendCheck(report: BackendCheckReport): string {
  const head = `${report.backend}: ${report.checked.length} conv/depthwise/pooling configurations checked against cpu (forward and gradients) in ${(report.ms / 1000).toFixed(1)} s`;
  if (report.disagreeing.length === 0) return `${head}: all agree`;
  const items = report.disagreeing.map((r) => {
    const routed = r.routed ? (r.routed.agreesAfter ? ' → routed to the cpu kernels, now agrees' : ' → routed to cpu, STILL DISAGREES') : ' (not routed)';
    return `${r.configuration.key} [${r.configuration.layers.slice(0, 3).join(', ')}] forward ${r.forwardError.toExponential(1)}, gradients ${r.gradientError.toExponential(1)}${routed}`;
  });
  return `${head}: ${report.disagreeing.length} disagree: ${items.join('; ')}`;
}
