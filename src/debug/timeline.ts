// Text of the read-only "SegScope Timeline" document: line N is epoch N, filled in as epochs end (shared by the adapter and the VS Code provider).
import type { EpochMetrics } from '../protocol/runFolder';
import { TIMELINE_SCHEME } from './breakpoints';
import { formatNumber } from './format';

export function timelineLine(epoch: number, metrics: EpochMetrics | undefined, current?: { batch: number; batchesPerEpoch: number }): string {
  if (metrics) {
    const seconds = metrics.durationMs / 1000;
    return `epoch ${epoch} · val mIoU ${formatNumber(metrics.val.miou)} · val loss ${formatNumber(metrics.val.loss)}`
      + ` · train loss ${formatNumber(metrics.train.loss)} · lr ${formatNumber(metrics.learningRate)} · ${seconds.toFixed(1)} s`;
  }
  if (current) return `epoch ${epoch} · running (batch ${current.batch}/${current.batchesPerEpoch})`;
  return `epoch ${epoch} · pending`;
}

/** All lines for a run of `epochs` epochs given the metrics known so far. */
export function timelineText(epochs: number, metrics: ReadonlyMap<number, EpochMetrics>, current?: { epoch: number; batch: number; batchesPerEpoch: number }): string {
  const lines: string[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    lines.push(timelineLine(epoch, metrics.get(epoch), current && current.epoch === epoch ? current : undefined));
  }
  return lines.join('\n') + '\n';
}

/** The timeline's URI for a config: the run name as path, the config path as query (so it can be shown before a run starts). */
export function timelineUri(runName: string, configPath: string): string {
  return `${TIMELINE_SCHEME}:/${encodeURIComponent(runName)}.${TIMELINE_SCHEME}?${encodeURIComponent(configPath)}`;
}
