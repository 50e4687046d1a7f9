// Chooses and starts the TensorFlow.js backend for training, and says which one runs and why.
import * as tf from '@tensorflow/tfjs-core';
// A named import: esbuild drops a bare import of this package (its package.json declares no side effects), which would
// leave the bundle without the cpu backend.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import type { BackendChoice } from '../../protocol/config';
import type { BackendReport } from '../../protocol/runFolder';
import { registerActivationGradients } from './activationGradients';
import { registerBatchNormKernels } from './batchNormKernels';
import { registerMovingAverageKernel } from './movingAverageKernel';
import { nativeKernelsFor } from './nativeKernels';
import { registerCorrectedCpuKernels } from './poolingGradients';
import { registerSoftmaxCrossEntropyKernel } from './softmaxCrossEntropyKernel';
import { registerDilatedConvGradients } from './dilatedGradients';
import { enableLayersDilation } from './layersDilation';
import { setLightSaves } from './lightSaves';
import { configureWasm, letWasmThreadsIdle, withThreadCap } from './wasmLoader';
import { registerWasmSpeedKernels, registeredWasmSpeedKernels } from './wasmFastKernels';
import {
  registerWasmTrainingKernels, registeredWasmTrainingKernels, WASM_CORRECTED_KERNELS, WASM_TRAINING_KERNELS,
} from './wasmTrainingKernels';

type BackendName = Exclude<BackendChoice, 'auto'>;

export interface InitBackendOptions {
  /** wasm threads; default: the machine's logical cores, at most 4. 1 = single-threaded. */
  threads?: number;
}

/** The order `auto` tries. */
export const AUTO_ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Extra gradients/patches in effect on every backend (listed in the report's kernels). */
const EVERY_BACKEND = ['Conv2D gradient (dilation > 1)', 'DepthwiseConv2dNative gradient (dilation > 1)',
  'tfjs-layers DepthwiseConv2D dilationRate'];

type Attempt = { ok: true; simd?: boolean; threads?: number; note?: string; native?: BackendReport['nativeKernels'] } | { ok: false; why: string };

export function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, 4));
}

/** First line of an error, without the require stack that Node appends; "not installed" when `pkg` itself is missing. */
function shortError(e: unknown, pkg?: string): string {
  const err = e as NodeJS.ErrnoException;
  const firstLine = String(err?.message ?? e).split('\n')[0];
  if (pkg && err?.code === 'MODULE_NOT_FOUND' && firstLine.includes(`'${pkg}'`)) return 'not installed';
  return firstLine;
}

