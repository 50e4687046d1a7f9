// Loads weights into a model layer by layer name (the way Keras' load_weights(by_name=True) does), and reports what
// matched, what is missing, unexpected, shape-mismatched or skipped. Shared by .h5 loading and transferWeights.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import { zeroNewHead } from './newHead';
import { UserFileError } from './userFileError';

/** One weight offered by a source (an .h5 file, another model), owned by a layer name. */
export interface SourceWeight {
  /** Name as stored, e.g. "conv1/kernel:0" (h5) or "conv1/kernel" (tfjs). */
  storedName: string;
  shape: number[];
  /** Makes the tensor to write (the caller disposes it). */
  tensor(): tf.Tensor;
}

export interface ShapeMismatch {
  layer: string;
  /** The weight's local name (kernel, bias, gamma…). */
  weight: string;
  expected: number[];
  /** [] when the source has no such weight for that layer. */
  got: number[];
}

/** What a by-name load did; written into run.json (`weights`) and the output channel. */
export interface WeightLoadReport {
  /** The file (or model) the weights came from. */
  source: string;
  /** Model layers whose every weight was loaded. */
  matched: string[];
  /** Model layers with weights that the source does not have (left as initialised, but see `newHead`). */
  missing: string[];
  /** Source layers the model does not have (ignored). */
  unexpected: string[];
  /** Layers present on both sides whose weights differ in shape or count (left as initialised, but see `newHead`). */
  shapeMismatched: ShapeMismatch[];
  /** Layers left out on request (e.g. the head being replaced). */
  skipped: string[];
  /**
   * Classifier layers not loaded (another class count, skipped or missing) while others were: set to zero so that
   * fine-tuning starts from uniform predictions (newHead.ts says why).
   */
  newHead: string[];
}

export interface ByNameOptions {
  /** Layer names (or a pattern) to leave as initialised even if the source has them. */
  skip?: (layerName: string) => boolean;
  /** Throw on any missing, unexpected or shape-mismatched layer (nothing is written then). */
  strict?: boolean;
}

/** The last part of a weight's name without the ":0" suffix or tfjs' uniquifying "_<n>": conv1/kernel:0 → kernel. */
export function localWeightName(stored: string): string {
  return stored.split('/').pop()!.replace(/:\d+$/, '');
}

/** Layers that own weights, with nested sub-models opened up (Keras saves those as nested groups). */
export function leafLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) out.push(...leafLayers(layer));
    else out.push(layer);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Pairs a layer's weights with the source's: by local name when all are found, else by position. */
function pairWeights(layer: tfl.layers.Layer, source: SourceWeight[]): { pairs: [LayerVariable, SourceWeight][]; mismatches: ShapeMismatch[] } {
  const targets = layer.weights;
  const byName = new Map<string, SourceWeight>();
  for (const s of source) byName.set(localWeightName(s.storedName), s);
  const named = targets.every((w) => byName.has(localWeightName(w.originalName)));
  const pairs: [LayerVariable, SourceWeight][] = [];
  const mismatches: ShapeMismatch[] = [];
  targets.forEach((w, i) => {
    const local = localWeightName(w.originalName);
    const s = named ? byName.get(local) : source[i];
    const expected = w.shape as number[];
    if (s === undefined) mismatches.push({ layer: layer.name, weight: local, expected, got: [] });
    else if (!sameShape(expected, s.shape)) mismatches.push({ layer: layer.name, weight: local, expected, got: s.shape });
    else pairs.push([w, s]);
  });
  if (source.length > targets.length && mismatches.length === 0) {
    for (const s of source.slice(targets.length)) {
      if (!pairs.some(([, p]) => p === s)) mismatches.push({ layer: layer.name, weight: localWeightName(s.storedName), expected: [], got: s.shape });
    }
  }
  return { pairs, mismatches };
}

