// findingSpan: a finding's config key (or layer) → the span in segscope.json, table-driven over nested, partial and missing keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findingSpan } from '../../../src/host/findingLocation';

const CONFIG = `{
  // comments are allowed, as in VS Code's JSON with comments
  "name": "demo",
  "train": {
    "epochs": 3,
    "optimizer": { "name": "adadelta" },
    "freeze": { "pattern": "^encoder/" }
  },
  "watch": { "layers": ["encoder/level1/pool", { "odd": true }] },
  "loss": { "type": "ce", "classWeights": [1, 2] }
}
`;

/** The text a span covers, located independently by searching the fixture. */
const at = (needle: string, from = 0) => CONFIG.indexOf(needle, from);

const cases: { name: string; location: { configKey?: string; layer?: string } | undefined; text: string; offset: number; match: string; foundKey: string }[] = [
  { name: 'a top-level scalar: key and value', location: { configKey: 'name' }, text: '"name": "demo"', offset: at('"name": "demo"'), match: 'key', foundKey: 'name' },
  { name: 'a nested scalar', location: { configKey: 'train.epochs' }, text: '"epochs": 3', offset: at('"epochs": 3'), match: 'key', foundKey: 'train.epochs' },
  { name: 'three levels deep', location: { configKey: 'train.optimizer.name' }, text: '"name": "adadelta"', offset: at('"name": "adadelta"'), match: 'key', foundKey: 'train.optimizer.name' },
  { name: 'an object: only its key', location: { configKey: 'train.optimizer' }, text: '"optimizer"', offset: at('"optimizer"'), match: 'key', foundKey: 'train.optimizer' },
  { name: 'a missing leaf: the deepest existing key', location: { configKey: 'train.optimizer.learningRate' }, text: '"optimizer"', offset: at('"optimizer"'), match: 'parent', foundKey: 'train.optimizer' },
  { name: 'a missing middle: the deepest existing key', location: { configKey: 'train.schedule.warmup' }, text: '"train"', offset: at('"train"'), match: 'parent', foundKey: 'train' },
  { name: 'a path through a scalar stops at it', location: { configKey: 'loss.type.extra' }, text: '"type"', offset: at('"type"'), match: 'parent', foundKey: 'loss.type' },
  { name: 'an array item by index', location: { configKey: 'loss.classWeights.1' }, text: '2', offset: at('2]', at('"classWeights"')), match: 'key', foundKey: 'loss.classWeights.1' },
  { name: 'an index past the end: the array key', location: { configKey: 'loss.classWeights.5' }, text: '"classWeights"', offset: at('"classWeights"'), match: 'parent', foundKey: 'loss.classWeights' },
  { name: 'an object item of an array: its opening brace', location: { configKey: 'watch.layers.1' }, text: '{', offset: at('{ "odd"'), match: 'key', foundKey: 'watch.layers.1' },
  { name: 'a missing top-level key with a layer: the layer name', location: { configKey: 'model.arch', layer: 'encoder/level1/pool' }, text: '"encoder/level1/pool"', offset: at('"encoder/level1/pool"'), match: 'layer', foundKey: '' },
  { name: 'only a layer', location: { layer: 'encoder/level1/pool' }, text: '"encoder/level1/pool"', offset: at('"encoder/level1/pool"'), match: 'layer', foundKey: '' },
  { name: 'a layer the file does not name: top of the file', location: { layer: 'decoder/out' }, text: '', offset: 0, match: 'file', foundKey: '' },
  { name: 'a missing top-level key: top of the file', location: { configKey: 'model.arch' }, text: '', offset: 0, match: 'file', foundKey: '' },
  { name: 'no location: top of the file', location: undefined, text: '', offset: 0, match: 'file', foundKey: '' },
  { name: 'an empty key: top of the file', location: { configKey: '' }, text: '', offset: 0, match: 'file', foundKey: '' },
];

for (const c of cases) {
  test(`findingSpan: ${c.name}`, () => {
    assert.ok(c.offset >= 0, 'the fixture contains the expected text');
    const span = findingSpan(CONFIG, c.location);
    assert.equal(CONFIG.slice(span.offset, span.offset + span.length), c.text);
    assert.equal(span.offset, c.offset);
    assert.equal(span.match, c.match);
    assert.equal(span.foundKey, c.foundKey);
  });
}

test('findingSpan: a file that does not parse gives the top of the file', () => {
  const span = findingSpan('{ "train": { "epochs": ', { configKey: 'train.epochs' });
  assert.deepEqual(span, { offset: 0, length: 0, match: 'file', foundKey: '' });
});

test('findingSpan: the same key in another section is not taken for the path', () => {
  // "name" appears at the top level and in train.optimizer; the finding's path picks the nested one.
  const text = '{\n  "name": "x",\n  "train": { "optimizer": { "name": "sgd" } }\n}';
  const span = findingSpan(text, { configKey: 'train.optimizer.name' });
  assert.equal(span.offset, text.lastIndexOf('"name"'));
});
