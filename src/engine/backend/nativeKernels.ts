// Runs SegScope's wasm SIMD kernels (native/*.c) on tfjs-backend-wasm's own heap, split over two threads when the heap is shared.
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import {
  PLAIN_MEMORY_KERNELS, PLAIN_MEMORY_KERNELS_FMA, SHARED_MEMORY_KERNELS, SHARED_MEMORY_KERNELS_FMA,
} from './native/nativeKernelsBinary';
import type { WasmBackendInternals } from './wasmHeap';
import { threadsFromEnv } from './threadsFromEnv';

/** The kernels' exports; every argument is a byte offset into the heap, an int, or (adam_update) a float. */
export const NATIVE_KERNEL_NAMES = [
  'relu_grad', 'relu6_grad', 'bn_sums', 'bn_apply', 'bn_grad_sums', 'bn_grad_apply',
  'depthwise_input_grad', 'depthwise_filter_grad', 'transpose2d', 'matmul_at_b', 'conv_filter_grad', 'adam_update',
  'softmax_ce', 'relu_forward', 'relu6_forward', 'matmul_a_b', 'bias_activation', 'depthwise_forward',
  'resize_bilinear_grad', 'copy_rows', 'bn_apply_act', 'bn_act_grad_sums', 'bn_act_grad_apply', 'pad_hw',
  'zero_doubles', 'sum_parts', 'resize_bilinear', 'add_arrays', 'pack_b',
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

/**
 * The compiled kernels: the fused multiply-add build where the engine accepts relaxed SIMD (newer engines have it on;
 * Node 20's V8 needs its flag, set here only when the first compile fails), else the plain one. SEGSCOPE_FMA=0 forces
 * the plain one.
 */
function compileKernels(shared: boolean): { module: WasmModule; fma: boolean } {
  const compile = (base64: string) => new WebAssemblyApi.Module(Buffer.from(base64, 'base64'));
  const plain = () => compile(shared ? SHARED_MEMORY_KERNELS : PLAIN_MEMORY_KERNELS);
  if (process.env.SEGSCOPE_FMA === '0') return { module: plain(), fma: false };
  const fma = shared ? SHARED_MEMORY_KERNELS_FMA : PLAIN_MEMORY_KERNELS_FMA;
  for (const flag of [null, '--experimental-wasm-relaxed-simd']) {
    try {
      if (flag) v8.setFlagsFromString(flag);
      return { module: compile(fma), fma: true };
    } catch {
      // not accepted (yet): try with the flag, then fall back to the plain build
    }
  }
  return { module: plain(), fma: false };
}

export class NativeKernels {
  private readonly fns: Record<NativeKernelName, KernelFn>;
  private readonly helper: KernelThread | null;
  /** Whether the kernels use fused multiply-adds (relaxed SIMD); the backend report says so. */
  readonly fma: boolean;
  /** Calls per kernel, and how many of them were split over two threads (tests and the profile read these). */
  readonly counts = new Map<NativeKernelName, { calls: number; split: number }>();
  /** Milliseconds this thread has waited for the helper to finish its share of a call (the step profile prints it). */
  waitedMs = 0;

  constructor(private readonly backend: HeapBackend, private readonly memory: WasmMemory, threads: number) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const { module, fma } = compileKernels(shared);
    this.fma = fma;
    const instance = new WebAssemblyApi.Instance(module, { env: { memory } });
    this.fns = Object.fromEntries(NATIVE_KERNEL_NAMES.map((n) => [n, instance.exports[n] as KernelFn])) as Record<NativeKernelName, KernelFn>;
    this.helper = shared && threadsFromEnv('SEGSCOPE_NATIVE_THREADS', threads) > 1 ? new KernelThread(module, memory) : null;
  }

  /** The helper thread (null on one thread): tests read `helperChunks`, `chunksPublished`, `chunksRun` and set `helperFirst`, `claimDelay`, `publishDelay`. */
  get helperThread(): Pick<KernelThread, 'helperChunks' | 'helperFirst' | 'claimDelay' | 'publishDelay' | 'chunksPublished' | 'chunksRun'> | null {
    return this.helper;
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

  /**
   * Runs a kernel over [0, count) (rows or elements) whose parts write disjoint outputs: `args(begin, end)` gives its
   * arguments for a range and must end with begin, end. With two threads the range is cut into chunks that both take
   * as they come, so neither waits for the other to wake up or to finish an unequal half.
   */
  run(name: NativeKernelName, count: number, elementsPerUnit: number, args: (begin: number, end: number) => number[]): void {
    const counted = this.count(name);
    if (!this.helper || count < 2 || count * elementsPerUnit < SPLIT_MIN_ELEMENTS) {
      this.fns[name](...args(0, count));
      return;
    }
    counted.split += 1;
    const template = this.rangeTemplate(name, count, args);
    const chunkUnits = Math.max(CHUNK_ALIGN, Math.ceil(Math.max(CHUNK_ELEMENTS / elementsPerUnit, count / MAX_CHUNKS) / CHUNK_ALIGN) * CHUNK_ALIGN);
    this.waitedMs += this.helper.share(NATIVE_KERNEL_NAMES.indexOf(name), template, count, chunkUnits, this.fns[name]);
  }

  /**
   * How many accumulator slots a reduction over [0, count) uses (see runReduction): 1 on one thread or for a call too
   * small to share; else up to MAX_SLOTS, fewer when `slotBytes` each would pass SLOT_BUDGET_BYTES (at least 2). It
   * depends only on the sizes, so the sums are formed in the same order on every run.
   */
  reductionSlots(count: number, elementsPerUnit: number, slotBytes: number): number {
    if (!this.helper || count < 2 || count * elementsPerUnit < SPLIT_MIN_ELEMENTS) return 1;
    const wanted = Math.min(MAX_SLOTS, count, Math.floor(SLOT_BUDGET_BYTES / slotBytes), Math.ceil(count * elementsPerUnit / CHUNK_ELEMENTS));
    const units = Math.ceil(count / Math.max(2, wanted));
    return Math.ceil(count / units);
  }

  /**
   * Runs a kernel that adds into accumulators over [0, count) in `slots` chunks (from reductionSlots): chunk i writes
   * the slot at byte offset i·slotBytes, and both threads claim chunks as they come. With `threadBytes`, arguments that
   * move by the thread offset point at per-thread scratch (thread 0 this one, 1 the helper; 2·threadBytes in all).
   * `args(begin, end, slotOffset, threadOffset)` must end with begin, end. The caller adds the slots up in order.
   */
  runReduction(
    name: NativeKernelName, count: number, slots: number, slotBytes: number,
    args: (begin: number, end: number, slotOffset: number, threadOffset: number) => number[], threadBytes = 0,
  ): void {
    const counted = this.count(name);
    if (!this.helper || slots < 2) {
      this.fns[name](...args(0, count, 0, 0));
      return;
    }
    counted.split += 1;
    const template = this.rangeTemplate(name, count, (b, e) => args(b, e, 0, 0));
    const moving = (moved: number[], by: number, what: string) => moved.reduce((mask, v, i) => {
      if (v === template[i]) return mask;
      if (v - template[i] !== by) throw new Error(`native kernel ${name}: argument ${i} moves by ${v - template[i]}, not by the ${what}`);
      return mask | (1 << i);
    }, 0);
    const slotArgs = moving(args(0, count, slotBytes, 0), slotBytes, 'slot size');
    const threadArgs = threadBytes > 0 ? moving(args(0, count, 0, threadBytes), threadBytes, 'thread scratch size') : 0;
    this.waitedMs += this.helper.share(NATIVE_KERNEL_NAMES.indexOf(name), template, count, Math.ceil(count / slots), this.fns[name],
      { slotArgs, slotBytes, threadArgs, threadBytes });
  }

  /** `parts` float64 accumulators of n values each, zeroed, at a 16-byte aligned address; free `raw` after use. */
  zeroedAccumulators(parts: number, n: number): { raw: number; acc: number } {
    const raw = this.malloc(parts * n * 8 + 16);
    const acc = Math.ceil(raw / 16) * 16;
    try {
      this.run('zero_doubles', parts * n, 1, (begin, end) => [acc, begin, end]);
    } catch (e) {
      this.free(raw);
      throw e;
    }
    return { raw, acc };
  }

  /** out (float32, n values at byte offset `out`) = the sum of the `parts` accumulators at `acc`, in part order. */
  sumAccumulators(acc: number, parts: number, n: number, out: number): void {
    this.run('sum_parts', n, parts, (begin, end) => [acc, parts, n, out, begin, end]);
  }

  /** The arguments for the whole range, checked to end with it (the threads substitute their chunk's range). */
  private rangeTemplate(name: NativeKernelName, count: number, args: (begin: number, end: number) => number[]): number[] {
    const template = args(0, count);
    if (template[template.length - 2] !== 0 || template[template.length - 1] !== count) {
      throw new Error(`native kernel ${name}: its arguments must end with the range (begin, end)`);
    }
    return template;
  }

  private count(name: NativeKernelName): { calls: number; split: number } {
    const counted = this.counts.get(name) ?? { calls: 0, split: 0 };
    this.counts.set(name, counted);
    counted.calls += 1;
    return counted;
  }
}

/** Shared chunks: about this many elements each (fewer when the kernel is small), at most MAX_CHUNKS, CHUNK_ALIGN units apart. */
const CHUNK_ELEMENTS = 1 << 15, MAX_CHUNKS = 32, CHUNK_ALIGN = 4;
/** Reductions: at most MAX_SLOTS per-chunk accumulators, together at most SLOT_BUDGET_BYTES (but always two). */
const MAX_SLOTS = 16, SLOT_BUDGET_BYTES = 4 << 20;

/**
 * Control words shared with the helper thread. SEQ: call number, 1..32767 (the helper sleeps on it). TICKET: SEQ·2¹⁶ +
 * the call's chunk count·2⁸ + the next unclaimed chunk — a chunk is claimed by a compare-exchange of the word it was
 * read from, which proves the call is still current and not exhausted, so everything else (FN, ARGC, the arguments)
 * is read only after a claim; between calls TICKET is CLOSED. COMPLETED: chunks finished. The arguments travel
 * separately as float64 (ints and floats alike).
 */
/** TICKET between calls: SEQ 0, which no call has (sequence numbers start at 1 and skip 0 when they wrap). */
const CLOSED = 0;
const SEQ = 0, TICKET = 1, COMPLETED = 2, FN = 3, ARGC = 4, COUNT = 5, CHUNK_UNITS = 6, FAILED = 7;
/** HELPER_CHUNKS: chunks the helper has run since it started (tests read it). SLOT_ARGS (bit i: argument i) and
 * SLOT_BYTES: arguments that move by chunk·SLOT_BYTES (a reduction's accumulators); THREAD_ARGS and THREAD_BYTES: by
 * thread·THREAD_BYTES (per-thread scratch; the calling thread is 0, the helper 1). CLAIM_DELAY: for tests, a busy
 * wait of the helper between reading a ticket and claiming it. CHUNKS_RUN: chunks run by both threads since the start
 * (tests compare it with the chunks published). */
const HELPER_CHUNKS = 8, SLOT_ARGS = 9, SLOT_BYTES = 10, THREAD_ARGS = 11, THREAD_BYTES = 12, CLAIM_DELAY = 13, CHUNKS_RUN = 14;
const CONTROL_WORDS = 15, MAX_ARGS = 20;

/** How long the helper thread polls for the next kernel before it sleeps (~20–50 µs; measured best of 0, 2·10⁴, 10⁵, 4·10⁵: 188 vs 217 ms per 128² step without polling). */
const SPIN_ITERATIONS = 20000;

/**
 * Claims and runs chunks of the current call until none is left (both threads use this); the helper counts its chunks
 * in HELPER_CHUNKS before it reports each one completed.
 */
const CLAIM_SOURCE = `
let lastError = null;
function takeError() { const e = lastError; lastError = null; return e; }
function runChunks(ctrl, argv, fns, seq, isHelper) {
  const args = [];
  for (;;) {
    const ticket = Atomics.load(ctrl, ${TICKET});
    if (isHelper) for (let i = ctrl[${CLAIM_DELAY}]; i > 0; i--); // tests: widen the window between reading and claiming
    if ((ticket >>> 16) !== seq) return;
    const chunk = ticket & 255;
    if (chunk >= ((ticket >>> 8) & 255)) return;
    if (Atomics.compareExchange(ctrl, ${TICKET}, ticket, ticket + 1) !== ticket) continue;
    const argc = ctrl[${ARGC}], units = ctrl[${CHUNK_UNITS}], slotArgs = ctrl[${SLOT_ARGS}], slotOffset = chunk * ctrl[${SLOT_BYTES}];
    const threadArgs = ctrl[${THREAD_ARGS}], threadOffset = isHelper ? ctrl[${THREAD_BYTES}] : 0;
    args.length = argc;
    for (let i = 0; i < argc; i++) {
      args[i] = argv[i] + ((slotArgs >> i) & 1 ? slotOffset : 0) + ((threadArgs >> i) & 1 ? threadOffset : 0);
    }
    args[argc - 2] = chunk * units;
    args[argc - 1] = Math.min(ctrl[${COUNT}], (chunk + 1) * units);
    try {
      fns[ctrl[${FN}]].apply(undefined, args);
    } catch (e) {
      // FAILED says which kernel (index + 1); the thread that caught it keeps the error for its report.
      if (Atomics.compareExchange(ctrl, ${FAILED}, 0, ctrl[${FN}] + 1) === 0) lastError = { error: e, fn: ctrl[${FN}] };
    }
    if (isHelper) Atomics.add(ctrl, ${HELPER_CHUNKS}, 1);
    Atomics.add(ctrl, ${CHUNKS_RUN}, 1);
    Atomics.add(ctrl, ${COMPLETED}, 1);
    Atomics.notify(ctrl, ${COMPLETED});
  }
}
`;

/** The source of the helper thread: waits for a call, then claims and runs its chunks. */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const names = ${JSON.stringify(NATIVE_KERNEL_NAMES)};
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
const fns = names.map((n) => instance.exports[n]);
const ctrl = new Int32Array(workerData.control);
const argv = new Float64Array(workerData.args);
${CLAIM_SOURCE}
let seen = 0;
const spins = ${SPIN_ITERATIONS};
for (;;) {
  // Kernels come in bursts (one per layer): spin a little before sleeping, so the next one does not pay a wake-up.
  for (let i = 0; i < spins && Atomics.load(ctrl, ${SEQ}) === seen; i++);
  if (Atomics.load(ctrl, ${SEQ}) === seen) Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  runChunks(ctrl, argv, fns, seen, true);
  const failure = takeError();
  if (failure) console.error('SegScope native kernel ' + names[failure.fn] + ' failed on the helper thread: ' + (failure.error && failure.error.stack || failure.error));
}
`;

const { runChunks, takeError } = new Function(`${CLAIM_SOURCE}; return { runChunks, takeError };`)() as {
  runChunks: (ctrl: Int32Array, argv: Float64Array, fns: KernelFn[], seq: number, isHelper: boolean) => void;
  takeError: () => { error: unknown; fn: number } | null;
};

/** Arguments that move per chunk (slots) and per thread (scratch): bit masks over the argument indices, and the steps. */
interface MovingArgs { slotArgs: number; slotBytes: number; threadArgs: number; threadBytes: number }
const NOT_MOVING: MovingArgs = { slotArgs: 0, slotBytes: 0, threadArgs: 0, threadBytes: 0 };

/** One helper thread sharing the heap; the calling thread works on the same call. */
class KernelThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  /** Byte offsets above 2³¹ stay exact here and wrap to the same i32 as before when passed to the kernel. */
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * MAX_ARGS));
  private seq = 0;
  private chunks = 0;
  /** For tests: each shared call waits until the helper has claimed a chunk, so the helper's part is always exercised. */
  helperFirst = false;

  /** For tests: the helper busy-waits this many iterations between reading a ticket and claiming it. */
  set claimDelay(iterations: number) {
    Atomics.store(this.control, CLAIM_DELAY, iterations);
  }

  /** For tests: this thread busy-waits this many iterations between writing a call's words and opening its ticket. */
  publishDelay = 0;

  /** For tests: chunks published (every shared call's chunk count added up) and chunks run by either thread. */
  chunksPublished = 0;
  get chunksRun(): number {
    return Atomics.load(this.control, CHUNKS_RUN);
  }

  constructor(module: WasmModule, memory: WasmMemory) {
    // Unreferenced: an idle helper must not keep the process alive.
    new Worker(THREAD_SOURCE, { eval: true, workerData: { module, memory, control: this.control.buffer, args: this.args.buffer } }).unref();
  }

  /** Publishes a call: `chunks` chunks for the helper (and, when shared, this thread) to claim. */
  private publish(fn: number, args: number[], chunks: number, count: number, chunkUnits: number, moving: MovingArgs): void {
    if (args.length > MAX_ARGS) throw new Error(`native kernel call with ${args.length} arguments (at most ${MAX_ARGS})`);
    if (chunks > 255) throw new Error(`native kernel call in ${chunks} chunks (at most 255)`);
    const c = this.control;
    // Close the previous call first: a thread still holding one of its tickets fails its compare-exchange.
    Atomics.store(c, TICKET, CLOSED);
    c[FN] = fn; c[ARGC] = args.length; c[COUNT] = count; c[CHUNK_UNITS] = chunkUnits;
    c[SLOT_ARGS] = moving.slotArgs; c[SLOT_BYTES] = moving.slotBytes; c[THREAD_ARGS] = moving.threadArgs; c[THREAD_BYTES] = moving.threadBytes;
    this.args.set(args);
    Atomics.store(c, COMPLETED, 0);
    this.seq = (this.seq + 1) & 0x7fff || 1;
    this.chunks = chunks;
    this.chunksPublished += chunks;
    for (let i = this.publishDelay; i > 0; i--); // tests: widen the window in which the words are new and the ticket old
    Atomics.store(c, TICKET, (this.seq << 16) | (chunks << 8));
    Atomics.store(c, SEQ, this.seq);
    Atomics.notify(c, SEQ);
  }

  /** A shared call: both threads claim chunks of [0, count); returns when all have run, with the ms spent waiting. */
  share(fn: number, template: number[], count: number, chunkUnits: number, kernel: KernelFn, moving: MovingArgs = NOT_MOVING): number {
    const chunks = Math.ceil(count / chunkUnits);
    this.publish(fn, template, chunks, count, chunkUnits, moving);
    const fns: KernelFn[] = [];
    fns[fn] = kernel;
    while (this.helperFirst && (Atomics.load(this.control, TICKET) & 255) === 0);
    runChunks(this.control, this.args, fns, this.seq, false); // a kernel that throws sets FAILED; join reports it
    return this.join();
  }

  /** Chunks (or fixed parts) the helper thread has run so far. */
  get helperChunks(): number {
    return Atomics.load(this.control, HELPER_CHUNKS);
  }

  /** Waits until every chunk of the call has run; returns the ms waited (0 when nothing was left). */
  join(): number {
    if (Atomics.load(this.control, COMPLETED) >= this.chunks) return this.checkFailed(0);
    const t0 = performance.now();
    // Spin briefly (the other thread's chunk usually ends soon), then sleep.
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(this.control, COMPLETED);
      if (done >= this.chunks) break;
      if (spins > 2000) Atomics.wait(this.control, COMPLETED, done, 1);
    }
    return this.checkFailed(performance.now() - t0);
  }

  private checkFailed(waitedMs: number): number {
    const failed = Atomics.exchange(this.control, FAILED, 0);
    const failure = takeError();
    if (failed !== 0) {
      const name = NATIVE_KERNEL_NAMES[failed - 1];
      const why = failure ? `: ${String((failure.error as Error)?.message ?? failure.error)}` : ' on the helper thread (its stderr has the error)';
      throw new Error(`SegScope's native kernel ${name} failed${why}`);
    }
    return waitedMs;
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
