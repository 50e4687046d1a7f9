// metric/ignore-counted: the configured metric counts void pixels or reads logits/probabilities instead of labels.
import type { Finding } from '../../../protocol/runEvents';
import { finding, fmt } from '../finding';
import type { StaticObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

export function metricIgnoreCounted(obs: StaticObservations): Finding[] {
  const p = obs.metric;
  if (!p) return [];
  const countsVoid = p.perfectExceptVoid < 1 - THRESHOLDS.metricTolerance;
  const readsScores = Math.abs(p.logitsScale1 - p.logitsScale10) > THRESHOLDS.metricTolerance;
  if (!countsVoid && !readsScores) return [];
  const { ignoreLabel } = obs.config.data;
  const problems = [
    countsVoid && `a prediction that is right on every valid pixel scores ${fmt(p.perfectExceptVoid)} instead of 1, so void pixels (label ${ignoreLabel}) are counted`,
    readsScores && `the same label map scores ${fmt(p.logitsScale1)} or ${fmt(p.logitsScale10)} depending only on how large the logits are, so it is computed on scores instead of predicted labels`,
  ].filter(Boolean).join(', and ');
  const configKey = p.source === 'built-in' ? 'metrics' : 'metrics.module';
  return [finding(
    'metric/ignore-counted', 'error',
    `The metric (${p.source}) is wrong: ${problems}.`,
    p.source === 'built-in'
      ? 'This is a SegScope bug: please report it; meanwhile trust the loss, not the mIoU.'
      : `Change ${p.source} to take the argmax of the predictions and to drop pixels labelled ${ignoreLabel} before counting (or remove metrics.module to use the built-in mIoU).`,
    { source: p.source, perfectExceptVoid: p.perfectExceptVoid, logitsScale1: p.logitsScale1, logitsScale10: p.logitsScale10, countsVoid, readsScores },
    { configKey },
  )];
}
