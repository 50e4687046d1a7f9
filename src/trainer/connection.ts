// The host side of the trainer process, without vscode: forks the trainer, sends typed HostToTrainer messages, delivers
// TrainerToHost messages to listeners, and matches probe replies to requests. Shared by the extension, the debug runtime
// and tests.
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { PendingRequests } from '../protocol/rpc';
import type { RunEvent } from '../protocol/runEvents';
import type { HostToTrainer, ProbeResult, TrainerToHost } from '../protocol/trainer';

export interface TrainerLaunch {
  /** dist/trainer.js, or src/trainer/main.ts with execArgv ['--import', 'tsx']. */
  modulePath: string;
  execArgv?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the child's stdout/stderr go; default: inherited. */
  stdio?: ForkOptions['stdio'];
}

type Listener = (message: TrainerToHost) => void;

/** How long after the trainer's exit its stdout/stderr may take to end before the exit is reported anyway. */
export const STDIO_GRACE_MS = 2000;

/** Messages of the connection that are not about the run itself. */
export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class TrainerConnection {
  private readonly listeners = new Set<Listener>();
  private readonly exitListeners = new Set<(exit: TrainerExit) => void>();
  private readonly probes = new PendingRequests();
  private readonly ready: Promise<number>;
  /** Set when the exit has been reported (after 'close', or STDIO_GRACE_MS after 'exit'). */
  private exited: TrainerExit | null = null;
  private processEnded = false;
  private readonly exitPromise: Promise<TrainerExit>;

  private constructor(readonly child: ChildProcess) {
    let failReady: (error: Error) => void = () => undefined;
    this.ready = new Promise<number>((resolve, reject) => {
      const onReady: Listener = (m) => {
        if (m.type === 'trainer/ready') { this.listeners.delete(onReady); resolve(m.pid); }
      };
      this.listeners.add(onReady);
      failReady = reject;
    });
    this.ready.catch(() => undefined);
    child.on('message', (raw) => {
      const message = raw as TrainerToHost;
      if (message.type === 'probe/reply') this.probes.settle(message.id, message.reply);
      for (const listener of [...this.listeners]) listener(message);
    });
    // A process that could not be started emits 'error' and then 'close' (no 'exit'); say why when the start fails.
    let spawnError: Error | undefined;
    child.on('error', (error) => { if (child.pid === undefined) spawnError = error; });
    this.exitPromise = new Promise<TrainerExit>((resolve) => {
      let stdioTimer: NodeJS.Timeout | undefined;
      const settle = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exited) return;
        clearTimeout(stdioTimer);
        this.exited = { code, signal };
        failReady(spawnError ?? new Error(`trainer exited (code ${code}${signal ? `, signal ${signal}` : ''}) before it was ready`));
        this.probes.rejectAll(`trainer exited (code ${code}${signal ? `, signal ${signal}` : ''})`);
        for (const l of this.exitListeners) l(this.exited);
        resolve(this.exited);
      };
      // 'close' comes once stdout/stderr have ended too, so the trainer's last words (an out-of-memory report) have been
      // delivered by then; 'exit' may come first. A grandchild holding the pipes open delays 'close' indefinitely, so
      // after 'exit' it gets STDIO_GRACE_MS.
      child.once('close', (code, signal) => settle(code, signal));
      child.once('exit', (code, signal) => {
        this.processEnded = true;
        stdioTimer = setTimeout(() => settle(code, signal), STDIO_GRACE_MS);
      });
    });
  }

  /** Forks the trainer without waiting: read its output from `child` at once, then await `whenReady()`. */
  static fork(launch: TrainerLaunch): TrainerConnection {
    return new TrainerConnection(fork(launch.modulePath, [], {
      execArgv: launch.execArgv ?? [],
      cwd: launch.cwd,
      env: launch.env ?? process.env,
      stdio: launch.stdio ?? ['inherit', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    }));
  }

  /** Forks the trainer and waits for its `trainer/ready`. */
  static async start(launch: TrainerLaunch): Promise<TrainerConnection> {
    const connection = TrainerConnection.fork(launch);
    await connection.whenReady();
    return connection;
  }

  /** Resolves with the trainer's pid on its `trainer/ready`; rejects if it ends (or cannot start) before that. */
  whenReady(): Promise<number> {
    return this.ready;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False once the process has ended (its exit may still be waiting for the end of its output). */
  get isAlive(): boolean {
    return !this.processEnded && this.exited === null;
  }

  send(message: HostToTrainer): void {
    if (!this.isAlive || !this.child.connected) throw new Error(`cannot send ${message.type}: the trainer is not running`);
    // A failed write means the trainer is going away, which its exit reports; without a callback it would be an 'error' event.
    this.child.send(message, () => undefined);
  }

  /** Listens to every message; returns a function that removes the listener. */
  onMessage(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens to run events only (the run/event payloads). */
  onEvent(listener: (event: RunEvent) => void): () => void {
    return this.onMessage((m) => { if (m.type === 'run/event') listener(m.event); });
  }

  onExit(listener: (exit: TrainerExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Resolves with the first message for which `match` returns true (rejects on timeout or trainer exit). */
  waitFor<T extends TrainerToHost>(match: (m: TrainerToHost) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(match: (m: TrainerToHost) => boolean, timeoutMs?: number): Promise<TrainerToHost>;
  waitFor(match: (m: TrainerToHost) => boolean, timeoutMs = 0): Promise<TrainerToHost> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => { off(); offExit(); if (timer) clearTimeout(timer); };
      const off = this.onMessage((m) => { if (match(m)) { cleanup(); resolve(m); } });
      const offExit = this.onExit((e) => { cleanup(); reject(new Error(`trainer exited (code ${e.code}) while waiting`)); });
      if (timeoutMs > 0) timer = setTimeout(() => { cleanup(); reject(new Error(`no matching trainer message within ${timeoutMs} ms`)); }, timeoutMs);
    });
  }

  /** Asks for probes of one image/layer at the trainer's current state. */
  requestProbe(image: string, layer: string): Promise<ProbeResult> {
    const { id, promise } = this.probes.open<ProbeResult>();
    this.send({ type: 'probe/request', id, image, layer });
    return promise;
  }

  /** Resolves when the process has exited and its output has ended (or STDIO_GRACE_MS after its exit). */
  whenExited(): Promise<TrainerExit> {
    return this.exitPromise;
  }

  /** Kills the process if it still runs (SIGTERM first: the trainer saves a checkpoint; SIGKILL after `graceMs`). */
  async dispose(graceMs = 5000): Promise<TrainerExit> {
    if (this.isAlive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => { if (this.isAlive) this.child.kill('SIGKILL'); }, graceMs);
      await this.exitPromise;
      clearTimeout(timer);
    }
    return this.exitPromise;
  }
}
