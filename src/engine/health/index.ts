// Health checks: rules that name why a segmentation model does not learn (ids and thresholds: docs/health-checks.md).
//
// For the training session (all pure, no tfjs work inside; give them the numbers you already have):
//   runStaticChecks(obs: StaticObservations): Finding[]  — once, before the first step (config + model + first batch + probes)
//   runBatchChecks(obs: BatchObservations): Finding[]    — after every batch (cheap: NaN/Inf, all-zero gradients)
//   runEpochChecks(obs: EpochObservations): Finding[]    — after every epoch (gradients, update ratios, loss curve, predictions)
// The probes that need tfjs (loss perturbation at void pixels, model output, frozen BatchNorm, metric on crafted
// inputs, dead units, moving-statistic snapshots, first non-finite weight) live in ./probes and produce the numbers.
// `HEALTH_RULE_IDS` lists every id (a public interface); `FindingLog` reports each id once per run.
// This module imports no tfjs (the host may import the ids). With tfjs: `HealthMonitor` (./monitor) does all of the
// above inside a training session, probes included; `runDoctor` (./doctor) is `segscope doctor`.
export * from './checks';
export * from './observations';
export { THRESHOLDS } from './thresholds';
export { formatFinding } from './finding';
