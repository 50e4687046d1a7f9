// Validates the text of a segscope.json and reports problems with their JSON paths and character offsets (for the Problems panel and the CLI). Pure: no vscode, no tfjs.
import schemaJson from '../../schemas/segscope.schema.json';
import type { SegScopeConfig } from '../protocol/config';

export type ProblemSeverity = 'error' | 'warning' | 'info';

export interface ConfigProblem {
  severity: ProblemSeverity;
  message: string;
  /** JSON path of the value (or key) the problem is about, e.g. ['train', 'optimizer', 'name']. */
  path: (string | number)[];
  /** Character range in the text: the value, or the key for unknown keys. */
  offset: number;
  length: number;
}

export interface ValidationResult {
  /** The parsed config, or null when the text is not JSON. */
  config: SegScopeConfig | null;
  problems: ConfigProblem[];
}

// ---- A small JSON parser that keeps positions (comments and trailing commas are tolerated, as VS Code does for config files). ----

export type JsonNode =
  | { kind: 'object'; offset: number; length: number; properties: JsonProperty[] }
  | { kind: 'array'; offset: number; length: number; items: JsonNode[] }
  | { kind: 'string'; offset: number; length: number; value: string }
  | { kind: 'number'; offset: number; length: number; value: number }
  | { kind: 'boolean'; offset: number; length: number; value: boolean }
  | { kind: 'null'; offset: number; length: number };

export interface JsonProperty {
  key: string;
  keyOffset: number;
  keyLength: number;
  value: JsonNode;
}

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

export function parseJsonWithPositions(text: string): JsonNode {
  let pos = 0;
  const fail = (message: string): never => { throw new JsonSyntaxError(message, Math.min(pos, text.length)); };

  const skipSpace = () => {
    while (pos < text.length) {
      const ch = text[pos];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\ufeff') pos++;
      else if (ch === '/' && text[pos + 1] === '/') { while (pos < text.length && text[pos] !== '\n') pos++; }
      else if (ch === '/' && text[pos + 1] === '*') {
        const end = text.indexOf('*/', pos + 2);
        if (end < 0) fail('Unterminated comment');
        pos = end + 2;
      } else break;
    }
  };

  const parseString = (): { value: string; offset: number; length: number } => {
    const start = pos;
    pos++;
    let value = '';
    while (true) {
      if (pos >= text.length) fail('Unterminated string');
      const ch = text[pos];
      if (ch === '"') { pos++; break; }
      if (ch === '\n') fail('Unterminated string');
      if (ch === '\\') {
        const esc = text[pos + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (esc in simple) { value += simple[esc]; pos += 2; }
        else if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) {
          value += String.fromCharCode(parseInt(text.slice(pos + 2, pos + 6), 16)); pos += 6;
        } else { pos++; fail('Invalid escape in string'); }
      } else { value += ch; pos++; }
    }
    return { value, offset: start, length: pos - start };
  };

  const parseValue = (): JsonNode => {
    skipSpace();
    const start = pos;
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const properties: JsonProperty[] = [];
      skipSpace();
      while (text[pos] !== '}') {
        if (text[pos] !== '"') fail('Expected a property name in double quotes');
        const key = parseString();
        skipSpace();
        if (text[pos] !== ':') fail('Expected ":" after the property name');
        pos++;
        const value = parseValue();
        properties.push({ key: key.value, keyOffset: key.offset, keyLength: key.length, value });
        skipSpace();
        if (text[pos] === ',') { pos++; skipSpace(); continue; }
        if (text[pos] !== '}') fail('Expected "," or "}"');
      }
      pos++;
      return { kind: 'object', offset: start, length: pos - start, properties };
    }
    if (ch === '[') {
      pos++;
      const items: JsonNode[] = [];
      skipSpace();
      while (text[pos] !== ']') {
        items.push(parseValue());
        skipSpace();
        if (text[pos] === ',') { pos++; skipSpace(); continue; }
        if (text[pos] !== ']') fail('Expected "," or "]"');
      }
      pos++;
      return { kind: 'array', offset: start, length: pos - start, items };
    }
    if (ch === '"') return { kind: 'string', ...parseString() };
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 64));
    if (number) { pos += number[0].length; return { kind: 'number', offset: start, length: number[0].length, value: Number(number[0]) }; }
    for (const [word, node] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return node === null ? { kind: 'null', offset: start, length: word.length } : { kind: 'boolean', offset: start, length: word.length, value: node };
      }
    }
    return fail(pos >= text.length ? 'Unexpected end of file' : 'Expected a JSON value');
  };

  const root = parseValue();
  skipSpace();
  if (pos < text.length) fail('Unexpected text after the end of the JSON value');
  return root;
}

/** The plain JavaScript value of a parsed node. */
export function nodeValue(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object': return Object.fromEntries(node.properties.map((p) => [p.key, nodeValue(p.value)]));
    case 'array': return node.items.map(nodeValue);
    case 'null': return null;
    default: return node.value;
  }
}

