// The rule registry and the three entry points (static, per batch, per epoch), plus FindingLog (one report per id).
import type { Finding } from '../../protocol/runEvents';
import type { BatchObservations, EpochObservations, StaticObservations } from './observations';
import { reluDead } from './rules/activations';
import { batchNormFrozenDrift, batchNormFrozenTrainMode, batchNormSmallBatch } from './rules/batchNorm';
import { gradExploding, gradVanishing, numNaN } from './rules/gradients';
import { inputRange } from './rules/input';
import { labelsIgnoreInOneHot, labelsImbalance, labelsInterpolatedMask, labelsOutOfRange } from './rules/labels';
import { lossIgnoreNotExcluded, lossOscillating, lossPlateau } from './rules/loss';
import { metricIgnoreCounted } from './rules/metric';
import { modelDoubleSoftmax, modelDoubleSoftmaxSignature } from './rules/model';
import { optimAdadeltaDefaultLr, optimAllGradientsZero, optimNothingTrainable, optimUpdateRatio } from './rules/optimizer';
import { predCollapse } from './rules/predictions';


export const HEALTH_RULE_IDS = [
  'labels/out-of-range', 'labels/ignore-in-onehot', 'loss/ignore-not-excluded', 'model/double-softmax',
  'bn/frozen-train-mode', 'bn/small-batch', 'optim/adadelta-default-lr', 'optim/update-ratio', 'optim/nothing-trainable',
  'grad/vanishing', 'grad/exploding', 'num/nan', 'relu/dead', 'pred/collapse', 'loss/plateau', 'loss/oscillating',
  'input/range', 'labels/interpolated-mask', 'labels/imbalance', 'metric/ignore-counted',
] as const;
export type HealthRuleId = typeof HEALTH_RULE_IDS[number];

type Rule<O> = (obs: O) => Finding[];

export const STATIC_RULES: Rule<StaticObservations>[] = [
  labelsOutOfRange, labelsInterpolatedMask, labelsIgnoreInOneHot, lossIgnoreNotExcluded, modelDoubleSoftmax,
  batchNormFrozenTrainMode, batchNormSmallBatch, optimAdadeltaDefaultLr, optimNothingTrainable, inputRange,
  labelsImbalance, metricIgnoreCounted,
];
export const BATCH_RULES: Rule<BatchObservations>[] = [numNaN, optimAllGradientsZero];
export const EPOCH_RULES: Rule<EpochObservations>[] = [
  modelDoubleSoftmaxSignature, batchNormFrozenDrift, optimUpdateRatio, gradVanishing, gradExploding, reluDead,
  predCollapse, lossPlateau, lossOscillating,
];

function runAll<O>(rules: Rule<O>[], obs: O, extra: Partial<Finding> = {}): Finding[] {
  return rules.flatMap((rule) => rule(obs)).map((f) => ({ ...f, ...extra }));
}

export function runStaticChecks(obs: StaticObservations): Finding[] {
  return runAll(STATIC_RULES, obs);
}

export function runBatchChecks(obs: BatchObservations): Finding[] {
  return runAll(BATCH_RULES, obs, { epoch: obs.epoch, batch: obs.batch });
}

export function runEpochChecks(obs: EpochObservations): Finding[] {
  return runAll(EPOCH_RULES, obs, { epoch: obs.epoch });
}

/**
 * Keeps the findings of one run: the first finding of each id is reported; later ones with the same id only add
 * their evidence to it (e.g. bn/frozen-train-mode: the static probe, then the epoch's drift). `add` returns what is new.
 */
export class FindingLog {
  private readonly byId = new Map<string, Finding>();

  add(findings: Finding[]): Finding[] {
    const fresh: Finding[] = [];
    for (const f of findings) {
      const known = this.byId.get(f.id);
      if (known) {
        for (const [k, v] of Object.entries(f.evidence)) if (!(k in known.evidence)) known.evidence[k] = v;
        continue;
      }
      const copy = { ...f, evidence: { ...f.evidence } };
      this.byId.set(f.id, copy);
      fresh.push(copy);
    }
    return fresh;
  }

  all(): Finding[] {
    const order = { error: 0, warning: 1, info: 2 } as const;
    return [...this.byId.values()].sort((a, b) => order[a.severity] - order[b.severity]);
  }
}
