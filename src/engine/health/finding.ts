// Builds findings with readable evidence (numbers rounded to 4 significant digits) and formats them for people.
import type { Finding, Severity } from '../../protocol/runEvents';

export type Evidence = Finding['evidence'];

export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(4));
}

export function finding(
  id: string, severity: Severity, cause: string, fix: string, evidence: Evidence, location?: Finding['location'],
): Finding {
  const rounded: Evidence = {};
  for (const [key, value] of Object.entries(evidence)) {
    rounded[key] = typeof value === 'number' ? (Number.isFinite(value) ? round(value) : String(value)) : value;
  }
  return { id, severity, cause, fix, evidence: rounded, ...(location ? { location } : {}) };
}

/** "1.23e-5" or "0.0123": short number text for sentences. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return String(round(value));
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.01 ? 2 : 1)} %`;
}

/** "a, b and 3 more" */
export function listOf(items: (string | number)[], max = 5): string {
  const shown = items.slice(0, max).map(String);
  if (items.length <= max) return shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}` : shown.join('');
  return `${shown.join(', ')} and ${items.length - max} more`;
}

/** One finding as text for a terminal: severity, id, cause, fix, evidence, location. */
export function formatFinding(f: Finding): string {
  const where = [f.location?.configKey && `segscope.json: ${f.location.configKey}`, f.location?.layer && `layer: ${f.location.layer}`]
    .filter(Boolean).join(', ');
  const evidence = Object.entries(f.evidence).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    `${f.severity.toUpperCase()} ${f.id}${where ? `  (${where})` : ''}`,
    `  cause: ${f.cause}`,
    `  fix:   ${f.fix}`,
    `  evidence: ${evidence}`,
  ].join('\n');
}
