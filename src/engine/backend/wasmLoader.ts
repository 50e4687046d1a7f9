// Loads tfjs-backend-wasm in Node: finds the .wasm binaries on disk and, when asked, turns on its pthreads build.
import * as tf from '@tensorflow/tfjs-core';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { threadsFromEnv } from './threadsFromEnv';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';
const THREADED_BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';

/**
 * The folder holding the .wasm binaries: next to the running bundle (the build copies them into dist/), else the
 * package's own dist/ folder in node_modules (tests and tools run from source).
 */
export function findWasmFolder(): string {
  const candidates: string[] = [];
  if (typeof __dirname === 'string') candidates.push(__dirname);
  try {
    candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
  } catch {
    // not resolvable from here (e.g. a packaged extension without node_modules): the bundle folder must do
  }
  const found = candidates.find((dir) => existsSync(path.join(dir, SIMD_BINARY)));
  if (!found) throw new Error(`tfjs-backend-wasm binaries (${SIMD_BINARY}) not found in ${candidates.join(' or ')}`);
  return found;
}

/** What the wasm module will use, known before it starts. */
export interface WasmPlan {
  folder: string;
  simd: boolean;
  /** Threads asked of XNNPACK; 1 means the single-threaded binary. */
  threads: number;
  /** Why threads are off, when they are. */
  threadsNote?: string;
}

let configured: WasmPlan | null = null;

/**
 * Points tfjs-backend-wasm at its binaries and chooses single- or multi-threaded. Must run before the wasm backend
 * initialises; later calls return the first plan unchanged (tfjs cannot restart a wasm module).
 */
export async function configureWasm(threads: number): Promise<WasmPlan> {
  if (configured) return configured;
  const folder = findWasmFolder();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let plan: WasmPlan = { folder, simd, threads: 1 };
  if (threads > 1) {
    const why = threadsUnavailable(folder, simd);
    if (why) plan = { ...plan, threadsNote: why };
    else {
      enableNodeThreads();
      wasmBackend.setThreadsCount(threadsFromEnv('SEGSCOPE_XNNPACK_THREADS', threads));
      plan = { ...plan, threads };
    }
  } else {
    plan.threadsNote = 'single thread requested';
  }
  if (plan.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasmBackend.setWasmPaths(folder.endsWith(path.sep) ? folder : folder + path.sep);
  configured = plan;
  return plan;
}

function threadsUnavailable(folder: string, simd: boolean): string | null {
  if (!simd) return 'the threaded wasm build needs SIMD, which this runtime lacks';
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is unavailable';
  if (!existsSync(path.join(folder, THREADED_BINARY))) return `${THREADED_BINARY} not found in ${folder}`;
  return null;
}

/**
 * tfjs-backend-wasm 4.22 switches threads off in Node (tensorflow/tfjs#3830) and hands Emscripten's pthread workers
 * `blob:` URLs that worker_threads cannot load. We write the worker and the module factory to files and answer the
 * loader's createObjectURL calls with those paths.
 */
function enableNodeThreads(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as
    { wasmWorkerContents: string };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as
    ((...args: unknown[]) => unknown) | { default: (...args: unknown[]) => unknown };
  const factoryFn = typeof factory === 'function' ? factory : factory.default;
  const mainScript = `var WasmBackendModuleThreadedSimd = ${factoryFn.toString()};\n`;

  const dir = path.join(os.tmpdir(), `segscope-wasm-threads-${createHash('sha1').update(wasmWorkerContents + mainScript).digest('hex').slice(0, 12)}`);
  const mainPath = path.join(dir, 'wasm-module.js');
  const workerPath = path.join(dir, 'wasm-worker.cjs');
  // Inside the worker the module arrives as a Blob; resolve it to the file instead of a blob: URL.
  // Like the upstream loader, escape the newlines the template literal produced from `\n` escapes.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');
  const workerScript = `URL.createObjectURL = () => ${JSON.stringify(mainPath)}; URL.revokeObjectURL = () => {};\n` + workerSource;
  writeOnce(dir, mainPath, mainScript);
  writeOnce(dir, workerPath, workerScript);

  // The loader builds the worker Blob from wasmWorkerContents with newlines escaped; recognise it by type and size.
  const workerBlobSize = Buffer.byteLength(workerSource);
  const original = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob) => {
    if (obj instanceof Blob && obj.type === 'application/javascript' && obj.size === workerBlobSize) return workerPath;
    return original(obj);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
}

/**
 * The wasm module caps XNNPACK's pool at half of os.cpus().length, read once while it starts (2 cores → 1 thread).
 * While `start` runs, report at least twice the wanted thread count so the requested count takes effect.
 */
export async function withThreadCap<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const original = os.cpus;
  if (threads <= 1 || original().length >= 2 * threads) return start();
  os.cpus = () => {
    const real = original();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]);
  };
  try {
    return await start();
  } finally {
    os.cpus = original;
  }
}

/**
 * Emscripten ref()s each worker that runs a pthread, so XNNPACK's idle pool would keep Node alive forever.
 * The pool is created while the backend starts; unref its workers so the process can exit when its work is done.
 */
export function letWasmThreadsIdle(backend: unknown): void {
  const pthreads = (backend as { wasm?: { PThread?: { runningWorkers?: { unref?: () => void }[] } } }).wasm?.PThread;
  for (const worker of pthreads?.runningWorkers ?? []) worker.unref?.();
}

/** Writes atomically, and rewrites a file whose content is not what we expect (a worker error kills the process). */
function writeOnce(dir: string, file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}
