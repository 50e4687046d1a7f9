// Runs SegScope's wasm SIMD kernels (native/*.c) on tfjs-backend-wasm's own heap, split over two threads when the heap is shared.
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { PLAIN_MEMORY_KERNELS, SHARED_MEMORY_KERNELS } from './native/nativeKernelsBinary';
import type { WasmBackendInternals } from './wasmHeap';
import { threadsFromEnv } from './threadsFromEnv';

/** The kernels' exports; every argument is a byte offset into the heap, an int, or (adam_update) a float. */
export const NATIVE_KERNEL_NAMES = [
  'relu_grad', 'relu6_grad', 'bn_sums', 'bn_apply', 'bn_grad_sums', 'bn_grad_apply',
  'depthwise_input_grad', 'depthwise_filter_grad', 'transpose2d', 'matmul_at_b', 'conv_filter_grad', 'adam_update',
  'softmax_ce_grad', 'relu_forward', 'relu6_forward', 'matmul_a_b', 'bias_activation', 'depthwise_forward',
  'resize_bilinear_grad', 'copy_rows', 'bn_apply_act', 'bn_act_grad_sums', 'bn_act_grad_apply',
] as const;
export type NativeKernelName = typeof NATIVE_KERNEL_NAMES[number];
type KernelFn = (...args: number[]) => void;

/** The WebAssembly API as used here (the project's TypeScript lib has no WebAssembly typings). */
interface WasmMemory { buffer: ArrayBufferLike }
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Below this many elements a second thread costs more (wake-up ~20–50 µs) than it saves. */
const SPLIT_MIN_ELEMENTS = 1 << 16;

interface HeapBackend extends WasmBackendInternals {
  wasm: WasmBackendInternals['wasm'] & {
    wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory };
    _malloc(bytes: number): number; _free(ptr: number): void;
  };
}

export class NativeKernels {
  private readonly fns: Record<NativeKernelName, KernelFn>;
  private readonly helper: KernelThread | null;
  /** Calls per kernel, and how many of them were split over two threads (tests and the profile read these). */
  readonly counts = new Map<NativeKernelName, { calls: number; split: number }>();

  constructor(private readonly backend: HeapBackend, private readonly memory: WasmMemory, threads: number) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssemblyApi.Module(Buffer.from(shared ? SHARED_MEMORY_KERNELS : PLAIN_MEMORY_KERNELS, 'base64'));
    const instance = new WebAssemblyApi.Instance(module, { env: { memory } });
    this.fns = Object.fromEntries(NATIVE_KERNEL_NAMES.map((n) => [n, instance.exports[n] as KernelFn])) as Record<NativeKernelName, KernelFn>;
    this.helper = shared && threadsFromEnv('SEGSCOPE_NATIVE_THREADS', threads) > 1 ? new KernelThread(module, memory) : null;
  }

  /** Threads the kernels run on (1, or 2 with the threaded backend). */
  get threads(): number {
    return this.helper ? 2 : 1;
  }

  /** Byte offset of a tensor's data in the heap. */
  offset(info: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(info.dataId).memoryOffset >>> 0;
  }

  /** Heap memory for scratch; unsigned (Emscripten returns addresses above 2 GiB as negative numbers). */
  malloc(bytes: number): number {
    const ptr = this.backend.wasm._malloc(bytes) >>> 0;
    if (ptr === 0) throw new Error(`the wasm heap is full (asked for ${bytes} bytes of scratch)`);
    return ptr;
  }

  free(ptr: number): void {
    this.backend.wasm._free(ptr);
  }

  /** The heap's current buffer (it can grow between calls; take views after allocating). */
  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /** Runs a kernel over [0, count) (rows or elements): `args(begin, end, part)` gives its arguments for each part. */
  run(name: NativeKernelName, count: number, elementsPerUnit: number, args: (begin: number, end: number, part: number) => number[]): void {
    const counted = this.counts.get(name) ?? { calls: 0, split: 0 };
    this.counts.set(name, counted);
    counted.calls += 1;
    if (!this.helper || count < 2 || count * elementsPerUnit < SPLIT_MIN_ELEMENTS) {
      this.fns[name](...args(0, count, 0));
      return;
    }
    counted.split += 1;
    const mid = count >> 1;
    this.helper.start(NATIVE_KERNEL_NAMES.indexOf(name), args(mid, count, 1));
    try {
      this.fns[name](...args(0, mid, 0));
    } finally {
      this.helper.join();
    }
  }
}