/** The node at a JSON path, or undefined. */
export function findNode(root: JsonNode, path: (string | number)[]): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const step of path) {
    if (!node) return undefined;
    if (node.kind === 'object') node = node.properties.find((p) => p.key === step)?.value;
    else if (node.kind === 'array' && typeof step === 'number') node = node.items[step];
    else return undefined;
  }
  return node;
}

/** The innermost node containing an offset, with its path and, for object keys, the property (used by hovers). */
export function nodeAtOffset(root: JsonNode, offset: number): { node: JsonNode; path: (string | number)[]; onKey: boolean } | undefined {
  const walk = (node: JsonNode, path: (string | number)[]): { node: JsonNode; path: (string | number)[]; onKey: boolean } | undefined => {
    if (offset < node.offset || offset > node.offset + node.length) return undefined;
    if (node.kind === 'object') {
      for (const p of node.properties) {
        if (offset >= p.keyOffset && offset <= p.keyOffset + p.keyLength) return { node: p.value, path: [...path, p.key], onKey: true };
        const inner = walk(p.value, [...path, p.key]);
        if (inner) return inner;
      }
    } else if (node.kind === 'array') {
      for (let i = 0; i < node.items.length; i++) {
        const inner = walk(node.items[i], [...path, i]);
        if (inner) return inner;
      }
    }
    return { node, path, onKey: false };
  };
  return walk(root, []);
}

// ---- Schema checks: the subset of JSON Schema that schemas/segscope.schema.json uses, so the file is the single source of truth. ----

interface Schema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  oneOf?: Schema[];
  description?: string;
}

const rootSchema = schemaJson as unknown as Schema;

function describe(node: JsonNode): string {
  return node.kind === 'number' && Number.isInteger(node.value) ? 'an integer' : node.kind === 'array' ? 'an array' : node.kind === 'object' ? 'an object' : `a ${node.kind}`;
}

function typeMatches(schema: Schema, node: JsonNode): boolean {
  if (!schema.type) return true;
  if (schema.type === 'integer') return node.kind === 'number' && Number.isInteger(node.value);
  return node.kind === schema.type;
}

function checkSchema(schema: Schema, node: JsonNode, path: (string | number)[], problems: ConfigProblem[]): void {
  const at = (message: string, severity: ProblemSeverity = 'error') =>
    problems.push({ severity, message, path, offset: node.offset, length: node.length });
  const name = path.length ? path.join('.') : 'segscope.json';
  if (schema.oneOf) {
    const fits = schema.oneOf.some((option) => { const sub: ConfigProblem[] = []; checkSchema(option, node, path, sub); return sub.length === 0; });
    if (!fits) at(`${name}: ${schema.description ?? 'value does not match any allowed form'}`);
    return;
  }
  if (schema.enum) {
    const value = nodeValue(node);
    if (!schema.enum.includes(value)) at(`${name} must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}.`);
    return;
  }
  if (!typeMatches(schema, node)) {
    at(`${name} must be ${schema.type === 'integer' ? 'an integer' : schema.type === 'array' || schema.type === 'object' ? `an ${schema.type}` : `a ${schema.type}`}, not ${describe(node)}.`);
    return;
  }
  if (node.kind === 'number') {
    const v = node.value;
    if (schema.minimum !== undefined && v < schema.minimum) at(`${name} must be at least ${schema.minimum}.`);
    if (schema.maximum !== undefined && v > schema.maximum) at(`${name} must be at most ${schema.maximum}.`);
    if (schema.exclusiveMinimum !== undefined && v <= schema.exclusiveMinimum) at(`${name} must be greater than ${schema.exclusiveMinimum}.`);
    if (schema.exclusiveMaximum !== undefined && v >= schema.exclusiveMaximum) at(`${name} must be less than ${schema.exclusiveMaximum}.`);
  }
  if (node.kind === 'array') {
    if (schema.minItems !== undefined && node.items.length < schema.minItems) at(`${name} needs at least ${schema.minItems} items.`);
    if (schema.maxItems !== undefined && node.items.length > schema.maxItems) at(`${name} takes at most ${schema.maxItems} items.`);
    if (schema.items) node.items.forEach((item, i) => checkSchema(schema.items!, item, [...path, i], problems));
  }
  if (node.kind === 'object') {
    const seen = new Set<string>();
    for (const p of node.properties) {
      if (seen.has(p.key)) {
        problems.push({ severity: 'warning', message: `Duplicate key "${p.key}": only the last one counts.`, path: [...path, p.key], offset: p.keyOffset, length: p.keyLength });
      }
      seen.add(p.key);
      const sub = schema.properties?.[p.key];
      if (sub) checkSchema(sub, p.value, [...path, p.key], problems);
      else if (typeof schema.additionalProperties === 'object') checkSchema(schema.additionalProperties, p.value, [...path, p.key], problems);
      else if (schema.additionalProperties === false) {
        const known = Object.keys(schema.properties ?? {});
        const near = closest(p.key, known);
        problems.push({
          severity: 'warning', path: [...path, p.key], offset: p.keyOffset, length: p.keyLength,
          message: `Unknown key "${p.key}" in ${path.length ? path.join('.') : 'segscope.json'}${near ? ` (did you mean "${near}"?)` : ''}.`,
        });
      }
    }
    for (const key of schema.required ?? []) {
      if (!seen.has(key)) at(`${name} is missing "${key}".`);
    }
  }
}

