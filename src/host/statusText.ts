// Text of the status-bar entry and the progress notification for a training run. Pure: no vscode.
import type { TrainingState } from './trainerController';
import type { BatchProgress } from './runHistory';

export interface StatusView {
  text: string;
  tooltip: string;
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

export function progressLine(progress: BatchProgress | undefined, totalEpochs: number | undefined): string {
  if (!progress) return 'starting…';
  const epochs = totalEpochs ? `${progress.epoch}/${totalEpochs}` : `${progress.epoch}`;
  const batches = progress.batchesPerEpoch ? `${progress.batch}/${progress.batchesPerEpoch}` : `${progress.batch}`;
  return `epoch ${epochs} · batch ${batches} · loss ${fixed(progress.loss, 3)} · ${fixed(progress.imagesPerSec, 1)} img/s`;
}

export function statusView(state: TrainingState, progress: BatchProgress | undefined, totalEpochs: number | undefined, lastRunName?: string): StatusView {
  switch (state) {
    case 'idle':
      return { text: '$(pulse) SegScope', tooltip: lastRunName ? `SegScope — last run: ${lastRunName}. Click to open the dashboard.` : 'SegScope — click to open the dashboard.' };
    case 'starting':
      return { text: '$(loading~spin) SegScope: starting', tooltip: 'Starting the trainer process…' };
    case 'running':
      return { text: `$(sync~spin) ${progressLine(progress, totalEpochs)}`, tooltip: 'SegScope is training. Click to open the dashboard.' };
    case 'paused':
      return { text: `$(debug-pause) paused · ${progressLine(progress, totalEpochs)}`, tooltip: 'SegScope training is paused.' };
    case 'stopping':
      return { text: '$(loading~spin) SegScope: stopping', tooltip: 'Saving a checkpoint and stopping…' };
  }
}
