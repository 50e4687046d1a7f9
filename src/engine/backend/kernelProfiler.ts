// Per-kernel timing of a backend's work: wraps every registered kernel of the backend and adds up its own time.
import * as tf from '@tensorflow/tfjs-core';

export interface KernelTime {
  kernel: string;
  /** Label of the phase in which the kernel ran (see KernelProfiler.phase). */
  phase: string;
  calls: number;
  /** Exclusive milliseconds: the kernel's time minus that of kernels it ran itself (composed kernels). */
  ms: number;
}

/**
 * Times kernels of `backendName` while installed. Kernels run synchronously on wasm and cpu (XNNPACK's threads join
 * before the call returns), so wall time around a kernel function is its cost. Call `uninstall` to put the original
 * kernel functions back.
 */
export class KernelProfiler {
  phase = '';
  private readonly totals = new Map<string, KernelTime>();
  private readonly originals: tf.KernelConfig[] = [];
  private readonly childMs: number[] = [];

  constructor(private readonly backendName: string) {}

  install(): void {
    for (const config of tf.getKernelsForBackend(this.backendName)) {
      this.originals.push(config);
      const inner = config.kernelFunc;
      tf.unregisterKernel(config.kernelName, this.backendName);
      tf.registerKernel({ ...config, kernelFunc: (args) => this.time(config.kernelName, () => inner(args)) });
    }
  }

  uninstall(): void {
    for (const config of this.originals) {
      tf.unregisterKernel(config.kernelName, this.backendName);
      tf.registerKernel(config);
    }
    this.originals.length = 0;
  }

  reset(): void {
    this.totals.clear();
  }

  /** Totals since the last reset, largest first. */
  results(): KernelTime[] {
    return [...this.totals.values()].sort((a, b) => b.ms - a.ms);
  }

  private time<T>(kernel: string, work: () => T): T {
    this.childMs.push(0);
    const t0 = performance.now();
    try {
      return work();
    } finally {
      const elapsed = performance.now() - t0;
      const children = this.childMs.pop()!;
      if (this.childMs.length) this.childMs[this.childMs.length - 1] += elapsed;
      const key = `${this.phase}\u0000${kernel}`;
      const entry = this.totals.get(key) ?? { kernel, phase: this.phase, calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += elapsed - children;
      this.totals.set(key, entry);
    }
  }
}