/** The first problem of a report in model order, for error messages. */
export function firstMismatch(report: WeightLoadReport, model: tfl.LayersModel): { layer: string; text: string } | undefined {
  const order = leafLayers(model).map((l) => l.name);
  const shape = [...report.shapeMismatched].sort((a, b) => order.indexOf(a.layer) - order.indexOf(b.layer))[0];
  if (shape) {
    const got = shape.got.length ? `[${shape.got}]` : 'nothing';
    return { layer: shape.layer, text: `layer "${shape.layer}": ${shape.weight} expected [${shape.expected}], the file has ${got}` };
  }
  if (report.missing.length) return { layer: report.missing[0], text: `layer "${report.missing[0]}" is not in the file` };
  if (report.unexpected.length) return { layer: report.unexpected[0], text: `layer "${report.unexpected[0]}" of the file is not in the model` };
  return undefined;
}

/**
 * Writes source weights into `model` by layer name. A layer is loaded only if all its weights fit (no half-loaded
 * layers). A classifier that is not loaded while other layers are starts at zero (`newHead`). With `strict`, any
 * problem throws a UserFileError naming `sourceName` and the first mismatching layer, before anything is written.
 */
export function loadWeightsByLayerName(
  model: tfl.LayersModel, source: Map<string, SourceWeight[]>, sourceName: string, opts: ByNameOptions = {},
): WeightLoadReport {
  const report: WeightLoadReport = { source: sourceName, matched: [], missing: [], unexpected: [], shapeMismatched: [], skipped: [], newHead: [] };
  const writes: [LayerVariable, SourceWeight][] = [];
  const modelNames = new Set<string>();
  for (const layer of leafLayers(model)) {
    if (layer.weights.length === 0) continue;
    modelNames.add(layer.name);
    const offered = source.get(layer.name);
    if (opts.skip?.(layer.name)) { report.skipped.push(layer.name); continue; }
    if (offered === undefined) { report.missing.push(layer.name); continue; }
    const { pairs, mismatches } = pairWeights(layer, offered);
    if (mismatches.length > 0) { report.shapeMismatched.push(...mismatches); continue; }
    writes.push(...pairs);
    report.matched.push(layer.name);
  }
  for (const name of source.keys()) if (!modelNames.has(name) && (source.get(name)?.length ?? 0) > 0) report.unexpected.push(name);
  if (opts.strict) {
    const first = firstMismatch(report, model);
    if (first !== undefined) throw new UserFileError(sourceName, `weights do not fit the model (strict): ${first.text}`, first.layer);
  }
  for (const [variable, s] of writes) {
    const value = s.tensor();
    try {
      variable.write(value.dtype === variable.dtype ? value : tf.cast(value, variable.dtype));
    } finally {
      value.dispose();
    }
  }
  if (report.matched.length > 0) report.newHead = zeroNewHead(model, new Set(report.matched));
  return report;
}

/** One line per non-empty category, for the output channel and the run's first events. */
export function describeWeightReport(report: WeightLoadReport): string {
  const parts = [`${report.matched.length} layers loaded`];
  if (report.skipped.length) parts.push(`${report.skipped.length} skipped (${report.skipped.slice(0, 3).join(', ')}${report.skipped.length > 3 ? ', …' : ''})`);
  if (report.shapeMismatched.length) {
    const layers = [...new Set(report.shapeMismatched.map((m) => m.layer))];
    parts.push(`${layers.length} shape-mismatched, not loaded (${layers.slice(0, 3).join(', ')}${layers.length > 3 ? ', …' : ''})`);
  }
  if (report.newHead.length) parts.push(`new head starts at zero (${report.newHead.join(', ')})`);
  if (report.missing.length) parts.push(`${report.missing.length} missing from the file (${report.missing.slice(0, 3).join(', ')}${report.missing.length > 3 ? ', …' : ''})`);
  if (report.unexpected.length) parts.push(`${report.unexpected.length} in the file but not in the model (${report.unexpected.slice(0, 3).join(', ')}${report.unexpected.length > 3 ? ', …' : ''})`);
  return `weights from ${report.source}: ${parts.join('; ')}`;
}
