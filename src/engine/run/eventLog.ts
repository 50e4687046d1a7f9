// events.jsonl: appends each RunEvent as one line (whole lines only) and hands it to live listeners.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../../protocol/runEvents';

export type RunEventListener = (event: RunEvent) => void;

export class EventLog {
  constructor(private readonly file: string | undefined, private readonly listener?: RunEventListener) {
    if (file) mkdirSync(path.dirname(file), { recursive: true });
  }

  emit(event: RunEvent): void {
    // One appendFileSync per line: a reader never sees half a line unless the process dies inside the write call.
    if (this.file) appendFileSync(this.file, JSON.stringify(event) + '\n');
    this.listener?.(event);
  }
}

/** Reads events.jsonl, skipping a trailing partial line (a crash mid-write). */
export function parseEventLines(text: string): RunEvent[] {
  const events: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {
      // a torn last line is ignored
    }
  }
  return events;
}
