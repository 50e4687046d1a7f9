// The speed benchmark: trains and runs the fixed bench model (DeepLab v3+ of peers/deeplab_ref.py) on random data,
// the same recipe as peers/torch_bench.py (Adam lr 1e-3 eps 1e-7, softmax CE ignoring 255 on 5 % of pixels,
// median step time after warm-up).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../../protocol/config';
import type { BackendReport } from '../../protocol/runFolder';
import { initBackend } from '../backend';
import { hashSeed, seededRandom } from '../data/random';
import { makeLoss } from '../losses';
import { buildBenchModel, countTrainableLikeTorch } from '../models';
import { FusedAdamOptimizer } from './fusedAdam';

export interface BenchOptions {
  size: number;
  batch: number;
  backend: BackendChoice;
  steps: number;
  warmup: number;
  seed?: number;
}

export interface BenchResult {
  backend: string;
  size: number;
  batch: number;
  params: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  stepMsMedian: number;
}

export const BENCH_DEFAULTS: BenchOptions = { size: 128, batch: 8, backend: 'auto', steps: 8, warmup: 3 };
const NUM_CLASSES = 21;
const IGNORE = 255;
const VOID_FRACTION = 0.05;

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Times `warmup + steps` calls of `step` and returns the median of the last `steps` (ms). */
export function medianStepMs(step: () => void, warmup: number, steps: number): number {
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    step();
    const dt = performance.now() - t0;
    if (i >= warmup) times.push(dt);
  }
  return median(times);
}

/** Random inputs in [-1, 1) and labels 0..20 with ~5 % void, from a seeded generator. */
export function benchData(batch: number, size: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const random = seededRandom(hashSeed(seed, 'bench'));
  const images = new Float32Array(batch * size * size * 3);
  for (let i = 0; i < images.length; i++) images[i] = random() * 2 - 1;
  const labels = new Int32Array(batch * size * size);
  for (let i = 0; i < labels.length; i++) {
    labels[i] = Math.floor(random() * NUM_CLASSES);
    if (random() < VOID_FRACTION) labels[i] = IGNORE;
  }
  return { images, labels };
}

export async function runBench(opts: BenchOptions, report?: (backend: BackendReport) => void): Promise<BenchResult> {
  const backend = await initBackend(opts.backend);
  report?.(backend);
  const { size, batch } = opts;
  const model = buildBenchModel(NUM_CLASSES, size, opts.seed ?? 0);
  const params = countTrainableLikeTorch(model);
  const loss = makeLoss(
    { type: 'ce', fromLogits: true, target: 'index', onehotIgnore: 'zero', focalGamma: 2 },
    { numClasses: NUM_CLASSES, ignoreLabel: IGNORE },
  );
  const optimizer = new FusedAdamOptimizer(1e-3, 0.9, 0.999, 1e-7);
  const data = benchData(batch, size, opts.seed ?? 0);
  const x = tf.tensor4d(data.images, [batch, size, size, 3]);
  const y = tf.tensor3d(data.labels, [batch, size, size], 'int32');
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    const trainMs = medianStepMs(() => {
      const cost = optimizer.minimize(() => loss(y, model.apply(x, { training: true }) as tf.Tensor4D), true, variables);
      cost!.dataSync();
      cost!.dispose();
    }, opts.warmup, opts.steps);
    const inferMs = medianStepMs(() => {
      const out = model.predict(x) as tf.Tensor;
      out.dataSync();
      out.dispose();
    }, opts.warmup, opts.steps);
    return {
      backend: backend.name + (backend.threads ? `-${backend.threads}t` : ''),
      size, batch, params,
      trainImagesPerSec: round(batch / (trainMs / 1000), 3),
      inferImagesPerSec: round(batch / (inferMs / 1000), 3),
      stepMsMedian: round(trainMs, 1),
    };
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
