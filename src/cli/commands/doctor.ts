// `segscope doctor <segscope.json> [--steps N] [--json] [--overfit] [--trust]`: health checks before (and during) N
// training steps; exit 1 when an error-severity finding appears or the overfit sanity check fails.
import { ConfigError } from '../../config/load';
import { onePositional, parseArgs, printedHelp } from '../args';
import { formatFinding } from '../../engine/health';
import { OVERFIT_LOSS_DROP, OVERFIT_MIOU, runDoctor, UntrustedModuleError, type DoctorReport } from '../../engine/health/doctor';

const USAGE = 'usage: segscope doctor <segscope.json> [--steps N] [--json] [--overfit] [--trust]';

export async function run(args: string[]): Promise<number> {
  if (printedHelp(args, USAGE)) return 0;
  const parsed = parseArgs(args, { steps: { kind: 'int' }, json: { kind: 'flag' }, overfit: { kind: 'flag' }, trust: { kind: 'flag' } });
  const configPath = onePositional(parsed, 'segscope.json', USAGE);
  const { options } = parsed;
  const steps = typeof options.steps === 'number' ? options.steps : undefined;
  const json = options.json === true, overfit = options.overfit === true, trust = options.trust === true;

  let report: DoctorReport;
  try {
    report = await runDoctor({
      configPath, steps, overfit, trust,
      log: json ? undefined : (line) => console.error(line),
    });
  } catch (e) {
    const known = e instanceof ConfigError || e instanceof UntrustedModuleError;
    console.error(`doctor: ${(e as Error).message}`);
    return known ? 2 : 1;
  }

  const errors = report.findings.filter((f) => f.severity === 'error').length;
  if (json) {
    console.log(JSON.stringify(report.findings));
    if (report.overfit) console.error(JSON.stringify({ overfit: report.overfit }));
  } else {
    console.log(formatReport(report));
  }
  return errors > 0 || (report.overfit && !report.overfit.passed) ? 1 : 0;
}

function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  const last = report.losses[report.losses.length - 1];
  lines.push(`Ran ${report.steps} training step${report.steps === 1 ? "" : "s"} on ${report.backend} in ${(report.durationMs / 1000).toFixed(1)} s`
    + (report.losses.length > 0 ? ` (loss ${report.losses[0].toFixed(4)} → ${last.toFixed(4)}).` : '.'));
  if (report.overfit) {
    const o = report.overfit;
    lines.push(o.passed
      ? `Overfit one batch: PASSED — loss fell ${(o.lossDrop * 100).toFixed(1)} % and the batch mIoU reached ${o.miou.toFixed(3)} in ${o.steps} steps.`
      : `Overfit one batch: FAILED — after ${o.steps} steps the loss fell ${(o.lossDrop * 100).toFixed(1)} % (needs ≥ ${OVERFIT_LOSS_DROP * 100} %) and the batch mIoU is ${o.miou.toFixed(3)} (needs ≥ ${OVERFIT_MIOU}).`);
    if (!o.passed) {
      lines.push(report.findings.length > 0
        ? `A model that cannot learn one batch by heart has a broken pipeline, not bad hyper-parameters. Rules that fired: ${report.findings.map((f) => f.id).join(', ')}.`
        : 'A model that cannot learn one batch by heart has a broken pipeline, not bad hyper-parameters; no rule fired, so try more --steps first.');
    }
  }
  if (report.findings.length === 0) lines.push('No findings: nothing known to be wrong.');
  else {
    lines.push(`${report.findings.length} finding${report.findings.length > 1 ? 's' : ''}:`, '');
    for (const f of report.findings) lines.push(formatFinding(f), '');
  }
  return lines.join('\n');
}
