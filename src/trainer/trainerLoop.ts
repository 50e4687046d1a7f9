// The trainer's message handling, independent of the process plumbing: one TrainingSession driven by HostToTrainer
// messages, everything it does reported as TrainerToHost messages.
import { assertNever } from '../protocol/rpc';
import type { HostToTrainer, TrainerToHost } from '../protocol/trainer';
import type { EngineParts } from '../engine/session/parts';
import { TrainingSession } from '../engine/session/trainingSession';

export interface TrainerLoopOptions {
  send: (message: TrainerToHost) => void;
  /** Called when the run has ended (the process may exit) or failed fatally. */
  onRunEnded?: (ok: boolean) => void;
  parts?: EngineParts;
}

export class TrainerLoop {
  private session: TrainingSession | undefined;
  private starting = false;
  private stopBeforeStart = false;

  constructor(private readonly opts: TrainerLoopOptions) {}

  handle(message: HostToTrainer): void {
    switch (message.type) {
      case 'run/start':
        void this.start(message);
        return;
      case 'run/pause':
        this.session?.pause();
        return;
      case 'run/resume':
        this.session?.resume();
        return;
      case 'run/stepBatch':
        this.session?.stepBatch();
        return;
      case 'run/stepEpoch':
        this.session?.stepEpoch();
        return;
      case 'run/stop':
        if (this.session) this.session.stop();
        else if (this.starting) this.stopBeforeStart = true;
        else this.opts.onRunEnded?.(true);
        return;
      case 'probe/request': {
        const { id, image, layer } = message;
        if (!this.session) {
          this.opts.send({ type: 'probe/reply', id, reply: { ok: false, error: 'no run has started' } });
          return;
        }
        this.session.requestProbe(image, layer).then(
          (value) => this.opts.send({ type: 'probe/reply', id, reply: { ok: true, value } }),
          (err: Error) => this.opts.send({ type: 'probe/reply', id, reply: { ok: false, error: err.message } }),
        );
        return;
      }
      default:
        assertNever(message, 'host→trainer message');
    }
  }

  /** Stop requested from outside (a signal): same as run/stop. */
  stop(): void {
    this.handle({ type: 'run/stop' });
  }

  private async start(message: Extract<HostToTrainer, { type: 'run/start' }>): Promise<void> {
    if (this.session || this.starting) {
      this.opts.send({ type: 'run/event', event: { type: 'warning', time: new Date().toISOString(), message: 'a run is already active in this trainer; run/start ignored' } });
      return;
    }
    this.starting = true;
    try {
      this.session = await TrainingSession.open({
        configPath: message.configPath,
        config: message.config,
        resumeRunDir: message.resumeRunDir,
        pauseOnStart: message.pauseOnStart,
        lastEpochBoundary: message.lastEpochBoundary,
        trust: message.trust,
        parts: this.opts.parts,
        onEvent: (event) => this.opts.send({ type: 'run/event', event }),
        onPaused: (position, reason) => this.opts.send({ type: 'run/paused', position, reason }),
        onResumed: (position) => this.opts.send({ type: 'run/resumed', position }),
      });
    } catch (err) {
      const e = err as Error;
      this.opts.send({ type: 'trainer/error', message: e.message ?? String(err), stack: e.stack });
      this.opts.onRunEnded?.(false);
      return;
    } finally {
      this.starting = false;
    }
    if (this.stopBeforeStart) this.session.stop();
    const result = await this.session.run();
    if (result.status === 'crashed') {
      this.opts.send({ type: 'trainer/error', message: result.error ?? 'the run crashed' });
      this.opts.onRunEnded?.(false);
    } else {
      this.opts.onRunEnded?.(true);
    }
  }
}
