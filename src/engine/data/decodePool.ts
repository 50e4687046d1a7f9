// Runs render jobs on one worker thread so that JPEG/PNG decoding does not stall the training step on the main thread.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DecodeRequest } from './decodeWorker';
import type { RenderJob, RenderResult, RenderSettings } from './sampleRenderer';

/**
 * The worker script: `decodeWorker.js` next to the running bundle (dist/, built by scripts/build.mjs) or next to this
 * file; `decodeWorker.ts` when running from source under tsx.
 */
export function findWorkerScript(): { file: string; execArgv?: string[] } | null {
  const js = path.join(__dirname, 'decodeWorker.js');
  if (existsSync(js)) return { file: js };
  const ts = path.join(__dirname, 'decodeWorker.ts');
  // From source (tests, tsx): tsx's CommonJS hook, because an inherited `--import tsx` registers its hooks too late
  // for a worker's entry file on Node 20.
  if (existsSync(ts)) return { file: ts, execArgv: ['--require', 'tsx/cjs'] };
  return null;
}

export class DecodeWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: RenderResult) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  private closed = false;

  private constructor(private readonly worker: Worker) {
    // Idle workers must not keep the process alive; a worker with jobs in flight must.
    worker.unref();
    worker.on('message', (message: { id: number; result: RenderResult }) => {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      entry.resolve(message.result);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`decode worker exited (code ${code})`)));
  }

  /** Starts a worker, or returns null when its script is not there (the caller then decodes on its own thread). */
  static start(settings: RenderSettings): DecodeWorker | null {
    const script = findWorkerScript();
    if (!script) return null;
    return new DecodeWorker(new Worker(script.file, { workerData: { settings }, execArgv: script.execArgv }));
  }

  /** Renders one job on the worker; rejects only if the worker itself died. */
  run(job: RenderJob): Promise<RenderResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<RenderResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, job } satisfies DecodeRequest);
    });
  }

  /** Stops the worker; jobs still in flight are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.worker.removeAllListeners('message');
    this.fail(new Error('decode worker closed'));
    // Held until the exit: an unref'd worker's exit would not keep the process alive while we wait for it.
    this.worker.ref();
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const entry of this.pending.values()) entry.reject(this.failure);
    this.pending.clear();
    if (!this.closed) this.worker.unref();
  }
}
