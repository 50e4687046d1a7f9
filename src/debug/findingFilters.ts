// The debugger's exception-style filters: which health-check findings (ids of docs/health-checks.md) stop the run.
import type { Finding } from '../protocol/runEvents';

export interface FindingFilter {
  /** exceptionBreakpointFilters id, as VS Code stores it. */
  id: string;
  label: string;
  description: string;
  /** On unless the user unticks it. */
  default: boolean;
  matches(finding: Finding): boolean;
}

const idIs = (...ids: string[]) => (finding: Finding) => ids.includes(finding.id);

export const FINDING_FILTERS: readonly FindingFilter[] = [
  { id: 'nan', label: 'NaN/Inf', description: 'NaN or Inf in the loss, gradients or weights (num/nan)', default: true, matches: idIs('num/nan') },
  { id: 'collapse', label: 'Prediction collapsed to one class', description: 'Nearly every pixel predicted as one class (pred/collapse)', default: false, matches: idIs('pred/collapse') },
  { id: 'gradients', label: 'Gradients vanished or exploded', description: 'First-to-last layer gradient norms far apart (grad/*)', default: false, matches: (f) => f.id.startsWith('grad/') },
  { id: 'frozen-bn', label: 'Frozen BatchNorm is drifting', description: 'Frozen layers\' BatchNorm runs in training mode (bn/frozen-train-mode)', default: false, matches: idIs('bn/frozen-train-mode') },
  { id: 'learning-rate', label: 'Learning rate far off', description: 'Adadelta default or update/weight ratios out of range (optim/adadelta-default-lr, optim/update-ratio)', default: false, matches: idIs('optim/adadelta-default-lr', 'optim/update-ratio') },
  { id: 'any', label: 'Any health finding', description: 'Stop on every health-check finding', default: false, matches: () => true },
];

/** The first enabled filter that a finding trips, if any. */
export function filterFor(finding: Finding, enabled: ReadonlySet<string>): FindingFilter | undefined {
  return FINDING_FILTERS.find((filter) => enabled.has(filter.id) && filter.matches(finding));
}

/** The finding as one readable paragraph: cause, fix, evidence. */
export function describeFinding(finding: Finding): string {
  const evidence = Object.entries(finding.evidence).map(([k, v]) => `${k}=${v}`).join(', ');
  const where = finding.location?.layer ? ` (layer ${finding.location.layer})` : finding.location?.configKey ? ` (${finding.location.configKey})` : '';
  return `${finding.id}${where}: ${finding.cause} Fix: ${finding.fix}${evidence ? ` [${evidence}]` : ''}`;
}
