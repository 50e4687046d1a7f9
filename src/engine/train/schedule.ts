// Learning-rate schedules: constant, and DeepLab's poly decay lr = base·(1 − step/total)^power.
import type { ResolvedConfig } from '../../config/resolve';

export type Schedule = ResolvedConfig['train']['schedule'];

/** Learning rate for the batch about to run; `step` counts batches already done, `totalSteps` the run's batches. */
export function learningRateAt(schedule: Schedule, baseLearningRate: number, step: number, totalSteps: number): number {
  if (schedule.type === 'constant') return baseLearningRate;
  const progress = totalSteps > 0 ? Math.min(1, Math.max(0, step / totalSteps)) : 0;
  return baseLearningRate * Math.pow(1 - progress, schedule.power);
}
