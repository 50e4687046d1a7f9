// Shows training progress: a one-line bar redrawn in place on a TTY (epoch, batch, loss, img/s, ETA), plain lines
// otherwise, or the raw events as JSON lines with --json.
import type { RunEvent } from '../protocol/runEvents';

export interface ProgressOutput {
  write(text: string): void;
  isTTY: boolean;
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Turns run events into human-readable progress. */
export class ProgressDisplay {
  private epochs = 0;
  private batchesPerEpoch = 0;
  private startedAt = Date.now();
  private firstStep: { step: number; at: number } | undefined;
  private lineOpen = false;

  constructor(private readonly out: ProgressOutput, private readonly now: () => number = Date.now) {}

  /** ETA from the run's average pace so far (batches/s), including validation and probes already spent. */
  private eta(step: number): number {
    const total = this.epochs * this.batchesPerEpoch;
    if (!this.firstStep || step <= this.firstStep.step) return NaN;
    const rate = (step - this.firstStep.step) / ((this.now() - this.firstStep.at) / 1000);
    return (total - step) / rate;
  }

  handle(event: RunEvent): void {
    switch (event.type) {
      case 'run/start':
        this.epochs = event.epochs;
        this.batchesPerEpoch = event.batchesPerEpoch;
        this.startedAt = this.now();
        this.line(`run ${event.runDir}\nbackend ${event.backend.name} (${event.backend.reason})${event.resumedFrom ? `, resumed from ${event.resumedFrom}` : ''}`);
        return;
      case 'batch/end': {
        this.firstStep ??= { step: event.step, at: this.now() };
        const text = `epoch ${event.epoch}/${this.epochs} batch ${event.batch}/${this.batchesPerEpoch} `
          + `loss ${event.loss.toFixed(4)} ${event.imagesPerSec.toFixed(1)} img/s ETA ${formatDuration(this.eta(event.step))}`;
        if (this.out.isTTY) {
          const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - text.length - 4));
          this.out.write(`\r\x1b[2K${bar(event.batch / Math.max(1, this.batchesPerEpoch), width)} ${text}`);
          this.lineOpen = true;
        } else if (event.batch === this.batchesPerEpoch || event.batch % 10 === 0) {
          this.line(text);
        }
        return;
      }
      case 'epoch/end': {
        const m = event.metrics;
        this.line(`epoch ${event.epoch}/${this.epochs}: train loss ${m.train.loss.toFixed(4)} mIoU ${m.train.miou.toFixed(3)} | `
          + `val loss ${m.val.loss.toFixed(4)} mIoU ${m.val.miou.toFixed(3)} acc ${m.val.pixelAccuracy.toFixed(3)} | `
          + `${m.imagesPerSec.toFixed(1)} img/s, ${(m.durationMs / 1000).toFixed(1)} s, ETA ${formatDuration(event.etaSec)}`);
        return;
      }
      case 'finding':
        this.line(`${event.finding.severity}: ${event.finding.cause} Fix: ${event.finding.fix} [${event.finding.id}]`);
        return;
      case 'data/skipped':
        this.line(`skipped ${event.file}: ${event.why}`);
        return;
      case 'warning':
        this.line(`warning: ${event.message}`);
        return;
      case 'checkpoint':
        return;
      case 'run/end':
        this.line(`run ${event.status} after ${event.epochsDone} epoch(s) in ${formatDuration((this.now() - this.startedAt) / 1000)}`
          + `${event.val ? `: val mIoU ${event.val.miou.toFixed(3)}` : ''}${event.error ? `: ${event.error}` : ''}\n${event.runDir}`);
        return;
    }
  }

  private line(text: string): void {
    if (this.lineOpen) this.out.write('\n');
    this.lineOpen = false;
    this.out.write(text + '\n');
  }
}