/** Control words shared with the helper thread; the arguments travel separately as float64 (ints and floats alike). */
const SEQ = 0, DONE = 1, FN = 2, FAILED = 3, CONTROL_WORDS = 4, MAX_ARGS = 20;

/** How long the helper thread polls for the next kernel before it sleeps (~20–50 µs; measured best of 0, 2·10⁴, 10⁵, 4·10⁵: 188 vs 217 ms per 128² step without polling). */
const SPIN_ITERATIONS = 20000;

/** The source of the helper thread: waits for a request, runs the kernel, reports completion. */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const names = ${JSON.stringify(NATIVE_KERNEL_NAMES)};
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
const fns = names.map((n) => instance.exports[n]);
const ctrl = new Int32Array(workerData.control);
const argv = new Float64Array(workerData.args);
let seen = 0;
const spins = ${SPIN_ITERATIONS};
for (;;) {
  // Kernels come in bursts (one per layer): spin a little before sleeping, so the next one does not pay a wake-up.
  for (let i = 0; i < spins && Atomics.load(ctrl, ${SEQ}) === seen; i++);
  if (Atomics.load(ctrl, ${SEQ}) === seen) Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  const fn = fns[ctrl[${FN}]];
  const args = Array.from(argv);
  try { fn(...args); } catch (e) { Atomics.store(ctrl, ${FAILED}, 1); }
  Atomics.store(ctrl, ${DONE}, seen);
  Atomics.notify(ctrl, ${DONE});
}
`;

/** One helper thread sharing the heap; the caller runs the other half of each kernel itself. */
class KernelThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  /** Byte offsets above 2³¹ stay exact here and wrap to the same i32 as before when passed to the kernel. */
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * MAX_ARGS));
  private seq = 0;

  constructor(module: WasmModule, memory: WasmMemory) {
    // Unreferenced: an idle helper must not keep the process alive.
    new Worker(THREAD_SOURCE, { eval: true, workerData: { module, memory, control: this.control.buffer, args: this.args.buffer } }).unref();
  }

  start(fn: number, args: number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`native kernel call with ${args.length} arguments (at most ${MAX_ARGS})`);
    this.control[FN] = fn;
    this.args.fill(0);
    this.args.set(args);
    this.seq += 1;
    Atomics.store(this.control, SEQ, this.seq);
    Atomics.notify(this.control, SEQ);
  }

  join(): void {
    // Spin briefly (the other half usually finishes at about the same time), then sleep.
    for (let spins = 0; Atomics.load(this.control, DONE) !== this.seq; spins++) {
      if (spins > 2000) Atomics.wait(this.control, DONE, Atomics.load(this.control, DONE), 1);
    }
    if (Atomics.exchange(this.control, FAILED, 0) !== 0) throw new Error('a native kernel failed on the helper thread');
  }
}

const instances = new WeakMap<object, NativeKernels | null>();

/**
 * The kernels for this wasm backend, or null when they cannot run (no SIMD, no memory object, or switched off with
 * SEGSCOPE_NATIVE_KERNELS=0 — the JavaScript loops are then used). Made once per backend.
 */
export function nativeKernelsFor(backend: unknown, threads = 2): NativeKernels | null {
  const key = backend as object;
  if (instances.has(key)) return instances.get(key)!;
  let kernels: NativeKernels | null = null;
  const heap = backend as HeapBackend;
  // The threaded build keeps its memory on the module; the single-threaded one exports it from the instance.
  const memory = heap.wasm?.wasmMemory ?? heap.wasm?.asm?.memory;
  if (process.env.SEGSCOPE_NATIVE_KERNELS !== '0' && memory instanceof WebAssemblyApi.Memory && typeof heap.wasm._malloc === 'function') {
    try {
      kernels = new NativeKernels(heap, memory, threads);
    } catch {
      kernels = null; // e.g. a runtime without wasm SIMD: the JavaScript loops still work
    }
  }
  instances.set(key, kernels);
  return kernels;
}
