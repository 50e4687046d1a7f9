// Reads what a breakpoint means: function-breakpoint text (`epoch 5`, `epoch 3..10`, `every 5 epochs`, `batch 100`), hit counts,
// and line breakpoints on the "epochs" line of segscope.json or on an epoch's line of the SegScope Timeline document.
import { lineAndCharacter, parseJsonWithPositions } from '../config/validate';

/** Epochs a breakpoint applies to: from..to (inclusive), every n-th epoch of that range counted from epoch `every`. */
export interface EpochSet {
  from: number;
  to: number;
  /** 1 = every epoch of the range; 5 = epochs 5, 10, 15, … */
  every: number;
}

/** Where a breakpoint stops: at the end of an epoch (metrics, probes done) or after a batch. */
export type BreakpointPlace =
  | { at: 'epoch'; epochs: EpochSet }
  | { at: 'batch'; epochs: EpochSet; /** batch number within the epoch (1-based), or every n-th batch */ batch: { n: number } | { every: number } };

/** A boundary the trainer passed: the end of a batch or the end of an epoch. */
export type Boundary = { kind: 'batch'; epoch: number; batch: number } | { kind: 'epoch'; epoch: number };

export const ALL_EPOCHS: EpochSet = { from: 1, to: Infinity, every: 1 };

export class BreakpointSyntaxError extends Error {}

const FORMS = '`epoch 5`, `epoch 3..10`, `every 5 epochs`, `every epoch`, `batch 100`, `every 50 batches`, `epoch 2 batch 10`';

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new BreakpointSyntaxError(`${what} count from 1 (got ${text})`);
  return n;
}

/** Parses the text of a function breakpoint. Case and extra spaces do not matter. */
export function parseFunctionBreakpoint(text: string): BreakpointPlace {
  const words = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (words === '') throw new BreakpointSyntaxError(`Empty breakpoint; write one of ${FORMS}`);
  let m: RegExpExecArray | null;
  if ((m = /^every (?:(\d+) )?epochs?$/.exec(words))) {
    const every = m[1] === undefined ? 1 : positive(m[1], 'Epochs');
    return { at: 'epoch', epochs: { from: 1, to: Infinity, every } };
  }
  if ((m = /^every (?:(\d+) )?batch(?:es)?$/.exec(words))) {
    const every = m[1] === undefined ? 1 : positive(m[1], 'Batches');
    return { at: 'batch', epochs: ALL_EPOCHS, batch: { every } };
  }
  if ((m = /^batch (\S+)$/.exec(words))) {
    return { at: 'batch', epochs: ALL_EPOCHS, batch: { n: batchNumber(m[1]) } };
  }
  if ((m = /^epochs? (\S+)(?: batch (\S+))?$/.exec(words))) {
    const epochs = epochRange(m[1]);
    if (m[2] === undefined) return { at: 'epoch', epochs };
    return { at: 'batch', epochs, batch: { n: batchNumber(m[2]) } };
  }
  throw new BreakpointSyntaxError(`"${text.trim()}" is not a training breakpoint; write one of ${FORMS}`);
}

function batchNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new BreakpointSyntaxError(`"${text}" is not a batch number; write e.g. \`batch 100\``);
  return positive(text, 'Batches');
}

function epochRange(text: string): EpochSet {
  let m: RegExpExecArray | null;
  if (/^\d+$/.test(text)) {
    const n = positive(text, 'Epochs');
    return { from: n, to: n, every: 1 };
  }
  if ((m = /^(\d+)\.\.(\d+)$/.exec(text))) {
    const from = positive(m[1], 'Epochs'), to = positive(m[2], 'Epochs');
    if (to < from) throw new BreakpointSyntaxError(`The range ${text} runs backwards; write \`epoch ${to}..${from}\``);
    return { from, to, every: 1 };
  }
  throw new BreakpointSyntaxError(`"${text}" is not an epoch or a range; write e.g. \`epoch 5\` or \`epoch 3..10\``);
}

function inEpochs(set: EpochSet, epoch: number): boolean {
  return epoch >= set.from && epoch <= set.to && (epoch - set.from + 1) % set.every === 0;
}

/** Whether a breakpoint at `place` stops at `boundary`. */
export function placeMatches(place: BreakpointPlace, boundary: Boundary): boolean {
  if (!inEpochs(place.epochs, boundary.epoch)) return false;
  if (place.at === 'epoch') return boundary.kind === 'epoch';
  if (boundary.kind !== 'batch') return false;
  return 'n' in place.batch ? boundary.batch === place.batch.n : boundary.batch % place.batch.every === 0;
}

/** How a place reads back in the Call Stack and messages. */
export function describePlace(place: BreakpointPlace): string {
  const e = place.epochs;
  const epochs = e.to === Infinity ? (e.every === 1 ? 'every epoch' : `every ${e.every} epochs`)
    : e.from === e.to ? `epoch ${e.from}` : `epochs ${e.from}..${e.to}`;
  if (place.at === 'epoch') return `end of ${epochs}`;
  const batch = 'n' in place.batch ? `batch ${place.batch.n}` : place.batch.every === 1 ? 'every batch' : `every ${place.batch.every} batches`;
  return e.to === Infinity && e.every === 1 ? `${batch} of each epoch` : `${batch} of ${epochs}`;
}

/** A hit-count test in VS Code's syntax: `5` (from the 5th hit on), `>= 5`, `> 5`, `== 5`, `< 5`, `<= 5`, `% 5` (every 5th hit). */
export type HitTest = (hits: number) => boolean;

export function parseHitCondition(text: string): HitTest {
  const m = /^\s*(>=|<=|==?|>|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new BreakpointSyntaxError(`Hit count "${text}" is not understood; write a number optionally after >, >=, ==, <, <= or %`);
  const n = Number(m[2]);
  switch (m[1] ?? '>=') {
    case '>=': return (hits) => hits >= n;
    case '>': return (hits) => hits > n;
    case '<=': return (hits) => hits <= n;
    case '<': return (hits) => hits < n;
    case '%':
      if (n === 0) throw new BreakpointSyntaxError('Hit count "% 0" divides by zero');
      return (hits) => hits % n === 0;
    default: return (hits) => hits === n;
  }
}

/** The 1-based line of the `train.epochs` key in segscope.json text, or undefined if the file does not set it. */
export function findEpochsLine(jsonText: string): number | undefined {
  try {
    const root = parseJsonWithPositions(jsonText);
    if (root.kind !== 'object') return undefined;
    const train = root.properties.find((p) => p.key === 'train')?.value;
    const epochs = train?.kind === 'object' ? train.properties.find((p) => p.key === 'epochs') : undefined;
    return epochs ? lineAndCharacter(jsonText, epochs.keyOffset).line + 1 : undefined;
  } catch {
    // Half-typed JSON while editing: fall back to the first line that looks like the key.
    const index = jsonText.split(/\r?\n/).findIndex((line) => /"epochs"\s*:/.test(line));
    return index < 0 ? undefined : index + 1;
  }
}

/** URI scheme of the read-only SegScope Timeline document (line N = epoch N). */
export const TIMELINE_SCHEME = 'segscope-timeline';

export function isTimelinePath(sourcePath: string): boolean {
  return sourcePath.startsWith(`${TIMELINE_SCHEME}:`);
}
