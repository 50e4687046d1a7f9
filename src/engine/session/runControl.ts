// Pause / resume / step / stop for a training loop, honoured at batch boundaries; also runs queued work (probe
// requests) at those boundaries and while paused, so it never interleaves with a training step.
import type { TrainerPosition } from '../../protocol/trainer';

export type PauseReason = 'request' | 'step' | 'start';

export interface ControlListener {
  paused(position: TrainerPosition, reason: PauseReason): void;
  resumed(position: TrainerPosition): void;
}

export class RunControl {
  private pauseRequested: PauseReason | null;
  private stopRequested = false;
  private paused = false;
  /** Set by resume/step while paused: the wait at the boundary ends. */
  private released = false;
  private stepBatchTarget: number | null = null;
  private stepEpochTarget: number | null = null;
  private batchesDone = 0;
  private epochsDone = 0;
  private wake: (() => void) | null = null;
  private readonly tasks: (() => Promise<void>)[] = [];
  private pausedTotal = 0;

  constructor(private readonly listener: ControlListener, pauseOnStart = false) {
    this.pauseRequested = pauseOnStart ? 'start' : null;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Milliseconds spent paused so far (kept out of epoch durations and speeds). */
  get pausedMs(): number {
    return this.pausedTotal;
  }

  get isStopping(): boolean {
    return this.stopRequested;
  }

  /** Called by the loop after each finished batch / epoch. */
  batchDone(): void {
    this.batchesDone++;
  }

  epochDone(): void {
    this.epochsDone++;
  }

  pause(): void {
    this.pauseRequested ??= 'request';
  }

  resume(): void {
    this.released = true;
    this.pauseRequested = null;
    this.stepBatchTarget = null;
    this.stepEpochTarget = null;
    this.wakeUp();
  }

  stepBatch(): void {
    this.released = true;
    this.stepEpochTarget = null;
    this.stepBatchTarget = this.batchesDone + 1;
    this.pauseRequested = null;
    this.wakeUp();
  }

  stepEpoch(): void {
    this.released = true;
    this.stepBatchTarget = null;
    this.stepEpochTarget = this.epochsDone + 1;
    this.pauseRequested = null;
    this.wakeUp();
  }

  stop(): void {
    this.stopRequested = true;
    this.wakeUp();
  }

  /** Queues work to run at the next boundary (or at once if paused); resolves with its result. */
  enqueue<T>(task: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push(async () => {
        try {
          resolve(await task());
        } catch (err) {
          reject(err);
        }
      });
      this.wakeUp();
    });
  }

  /** Runs all queued work now (used when no loop is running any more). */
  async drain(): Promise<void> {
    while (this.tasks.length) await this.tasks.shift()!();
  }

  /**
   * A batch boundary: runs queued work, pauses if asked (or a step is complete) and waits there until resumed,
   * stepped or stopped. Returns 'stop' when the loop must end.
   */
  async boundary(position: () => TrainerPosition): Promise<'continue' | 'stop'> {
    await this.drain();
    const reason = this.dueReason();
    if (reason && !this.stopRequested) {
      this.pauseRequested = null;
      this.stepBatchTarget = null;
      this.stepEpochTarget = null;
      this.paused = true;
      this.released = false;
      const pausedAt = performance.now();
      this.listener.paused(position(), reason);
      while (this.paused && !this.stopRequested) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = null;
        await this.drain();
        if (this.released) this.paused = false;
      }
      this.pausedTotal += performance.now() - pausedAt;
      if (!this.stopRequested) this.listener.resumed(position());
      this.paused = false;
    }
    return this.stopRequested ? 'stop' : 'continue';
  }

  private dueReason(): PauseReason | null {
    if (this.stepBatchTarget !== null && this.batchesDone >= this.stepBatchTarget) return 'step';
    if (this.stepEpochTarget !== null && this.epochsDone >= this.stepEpochTarget) return 'step';
    return this.pauseRequested;
  }

  private wakeUp(): void {
    this.wake?.();
  }
}