/** The known key nearest to a misspelt one (edit distance ≤ 2), for "did you mean". */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined, bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) { best = k; bestDistance = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

// ---- Checks across keys that a schema cannot express (the known traps get a warning at the key that sets them). ----

function checkSemantics(root: JsonNode, config: SegScopeConfig, problems: ConfigProblem[]): void {
  const at = (path: (string | number)[], severity: ProblemSeverity, message: string) => {
    const node = findNode(root, path);
    if (node) problems.push({ severity, message, path, offset: node.offset, length: node.length });
  };
  const pattern = config.train?.freeze?.pattern;
  if (typeof pattern === 'string') {
    try { new RegExp(pattern); } catch (error) { at(['train', 'freeze', 'pattern'], 'error', `train.freeze.pattern is not a valid regular expression: ${(error as Error).message}`); }
  }
  const classCount = Array.isArray(config.data?.classes) ? config.data.classes.length : 21;
  const weights = config.loss?.classWeights;
  if (Array.isArray(weights) && weights.length !== classCount) {
    at(['loss', 'classWeights'], 'error', `loss.classWeights has ${weights.length} weights but there are ${classCount} classes.`);
  }
  if (Array.isArray(config.data?.classes)) {
    const names = config.data.classes;
    names.forEach((n, i) => { if (names.indexOf(n) !== i) at(['data', 'classes', i], 'warning', `Class name "${n}" appears twice.`); });
    const ignore = config.data.ignoreLabel ?? 255;
    if (typeof ignore === 'number' && ignore < names.length) at(['data', 'ignoreLabel'], 'error', `data.ignoreLabel ${ignore} is a class index (there are ${names.length} classes); void pixels would be trained as "${names[ignore]}".`);
  }
  const size = config.data?.inputSize;
  if (typeof size === 'number' && Number.isInteger(size) && size % 16 !== 0) at(['data', 'inputSize'], 'warning', `data.inputSize ${size} is not a multiple of 16: feature maps will not line up with the output stride.`);
  if (config.model?.finalSoftmax === true && config.loss?.fromLogits !== false) {
    at(['model', 'finalSoftmax'], 'warning', 'model.finalSoftmax adds a softmax while the loss also applies one (loss.fromLogits is true): softmax applied twice flattens the gradients.');
  }
  if (config.data?.maskResize === 'bilinear') at(['data', 'maskResize'], 'warning', 'Bilinear mask resizing invents label values between classes (and near the ignore label); use "nearest".');
  if (config.loss?.target === 'onehot' && config.loss?.onehotIgnore === 'value') {
    at(['loss', 'onehotIgnore'], 'warning', 'Writing the ignore value into one-hot targets makes void pixels count with a huge target; use "zero".');
  }
  if (config.train?.frozenBatchNorm === 'train') at(['train', 'frozenBatchNorm'], 'warning', 'Frozen BatchNorm layers in training mode keep updating their statistics (the Keras trap); use "inference".');
  const optimizer = config.train?.optimizer;
  if (optimizer?.name === 'adadelta' && optimizer.learningRate === undefined) {
    at(['train', 'optimizer', 'name'], 'warning', 'Adadelta without a learningRate uses the tfjs default 0.001, about 1000× smaller than the original paper\'s 1.0: training will barely move.');
  }
  const stopMetric = config.train?.earlyStopping?.metric;
  if (stopMetric && (config.train?.epochs ?? 10) <= (config.train?.earlyStopping?.patience ?? 0)) {
    at(['train', 'earlyStopping', 'patience'], 'info', 'earlyStopping.patience is not smaller than train.epochs: early stopping can never trigger.');
  }
}

/** Parses and checks the text of a segscope.json. Never throws. */
export function validateConfigText(text: string): ValidationResult {
  let root: JsonNode;
  try {
    root = parseJsonWithPositions(text);
  } catch (error) {
    const offset = error instanceof JsonSyntaxError ? error.offset : 0;
    return { config: null, problems: [{ severity: 'error', message: `segscope.json is not valid JSON: ${(error as Error).message}.`, path: [], offset, length: 1 }] };
  }
  const problems: ConfigProblem[] = [];
  checkSchema(rootSchema, root, [], problems);
  const config = nodeValue(root) as SegScopeConfig;
  if (root.kind === 'object') checkSemantics(root, config, problems);
  return { config: root.kind === 'object' ? config : null, problems };
}

/** True when the problems allow a run to start (warnings and infos do not block). */
export function canStart(problems: ConfigProblem[]): boolean {
  return !problems.some((p) => p.severity === 'error');
}

/** Converts an offset to a 0-based line and character (for the CLI; the host uses TextDocument.positionAt). */
export function lineAndCharacter(text: string, offset: number): { line: number; character: number } {
  let line = 0, lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') { line++; lineStart = i + 1; }
  return { line, character: offset - lineStart };
}