/** tfjs-node and tfjs-node-gpu both register a backend named 'tensorflow' with the tfjs-core they load. */
function tryNodeBinding(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<Attempt> {
  try {
    // Literal requires so the bundler keeps them as run-time look-ups (they are externals).
    if (pkg === '@tensorflow/tfjs-node-gpu') require('@tensorflow/tfjs-node-gpu');
    else require('@tensorflow/tfjs-node');
  } catch (e) {
    return Promise.resolve({ ok: false, why: `${pkg}: ${shortError(e, pkg)}` });
  }
  if (!tf.findBackendFactory('tensorflow')) {
    return Promise.resolve({ ok: false, why: `${pkg} loaded but registered with another copy of @tensorflow/tfjs-core` });
  }
  return setBackend('tensorflow');
}

async function setBackend(name: string): Promise<Attempt> {
  try {
    if (await tf.setBackend(name)) return { ok: true };
    return { ok: false, why: `${name} failed to initialise` };
  } catch (e) {
    return { ok: false, why: shortError(e) };
  }
}

async function tryWasm(threads: number): Promise<Attempt> {
  let plan;
  try {
    plan = await configureWasm(threads);
  } catch (e) {
    return { ok: false, why: shortError(e) };
  }
  let note = plan.threadsNote;
  let attempt = await withThreadCap(plan.threads, () => withTimeout(setBackend('wasm'), WASM_START_TIMEOUT_MS,
    `wasm did not start within ${WASM_START_TIMEOUT_MS / 1000} s`));
  if (!attempt.ok && plan.threads > 1) {
    // The threaded module failed to start: tfjs keeps the factory, so the single-threaded build can still be tried.
    note = `threaded start failed (${attempt.why})`;
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    attempt = await withTimeout(setBackend('wasm'), WASM_START_TIMEOUT_MS, `wasm did not start within ${WASM_START_TIMEOUT_MS / 1000} s`);
  }
  if (!attempt.ok) return attempt;
  registerWasmTrainingKernels();
  registerWasmSpeedKernels();
  registerActivationGradients();
  registerBatchNormKernels();
  registerMovingAverageKernel();
  registerSoftmaxCrossEntropyKernel();
  letWasmThreadsIdle(tf.findBackend('wasm'));
  const actual = getThreadsCount();
  const kernels = nativeKernelsFor(tf.findBackend('wasm'), actual);
  const native = kernels ? { threads: kernels.threads, fma: kernels.fma }
    : { off: process.env.SEGSCOPE_NATIVE_KERNELS === '0' ? 'SEGSCOPE_NATIVE_KERNELS=0' : 'the wasm heap or SIMD is unavailable' };
  return { ok: true, simd: plan.simd, threads: actual, note, native };
}

/** Generous: compiling the module and starting its workers takes about a second. */
const WASM_START_TIMEOUT_MS = 60_000;

function withTimeout(work: Promise<Attempt>, ms: number, why: string): Promise<Attempt> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Attempt>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, why }), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function tryCpu(): Promise<Attempt> {
  if (!tf.findBackendFactory('cpu')) tf.registerBackend('cpu', () => new MathBackendCPU(), 1);
  registerCorrectedCpuKernels();
  const attempt = await setBackend('cpu');
  // The cpu backend prints "install tfjs-node for speed" on first use; we report the backend ourselves.
  if (attempt.ok) (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return attempt;
}

function attemptBackend(name: BackendName, threads: number): Promise<Attempt> {
  switch (name) {
    case 'tensorflow-gpu': return tryNodeBinding('@tensorflow/tfjs-node-gpu');
    case 'tensorflow': return tryNodeBinding('@tensorflow/tfjs-node');
    case 'wasm': return tryWasm(threads);
    case 'cpu': return tryCpu();
  }
}

/** Anything printed while native/wasm modules start goes to stderr: stdout may carry JSON lines (CLI --json). */
async function withConsoleLogOnStderr<T>(work: () => Promise<T>): Promise<T> {
  const { log, info } = console;
  console.log = console.info = (...args: unknown[]) => console.error(...args);
  try {
    return await work();
  } finally {
    console.log = log;
    console.info = info;
  }
}

function kernelsFor(name: BackendName): string[] {
  if (name !== 'wasm') return [...EVERY_BACKEND];
  const training = registeredWasmTrainingKernels();
  const speed = registeredWasmSpeedKernels();
  // A training kernel may itself have been replaced by a faster version; it is still one we added.
  const added = WASM_TRAINING_KERNELS.filter((k) => training.includes(k) || speed.includes(k));
  const faster = speed.filter((k) => !(WASM_TRAINING_KERNELS as readonly string[]).includes(k)).map((k) => `${k} (faster)`);
  const corrected = WASM_CORRECTED_KERNELS.filter((k) => training.includes(k)).map((k) => `${k} (corrected)`);
  return [...added, ...faster, ...corrected, 'Relu/Relu6 gradients (one pass)', 'BatchNorm training (one pass each way)',
    'softmax cross-entropy (one pass, fused gradient)',
    ...EVERY_BACKEND];
}

const done = new Map<string, BackendReport>();

/**
 * Starts the backend: `auto` tries tensorflow-gpu, tensorflow (tfjs-node), wasm, then cpu; any other choice forces that
 * backend and throws if it cannot start. Calling again with the same choice returns the same report (and re-activates
 * that backend if something switched away).
 */
export async function initBackend(choice: BackendChoice, opts: InitBackendOptions = {}): Promise<BackendReport> {
  registerDilatedConvGradients();
  enableLayersDilation();
  setLightSaves(process.env.SEGSCOPE_LIGHT_SAVES !== '0');
  const threads = Math.max(1, Math.floor(opts.threads ?? defaultThreads()));
  const key = `${choice}/${threads}`;
  const previous = done.get(key);
  if (previous) {
    const tfName = previous.name.startsWith('tensorflow') ? 'tensorflow' : previous.name;
    if (tf.getBackend() !== tfName) await tf.setBackend(tfName);
    return previous;
  }
  const report = await withConsoleLogOnStderr(async () => {
    const order = choice === 'auto' ? AUTO_ORDER : [choice];
    const skipped: BackendReport['skipped'] = [];
    for (const name of order) {
      const attempt = await attemptBackend(name, threads);
      if (!attempt.ok) {
        skipped.push({ name, why: attempt.why });
        continue;
      }
      const result: BackendReport = {
        name,
        reason: choice === 'auto' ? `first available of ${AUTO_ORDER.join(', ')}` : `forced by config (backend: '${choice}')`,
        skipped,
        kernels: kernelsFor(name),
      };
      if (name === 'wasm') {
        result.simd = attempt.simd;
        result.threads = attempt.threads;
        result.nativeKernels = attempt.native;
        if (attempt.note && (attempt.threads ?? 1) < threads) result.reason += `; threads: ${attempt.note}`;
      }
      return result;
    }
    const why = skipped.map((s) => `${s.name}: ${s.why}`).join('; ');
    if (choice !== 'auto') throw new Error(`Backend '${choice}' is not available (${why}). ${installHint(choice)}`);
    throw new Error(`No TensorFlow.js backend could start (${why})`);
  });
  done.set(key, report);
  return report;
}

function installHint(choice: BackendChoice): string {
  if (choice === 'tensorflow-gpu') {
    return 'Install it next to SegScope with `npm install @tensorflow/tfjs-node-gpu` (Linux x64, CUDA 11.2, cuDNN 8.1); see docs/backends.md.';
  }
  if (choice === 'tensorflow') return 'Install it next to SegScope with `npm install @tensorflow/tfjs-node`; see docs/backends.md.';
  return 'Use "backend": "auto" to fall back to another backend.';
}
