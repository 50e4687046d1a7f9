// Turns the epochs of a run into the column arrays uPlot draws (x = epoch). DOM-free.
import type { EpochMetrics } from '../../../src/protocol/runFolder';

export type Column = (number | null)[];

export interface ChartSeries {
  label: string;
  values: Column;
}

export interface ChartData {
  epochs: number[];
  series: ChartSeries[];
}

export function lossChart(epochs: EpochMetrics[]): ChartData {
  return {
    epochs: epochs.map((e) => e.epoch),
    series: [
      { label: 'train loss', values: epochs.map((e) => finite(e.train.loss)) },
      { label: 'val loss', values: epochs.map((e) => finite(e.val.loss)) },
    ],
  };
}

export function qualityChart(epochs: EpochMetrics[]): ChartData {
  return {
    epochs: epochs.map((e) => e.epoch),
    series: [
      { label: 'val mIoU', values: epochs.map((e) => finite(e.val.miou)) },
      { label: 'train mIoU', values: epochs.map((e) => finite(e.train.miou)) },
      { label: 'val pixel acc.', values: epochs.map((e) => finite(e.val.pixelAccuracy)) },
      { label: 'train pixel acc.', values: epochs.map((e) => finite(e.train.pixelAccuracy)) },
    ],
  };
}

/** Validation IoU of each class over epochs (null where the class was absent). */
export function classIouChart(epochs: EpochMetrics[], classNames: string[]): ChartData {
  return {
    epochs: epochs.map((e) => e.epoch),
    series: classNames.map((name, c) => ({ label: name, values: epochs.map((e) => finite(e.val.iou[c] ?? null)) })),
  };
}

function finite(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}
