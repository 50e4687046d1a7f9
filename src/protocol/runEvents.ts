// Events of a training run: one JSON object per line in events.jsonl, on the CLI's --json output, and from trainer to host.
import type { BackendReport, EpochMetrics } from './runFolder';

export type Severity = 'error' | 'warning' | 'info';

/** A health-check finding (see docs/health-checks.md); ids are a public interface. */
export interface Finding {
  id: string;
  severity: Severity;
  /** One sentence: what is wrong. */
  cause: string;
  /** One sentence: what to change. */
  fix: string;
  /** The numbers behind it. */
  evidence: Record<string, number | string | boolean>;
  /** Where to look: a key in segscope.json (dotted path) and/or a layer name. */
  location?: { configKey?: string; layer?: string };
  epoch?: number;
  batch?: number;
}

export type RunEvent =
  /** First event of every run: where it lives and which backend runs it. */
  | { type: 'run/start'; time: string; runDir: string; backend: BackendReport; resumedFrom?: string; epochs: number; batchesPerEpoch: number }
  /** A batch finished (batch is 1-based within the epoch; step counts all batches of the run). */
  | { type: 'batch/end'; time: string; epoch: number; batch: number; step: number; loss: number; imagesPerSec: number; learningRate: number }
  /** An epoch finished and its folder is complete on disk. */
  | { type: 'epoch/end'; time: string; epoch: number; metrics: EpochMetrics; etaSec: number }
  /** A health-check finding. */
  | { type: 'finding'; time: string; finding: Finding }
  /** A data file could not be read and was skipped. */
  | { type: 'data/skipped'; time: string; file: string; why: string }
  /** A non-fatal warning for the user. */
  | { type: 'warning'; time: string; message: string }
  /** Checkpoint written (relative to the run folder). */
  | { type: 'checkpoint'; time: string; epoch: number; path: string }
  /** The run ended: finished, stopped by the user, stopped early, or crashed. */
  | { type: 'run/end'; time: string; runDir: string; status: 'finished' | 'stopped' | 'early-stopped' | 'crashed'; epochsDone: number; val?: { miou: number; loss: number }; error?: string };

export type RunEventType = RunEvent['type'];
