// Messages between the extension host (or the debug runtime) and the trainer child process.
import type { SegScopeConfig } from './config';
import type { RunEvent } from './runEvents';
import type { LayerStats } from './runFolder';
import type { Reply } from './rpc';

/** Where a paused trainer stands. */
export interface TrainerPosition {
  epoch: number;
  /** Batches done in the current epoch (0 = at the epoch's start). */
  batch: number;
  step: number;
}

export type HostToTrainer =
  /**
   * Start (or resume) a run. `configPath` is absolute; the config is already parsed and validated by the sender.
   * `lastEpochBoundary`: the run's last epoch (the final one, or the one early stopping ends on) also gets a boundary,
   * so a pause or step that is due there halts the trainer before run/end (the debugger's, to stop on the last epoch).
   */
  | {
    type: 'run/start'; configPath: string; config: SegScopeConfig; resumeRunDir?: string; pauseOnStart?: boolean; trust?: boolean;
    lastEpochBoundary?: boolean;
  }
  /** Pause at the next batch boundary. */
  | { type: 'run/pause' }
  /** Continue until the next pause point. */
  | { type: 'run/resume' }
  /** Run exactly one batch, then pause. */
  | { type: 'run/stepBatch' }
  /** Run to the end of the current epoch (probes computed), then pause. */
  | { type: 'run/stepEpoch' }
  /** Save a checkpoint and end the run cleanly. */
  | { type: 'run/stop' }
  /** Compute probes for one image/layer at the current state (paused or between batches). */
  | { type: 'probe/request'; id: number; image: string; layer: string };

export interface ProbeResult {
  layer: string;
  image: string;
  stats: LayerStats;
  /** Relative to the run folder: the activation written for this request. */
  activation: string;
  header: string;
}

export type TrainerToHost =
  /** The trainer process is up and waiting for run/start. */
  | { type: 'trainer/ready'; pid: number }
  /** Everything the run writes to events.jsonl, forwarded live. */
  | { type: 'run/event'; event: RunEvent }
  /** The trainer paused at a batch boundary. */
  | { type: 'run/paused'; position: TrainerPosition; reason: 'request' | 'step' | 'start' }
  /** The trainer continued after a pause. */
  | { type: 'run/resumed'; position: TrainerPosition }
  /** Reply to probe/request. */
  | { type: 'probe/reply'; id: number; reply: Reply<ProbeResult> }
  /** A fatal error; the process exits after sending it. */
  | { type: 'trainer/error'; message: string; stack?: string };
