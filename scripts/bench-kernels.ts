// Micro-benchmark: milliseconds per kernel for training-sized tensors on the chosen backend.
// Run: node --import tsx scripts/bench-kernels.ts [--backend wasm|cpu] [--threads N] [--reps N] [--filter regex]
// On wasm each line shows SegScope's kernels and, in brackets, the stock tfjs-backend-wasm ones, timed alternately.
// With --step [--size 128] [--batch 8] [--all]: a per-kernel profile of training steps of the bench model (the recipe of
// `segscope bench`), split into forward, backward and optimizer, as a markdown table.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, registerWasmSpeedKernels, restoreStockWasmKernels } from '../src/engine/backend';
import { KernelProfiler } from '../src/engine/backend/kernelProfiler';
import { nativeKernelsFor } from '../src/engine/backend/nativeKernels';
import { makeLoss } from '../src/engine/losses';
import { buildBenchModel } from '../src/engine/models';
import { benchData } from '../src/engine/train/bench';
import { FusedAdamOptimizer } from '../src/engine/train/fusedAdam';
import type { BackendChoice } from '../src/protocol/config';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const backend = option('backend', 'wasm') as BackendChoice;
const threads = Number(option('threads', '1'));
const reps = Number(option('reps', '5'));
const filter = new RegExp(option('filter', '.'));

/** One benchmark: `setup` makes the inputs once, `run` is timed (its result is read back and disposed). */
interface Bench { name: string; setup: () => tf.Tensor[]; run: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }

const rand = (shape: number[]) => tf.randomUniform(shape, -1, 1);
const act = [8, 64, 64, 144];
const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

