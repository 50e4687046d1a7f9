// relu/dead: layers where most ReLU units (almost) never fire on the watch batch.
import type { Finding } from '../../../protocol/runEvents';
import { finding, percent } from '../finding';
import type { EpochObservations } from '../observations';
import { THRESHOLDS } from '../thresholds';

export function reluDead(obs: EpochObservations): Finding[] {
  const dead = obs.layerOrder
    .map((name) => ({ name, d: obs.deadUnits?.[name] }))
    .filter((x): x is { name: string; d: { units: number; inactive: number } } => x.d !== undefined && x.d.units > 0)
    .map((x) => ({ name: x.name, units: x.d.units, inactive: x.d.inactive, fraction: x.d.inactive / x.d.units }))
    .filter((x) => x.fraction > THRESHOLDS.deadReluFraction);
  if (dead.length === 0) return [];
  const worst = dead.reduce((a, b) => (b.fraction > a.fraction ? b : a));
  return [finding(
    'relu/dead', 'warning',
    `In ${dead.length} layer${dead.length > 1 ? 's' : ''} more than half of the ReLU units (almost) never fire on the watch images (worst: "${worst.name}", ${worst.inactive} of ${worst.units} units, ${percent(worst.fraction)}); a unit that is positive on fewer than 1 % of the pixels gets almost no gradient and rarely recovers.`,
    'Lower train.optimizer.learningRate (a too-large step pushes units into the dead zone for good) and check data.normalize so that inputs are centred near 0.',
    { layersAffected: dead.length, worstLayer: worst.name, deadUnits: worst.inactive, units: worst.units, deadFraction: worst.fraction },
    { configKey: 'train.optimizer.learningRate', layer: worst.name },
  )];
}
