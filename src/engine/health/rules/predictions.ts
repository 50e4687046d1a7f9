// pred/collapse: the model predicts (almost) one class everywhere although the ground truth is mixed.
import type { Finding } from '../../../protocol/runEvents';
import { finding, listOf, percent } from '../finding';
import type { EpochObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

export function predCollapse(obs: EpochObservations): Finding[] {
  const m = obs.confusion;
  if (!m || m.length === 0) return [];
  const C = m.length;
  const truth = m.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = Array.from({ length: C }, (_, j) => m.reduce((sum, row) => sum + (row[j] ?? 0), 0));
  const total = truth.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  let top = 0;
  for (let j = 1; j < C; j++) if (predicted[j] > predicted[top]) top = j;
  const predShare = predicted[top] / total;
  const trueShare = truth[top] / total;
  if (!(predShare > THRESHOLDS.collapsePredictedShare && trueShare <= THRESHOLDS.collapseTrueShareMax)) return [];
  const names = obs.config.data.classes;
  const iou = (k: number) => {
    const union = truth[k] + predicted[k] - m[k][k];
    return union > 0 ? m[k][k] / union : 0;
  };
  const zeroIou = truth.map((t, k) => ({ t, k })).filter(({ t, k }) => t > 0 && iou(k) === 0).map(({ k }) => names[k] ?? String(k));
  return [finding(
    'pred/collapse', 'warning',
    `The model predicts "${names[top] ?? top}" for ${percent(predShare)} of the pixels although only ${percent(trueShare)} of them are "${names[top] ?? top}"${zeroIou.length > 0 ? `; classes ${listOf(zeroIou)} are present but have IoU 0` : ''}: it has given up on the other classes.`,
    'Look at the other findings first (a broken loss or label pipeline causes this); otherwise set loss.classWeights to "inverse-frequency" or loss.type to "focal".',
    { predictedClass: names[top] ?? top, predictedShare: predShare, groundTruthShare: trueShare, classesPresentWithIoU0: zeroIou.length, epoch: obs.epoch },
    { configKey: 'loss.classWeights' },
  )];
}
