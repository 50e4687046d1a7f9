// Editing segscope.json in place: the edited text parses, holds the new value, and keeps everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, setJsonValue } from '../../../src/host/configEdit';
import { parseJsonWithPositions, nodeValue } from '../../../src/config/validate';

const BASE = '{\n  // my config\n  "data": { "format": "voc", "root": "." },\n  "watch": {\n    "images": ["a"]\n  }\n}\n';

function edited(text: string, path: string[], value: unknown): { text: string; value: Record<string, any> } {
  const out = applyEdit(text, setJsonValue(text, path, value));
  return { text: out, value: nodeValue(parseJsonWithPositions(out)) as Record<string, any> };
}

test('replaces an existing value and keeps comments', () => {
  const r = edited(BASE, ['watch', 'images'], ['x', 'y']);
  assert.deepEqual(r.value.watch.images, ['x', 'y']);
  assert.ok(r.text.includes('// my config'));
  assert.deepEqual(r.value.data, { format: 'voc', root: '.' });
});

test('adds a key to an existing object', () => {
  const r = edited(BASE, ['watch', 'layers'], ['conv1']);
  assert.deepEqual(r.value.watch, { images: ['a'], layers: ['conv1'] });
});

test('creates missing parent objects', () => {
  const r = edited('{"data": {"format": "voc", "root": "."}}', ['watch', 'layers'], ['l1', 'l2']);
  assert.deepEqual(r.value.watch, { layers: ['l1', 'l2'] });
  assert.deepEqual(r.value.data, { format: 'voc', root: '.' });
});

test('fills an empty object', () => {
  const r = edited('{"watch": {}}', ['watch', 'images'], []);
  assert.deepEqual(r.value, { watch: { images: [] } });
});

test('refuses to descend into a non-object', () => {
  assert.throws(() => setJsonValue('{"watch": 3}', ['watch', 'images'], []), /not an object/);
});
