// Keeps the last lines of the trainer's stderr and turns a trainer exit into a user-facing verdict (finished, crashed, out of memory, killed). Pure: no vscode.

/** A ring of the last `max` lines written to a stream (partial last line included). */
export class StderrTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 40) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  /** The last `count` lines, oldest first. */
  last(count = this.max): string[] {
    const all = this.partial ? [...this.lines, this.partial] : [...this.lines];
    return all.slice(-count);
  }
}

export type ExitKind = 'finished' | 'stopped' | 'crashed' | 'out-of-memory' | 'killed';

export interface TrainerExit {
  kind: ExitKind;
  /** One sentence for the notification. */
  summary: string;
  code: number | null;
  signal: string | null;
  stderrTail: string[];
}

const OOM_PATTERNS = [/heap out of memory/i, /Reached heap limit/i, /\bOOM\b/, /out of memory/i, /ResourceExhaustedError/i, /Cannot allocate memory/i, /failed to allocate/i];

/**
 * Classifies a trainer exit. `runEnded` is the status of the run/end event if one arrived (a clean end), `lastError` the
 * message of a trainer/error message if one arrived.
 */
export function classifyExit(code: number | null, signal: string | null, stderrTail: string[], runEnded?: string, lastError?: string): TrainerExit {
  const base = { code, signal, stderrTail };
  const text = [...stderrTail, lastError ?? ''].join('\n');
  if (runEnded && runEnded !== 'crashed' && (code === 0 || code === null) && !signal) {
    return { ...base, kind: runEnded === 'finished' || runEnded === 'early-stopped' ? 'finished' : 'stopped', summary: `Training ${runEnded}.` };
  }
  if (OOM_PATTERNS.some((p) => p.test(text))) {
    return { ...base, kind: 'out-of-memory', summary: 'The trainer ran out of memory. Try a smaller batchSize or inputSize, or another backend.' };
  }
  if (signal === 'SIGKILL' || code === 137) {
    return { ...base, kind: 'killed', summary: 'The trainer process was killed (SIGKILL) — often the system\'s out-of-memory killer.' };
  }
  if (signal) return { ...base, kind: 'killed', summary: `The trainer process was stopped by ${signal}.` };
  const why = lastError ?? stderrTail.filter((l) => l.trim()).slice(-1)[0] ?? `exit code ${code}`;
  return { ...base, kind: 'crashed', summary: `The trainer crashed: ${why}` };
}
