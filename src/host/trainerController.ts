// Drives one training run in a trainer child process: start, pause, resume, stop, and a verdict when the process exits. Pure Node: no vscode.
import type { SegScopeConfig } from '../protocol/config';
import type { RunEvent } from '../protocol/runEvents';
import type { HostToTrainer, TrainerPosition, TrainerToHost } from '../protocol/trainer';
import { assertNever } from '../protocol/rpc';
import { classifyExit, StderrTail, type TrainerExit } from './trainerExit';
import type { TrainerLauncher, TrainerLink } from '../trainer/launcher';

export type TrainingState = 'idle' | 'starting' | 'running' | 'paused' | 'stopping';

export interface StartRequest {
  configPath: string;
  config: SegScopeConfig;
  resumeRunDir?: string;
  pauseOnStart?: boolean;
  trust?: boolean;
}

export interface TrainerControllerListener {
  onState?(state: TrainingState, position?: TrainerPosition): void;
  onEvent?(event: RunEvent): void;
  /** The process ended; `runDir` is the run it was writing (if it got that far). */
  onExit?(exit: TrainerExit, runDir: string | undefined, request: StartRequest): void;
  onLog?(line: string): void;
}

/** How long a stop may take before the process is killed. */
const STOP_GRACE_MS = 15_000;

export class TrainerController {
  private link: TrainerLink | undefined;
  private stateValue: TrainingState = 'idle';
  private request: StartRequest | undefined;
  private tail = new StderrTail(40);
  private runEnded: string | undefined;
  private lastError: string | undefined;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<TrainerControllerListener>();
  /** Run folder of the current (or last) run. */
  runDir: string | undefined;
  position: TrainerPosition | undefined;

  constructor(private readonly launcher: TrainerLauncher) {}

  get state(): TrainingState {
    return this.stateValue;
  }

  get busy(): boolean {
    return this.stateValue !== 'idle';
  }

  listen(listener: TrainerControllerListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Forks the trainer and starts the run once it reports ready. Throws if a run is already going. */
  start(request: StartRequest): void {
    if (this.busy) throw new Error('A training run is already in progress.');
    this.request = request;
    this.tail = new StderrTail(40);
    this.runEnded = undefined;
    this.lastError = undefined;
    this.runDir = request.resumeRunDir;
    this.position = undefined;
    this.setState('starting');
    this.link = this.launcher({
      onMessage: (message) => this.handle(message),
      onStderr: (text) => { this.tail.push(text); this.log(text); },
      onStdout: (text) => this.log(text),
      onExit: (code, signal) => this.exited(code, signal),
    });
  }

  pause(): void {
    if (this.stateValue === 'running') this.send({ type: 'run/pause' });
  }

  resume(): void {
    if (this.stateValue === 'paused') this.send({ type: 'run/resume' });
  }

  /** Asks the trainer to checkpoint and stop; kills it if it does not exit in time. */
  stop(): void {
    if (!this.link || this.stateValue === 'idle') return;
    if (this.stateValue === 'starting') { this.link.kill(); return; }
    this.setState('stopping');
    this.send({ type: 'run/stop' });
    this.killTimer = setTimeout(() => this.link?.kill(true), STOP_GRACE_MS);
  }

  send(message: HostToTrainer): void {
    this.link?.send(message);
  }

  dispose(): void {
    this.link?.kill();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.listeners.clear();
  }

  private handle(message: TrainerToHost): void {
    switch (message.type) {
      case 'trainer/ready': {
        const r = this.request!;
        this.send({ type: 'run/start', configPath: r.configPath, config: r.config, resumeRunDir: r.resumeRunDir, pauseOnStart: r.pauseOnStart, trust: r.trust });
        return;
      }
      case 'run/event': {
        const event = message.event;
        if (event.type === 'run/start') { this.runDir = event.runDir; if (this.stateValue === 'starting') this.setState('running'); }
        if (event.type === 'run/end') this.runEnded = event.status;
        if (event.type === 'batch/end' && this.stateValue === 'starting') this.setState('running');
        for (const l of this.listeners) l.onEvent?.(event);
        return;
      }
      case 'run/paused':
        this.position = message.position;
        if (this.stateValue !== 'stopping') this.setState('paused', message.position);
        return;
      case 'run/resumed':
        this.position = message.position;
        if (this.stateValue !== 'stopping') this.setState('running', message.position);
        return;
      case 'probe/reply':
        return;
      case 'trainer/error':
        this.lastError = message.message;
        this.log(`trainer error: ${message.stack ?? message.message}\n`);
        return;
      default:
        assertNever(message, 'trainer message');
    }
  }

  private exited(code: number | null, signal: string | null): void {
    if (this.killTimer) clearTimeout(this.killTimer);
    const exit = classifyExit(code, signal, this.tail.last(), this.runEnded, this.lastError);
    const request = this.request!;
    this.link = undefined;
    this.setState('idle');
    for (const l of this.listeners) l.onExit?.(exit, this.runDir, request);
  }

  private setState(state: TrainingState, position?: TrainerPosition): void {
    this.stateValue = state;
    for (const l of this.listeners) l.onState?.(state, position);
  }

  private log(text: string): void {
    for (const line of text.split(/\r?\n/)) if (line) for (const l of this.listeners) l.onLog?.(line);
  }
}
