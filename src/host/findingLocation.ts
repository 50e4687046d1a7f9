// Where a health finding points in segscope.json: its config key (the deepest key of the dotted path that the file has), else its layer name, else the top of the file. Pure: no vscode.
import type { Finding } from '../protocol/runEvents';
import { parseJsonWithPositions, type JsonNode } from '../config/validate';

export interface FindingSpan {
  offset: number;
  length: number;
  /** How much of the location the file holds: the whole key path, only a parent of it, the layer's name, or nothing. */
  match: 'key' | 'parent' | 'layer' | 'file';
  /** The dotted path that was found ('' for the layer name or the top of the file). */
  foundKey: string;
}

const TOP_OF_FILE: FindingSpan = { offset: 0, length: 0, match: 'file', foundKey: '' };

/** The span of a finding's location in the text of its segscope.json. */
export function findingSpan(text: string, location: Finding['location']): FindingSpan {
  let root: JsonNode;
  try {
    root = parseJsonWithPositions(text);
  } catch {
    return TOP_OF_FILE;
  }
  if (location?.configKey) {
    const span = configKeySpan(root, location.configKey);
    if (span) return span;
  }
  if (location?.layer) {
    const node = stringValue(root, location.layer);
    if (node) return { offset: node.offset, length: node.length, match: 'layer', foundKey: '' };
  }
  return TOP_OF_FILE;
}

/**
 * The deepest property of a dotted path ('train.optimizer.learningRate'; array items by index: 'watch.layers.0').
 * The whole path: its key and a scalar value (only the key when the value is an object or array); a parent: its key.
 */
function configKeySpan(root: JsonNode, configKey: string): FindingSpan | undefined {
  const steps = configKey.split('.').filter((s) => s !== '');
  let node = root;
  let key: { offset: number; length: number } | undefined;
  let withValue: { offset: number; length: number } | undefined;
  let depth = 0;
  for (const step of steps) {
    if (node.kind === 'object') {
      const property = node.properties.find((p) => p.key === step);
      if (!property) break;
      key = { offset: property.keyOffset, length: property.keyLength };
      node = property.value;
      withValue = isContainer(node) ? key : { offset: key.offset, length: node.offset + node.length - key.offset };
    } else if (node.kind === 'array' && /^\d+$/.test(step) && Number(step) < node.items.length) {
      node = node.items[Number(step)];
      key = { offset: node.offset, length: isContainer(node) ? 1 : node.length };
      withValue = key;
    } else {
      break;
    }
    depth++;
  }
  if (!key || !withValue) return undefined;
  const whole = depth === steps.length;
  return { ...(whole ? withValue : key), match: whole ? 'key' : 'parent', foundKey: steps.slice(0, depth).join('.') };
}

function isContainer(node: JsonNode): boolean {
  return node.kind === 'object' || node.kind === 'array';
}

/** The first string value equal to `value` (a layer named in watch.layers, train.freeze, …), in document order. */
function stringValue(node: JsonNode, value: string): JsonNode | undefined {
  if (node.kind === 'string') return node.value === value ? node : undefined;
  const children = node.kind === 'object' ? node.properties.map((p) => p.value) : node.kind === 'array' ? node.items : [];
  for (const child of children) {
    const hit = stringValue(child, value);
    if (hit) return hit;
  }
  return undefined;
}
