// Computes the text edit that sets a value at a JSON path in segscope.json, keeping the rest of the file (comments, order, layout) as it is. Pure: no vscode.
import { findNode, parseJsonWithPositions, type JsonNode } from '../config/validate';

export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

function indentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** The edit that makes `path` (object keys only) hold `value`. Creates missing parent objects. Throws if the text is not JSON. */
export function setJsonValue(text: string, path: string[], value: unknown): TextEdit {
  const root = parseJsonWithPositions(text);
  const existing = findNode(root, path);
  if (existing) return { offset: existing.offset, length: existing.length, newText: JSON.stringify(value) };
  // Deepest existing object along the path.
  let parent: JsonNode = root;
  let depth = 0;
  for (; depth < path.length - 1; depth++) {
    const next = findNode(parent, [path[depth]]);
    if (!next) break;
    if (next.kind !== 'object') throw new Error(`${path.slice(0, depth + 1).join('.')} is not an object`);
    parent = next;
  }
  if (parent.kind !== 'object') throw new Error(`${path.slice(0, depth).join('.') || 'segscope.json'} is not an object`);
  let nested: unknown = value;
  for (let i = path.length - 1; i > depth; i--) nested = { [path[i]]: nested };
  const unit = '  ';
  const baseIndent = parent.properties.length ? indentAt(text, parent.properties[0].keyOffset) : indentAt(text, parent.offset) + unit;
  const body = JSON.stringify(nested, null, 2).replace(/\n/g, `\n${baseIndent}`);
  const property = `"${path[depth]}": ${body}`;
  if (parent.properties.length === 0) {
    const closing = parent.offset + parent.length - 1;
    return { offset: parent.offset + 1, length: closing - parent.offset - 1, newText: `\n${baseIndent}${property}\n${indentAt(text, parent.offset)}` };
  }
  const last = parent.properties[parent.properties.length - 1];
  const end = last.value.offset + last.value.length;
  return { offset: end, length: 0, newText: `,\n${baseIndent}${property}` };
}

export function applyEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.offset) + edit.newText + text.slice(edit.offset + edit.length);
}