const benches: Bench[] = [
  { name: 'Slice [8,64,64,144] → half the channels', setup: () => [rand(act)], run: ([x]) => tf.slice(x, [0, 0, 0, 0], [8, 64, 64, 72]) },
  { name: 'SplitV [8,64,64,144] → 2 along channels', setup: () => [rand(act)], run: ([x]) => tf.split(x, 2, 3) },
  { name: 'Tile [1,1,1,144] → [8,64,64,144]', setup: () => [rand([1, 1, 1, 144])], run: ([x]) => tf.tile(x, [8, 64, 64, 1]) },
  { name: 'Sum [8,64,64,144] over axes 0,1,2', setup: () => [rand(act)], run: ([x]) => tf.sum(x, [0, 1, 2]) },
  { name: 'Mean [8,64,64,144] over axes 0,1,2', setup: () => [rand(act)], run: ([x]) => tf.mean(x, [0, 1, 2]) },
  { name: 'Sum [8,64,64,144] over axis 3', setup: () => [rand(act)], run: ([x]) => tf.sum(x, 3) },
  { name: 'Transpose 2-D [32768,144]', setup: () => [rand([32768, 144])], run: ([x]) => tf.transpose(x) },
  { name: 'Transpose NHWC→CHWN [8,64,64,144]', setup: () => [rand(act)], run: ([x]) => tf.transpose(x, [3, 1, 2, 0]) },
  { name: 'Multiply [8,64,64,144] × [144]', setup: () => [rand(act), rand([144])], run: ([x, y]) => tf.mul(x, y) },
  { name: 'Relu6 [8,64,64,144]', setup: () => [rand(act)], run: ([x]) => tf.relu6(x) },
  { name: 'Relu6 gradient [8,64,64,144] (stock formula)', setup: () => [tf.mul(rand(act), 8), rand(act)],
    run: ([x, dy]) => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, 6)), 'float32')) },
  { name: 'Relu6 gradient [8,64,64,144] (one-pass kernel)', setup: () => [tf.mul(rand(act), 8), rand(act)],
    run: ([x, dy]) => run('SegScopeRelu6Grad', { dy, x }, {}) },
  { name: 'Conv2D 1×1 [8,64,64,144]→24', setup: () => [rand(act), rand([1, 1, 144, 24])], run: ([x, w]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') },
  { name: 'Conv2DBackpropInput 1×1 24→144', setup: () => [rand([8, 64, 64, 24]), rand([1, 1, 144, 24])],
    run: ([dy, w]) => run('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: act }) },
  { name: 'Conv2DBackpropFilter 1×1 144→24', setup: () => [rand(act), rand([8, 64, 64, 24])],
    run: ([x, dy]) => run('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, 144, 24] }) },
  { name: 'BatchMatMul [32768,144]ᵀ·[32768,24] (1×1 weight gradient)', setup: () => [rand([32768, 144]), rand([32768, 24])],
    run: ([a, b]) => tf.matMul(a, b, true, false) },
  { name: 'Conv2D 3×3 [8,64,64,32]→32', setup: () => [rand([8, 64, 64, 32]), rand([3, 3, 32, 32])], run: ([x, w]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') },
  { name: 'Conv2DBackpropInput 3×3 32→32', setup: () => [rand([8, 64, 64, 32]), rand([3, 3, 32, 32])],
    run: ([dy, w]) => run('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [8, 64, 64, 32] }) },
  { name: 'Conv2DBackpropFilter 3×3 32→32', setup: () => [rand([8, 64, 64, 32]), rand([8, 64, 64, 32])],
    run: ([x, dy]) => run('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 32] }) },
  { name: 'DepthwiseConv2dNative 3×3 [8,64,64,144]', setup: () => [rand(act), rand([3, 3, 144, 1])], run: ([x, w]) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') },
  { name: 'DepthwiseBackpropInput 3×3 144', setup: () => [rand(act), rand([3, 3, 144, 1])],
    run: ([dy, w]) => run('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { strides: 1, dilations: 1, pad: 'same', inputShape: act }) },
  { name: 'DepthwiseBackpropFilter 3×3 144', setup: () => [rand(act), rand(act)],
    run: ([x, dy]) => run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 144, 1] }) },
  { name: 'DepthwiseBackpropFilter 3×3 s2 144', setup: () => [rand(act), rand([8, 32, 32, 144])],
    run: ([x, dy]) => run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 2, dilations: 1, pad: 'same', filterShape: [3, 3, 144, 1] }) },
  ...benchModelDepthwise(),
  { name: 'dilated conv2d grad 3×3 d2 [8,16,16,64]→64', setup: () => [rand([8, 16, 16, 64]), rand([3, 3, 64, 64])],
    run: ([x, w]) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', 2)))([x, w]) },
  { name: 'train step: small MobileNetV2/ASPP-like net, batch 8, 64²', setup: () => [rand([8, 64, 64, 3])],
    run: ([x]) => trainStep(x) },
];

/**
 * The bench model's 22 depthwise layers at 128², batch 8 (3×3, 'same'; [size, channels, stride, dilation]), one bench
 * per kernel running all of them: the sum is what a training step spends in that kernel.
 */
function benchModelDepthwise(): Bench[] {
  const layers = [[64, 24, 1, 1], [64, 96, 2, 1], [32, 144, 1, 1], [32, 144, 2, 1], [16, 144, 1, 1], [16, 144, 1, 1],
    [16, 144, 2, 1], [8, 288, 1, 1], [8, 288, 1, 1], [8, 288, 1, 1], [8, 288, 1, 1], [8, 432, 1, 1], [8, 432, 1, 1],
    [8, 432, 1, 1], [8, 720, 1, 2], [8, 720, 1, 2], [8, 720, 1, 2], [8, 240, 1, 6], [8, 240, 1, 12], [8, 240, 1, 18],
    [32, 176, 1, 1], [32, 128, 1, 1]];
  // Per layer: x, filter, dy.
  const setup = () => layers.flatMap(([s, c, stride]) => [rand([8, s, s, c]), rand([3, 3, c, 1]), rand([8, s / stride, s / stride, c])]);
  const all = (name: string, op: (x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor, stride: number, dilation: number) => tf.Tensor): Bench => ({
    name: `${name}: the bench model's 22 layers, 128², batch 8`,
    setup,
    run: (t) => {
      layers.forEach(([, , stride, dilation], i) => op(t[3 * i], t[3 * i + 1], t[3 * i + 2], stride, dilation).dispose());
      return tf.scalar(0);
    },
  });
  return [
    all('DepthwiseConv2dNative', (x, w, _dy, s, d) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s as 1, 'same', 'NHWC', d as 1)),
    all('DepthwiseBackpropInput', (x, w, dy, s, d) =>
      run('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { strides: s, dilations: d, pad: 'same', inputShape: x.shape })),
    all('DepthwiseBackpropFilter', (x, w, dy, s, d) =>
      run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: d, pad: 'same', filterShape: w.shape })),
  ];
}

let net: tfl.LayersModel | null = null;

/** One forward+backward pass (gradients of all weights) of a small net with the layer kinds DeepLab v3+ uses. */
function trainStep(x: tf.Tensor): tf.Tensor[] {
  if (!net) {
    const input = tfl.input({ shape: [64, 64, 3] });
    let y = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(input) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reLU({ maxValue: 6 }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.conv2d({ filters: 96, kernelSize: 1, useBias: false }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reLU({ maxValue: 6 }).apply(y) as tfl.SymbolicTensor;
    const a = tfl.layers.conv2d({ filters: 32, kernelSize: 1, useBias: false }).apply(y) as tfl.SymbolicTensor;
    const b = tfl.layers.conv2d({ filters: 32, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    y = tfl.layers.conv2d({ filters: 21, kernelSize: 1 }).apply(y) as tfl.SymbolicTensor;
    net = tfl.model({ inputs: input, outputs: y });
  }
  const model = net;
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
  return [value, ...Object.values(grads)];
}

function timeOnce(bench: Bench, inputs: tf.Tensor[]): number {
  const start = performance.now();
  const out = bench.run(inputs);
  const outs = Array.isArray(out) ? out : [out];
  for (const t of outs) t.dataSync();
  const ms = performance.now() - start;
  tf.dispose(outs);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Profiles `reps` training steps of the bench model after two warm-up steps; prints ms per step by kernel and phase. */
async function profileStep(): Promise<void> {
  const size = Number(option('size', '128')), batch = Number(option('batch', '8'));
  const report = await initBackend(backend, { threads });
  const model = buildBenchModel(21, size, 0);
  const loss = makeLoss({ type: 'ce', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2 },
    { numClasses: 21, ignoreLabel: 255 });
  const optimizer = new FusedAdamOptimizer(1e-3, 0.9, 0.999, 1e-7);
  const data = benchData(batch, size, 0);
  const x = tf.tensor4d(data.images, [batch, size, size, 3]);
  const y = tf.tensor3d(data.labels, [batch, size, size], 'int32');
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const profiler = new KernelProfiler(report.name === 'wasm' ? 'wasm' : tf.getBackend());
  const inferOnly = process.argv.includes('--infer');
  const step = inferOnly ? () => {
    profiler.phase = 'inference';
    const out = model.predict(x) as tf.Tensor;
    out.dataSync();
    out.dispose();
  } : () => {
    profiler.phase = 'forward';
    const { value, grads } = tf.variableGrads(() => {
      const l = loss(y, model.apply(x, { training: true }) as tf.Tensor4D);
      profiler.phase = 'backward';
      return l;
    }, variables);
    profiler.phase = 'optimizer';
    optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  step();
  profiler.install();
  const native = nativeKernelsFor(tf.findBackend('wasm'));
  const waitedBefore = native?.waitedMs ?? 0;
  const stepMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    stepMs.push(performance.now() - t0);
  }
  profiler.uninstall();
  const total = stepMs.reduce((a, b) => a + b, 0) / reps;
  const rows = profiler.results();
  const kernelMs = rows.reduce((a, r) => a + r.ms, 0) / reps;
  console.log(`bench model ${size}², batch ${batch}, ${inferOnly ? 'inference' : 'training'}, ${report.name}${report.threads ? ` ${report.threads} thread(s)` : ''}: ` +
    `${total.toFixed(0)} ms per step (mean of ${reps}; median ${median(stepMs).toFixed(0)}), kernels ${kernelMs.toFixed(0)} ms, ` +
    `outside kernels ${(total - kernelMs).toFixed(0)} ms, ${rows.reduce((a, r) => a + r.calls, 0) / reps} kernel calls`);
  const phases = new Map<string, number>();
  for (const r of rows) phases.set(r.phase, (phases.get(r.phase) ?? 0) + r.ms / reps);
  console.log([...phases].map(([p, ms]) => `${p} ${ms.toFixed(0)} ms`).join(', '));
  if (native) console.log(`SegScope kernels: ${native.fma ? 'fused multiply-add' : 'plain multiply and add'}; this thread waited ${((native.waitedMs - waitedBefore) / reps).toFixed(1)} ms per step for the helper thread's share`);
  console.log('\n| kernel | phase | calls/step | ms/step | % of step |\n|---|---|---|---|---|');
  for (const r of rows.filter((row) => row.ms / reps >= (process.argv.includes('--all') ? 0 : 0.5))) {
    console.log(`| ${r.kernel} | ${r.phase} | ${r.calls / reps} | ${(r.ms / reps).toFixed(1)} | ${(100 * r.ms / reps / total).toFixed(1)} |`);
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
}

async function main(): Promise<void> {
  if (process.argv.includes('--step')) return profileStep();
  const report = await initBackend(backend, { threads });
  const compare = report.name === 'wasm';
  console.log(`backend ${report.name} simd ${report.simd ?? '-'} threads ${report.threads ?? '-'}; median of ${reps} runs after a warm-up` +
    (compare ? '; [stock wasm]' : ''));
  for (const bench of benches.filter((b) => filter.test(b.name))) {
    const inputs = bench.setup();
    const ours: number[] = [], stock: number[] = [];
    for (let i = 0; i <= reps; i++) {
      if (compare) restoreStockWasmKernels();
      const stockMs = compare ? timeOnce(bench, inputs) : 0;
      if (compare) registerWasmSpeedKernels();
      const ms = timeOnce(bench, inputs);
      if (i > 0) {
        ours.push(ms);
        stock.push(stockMs);
      }
    }
    const stockText = compare ? `[${median(stock).toFixed(1).padStart(8)} ms]` : '';
    console.log(`${median(ours).toFixed(1).padStart(9)} ms ${stockText}  ${bench.name}`);
    tf.dispose(inputs);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
