// Finding layer names under the cursor in segscope.json, model.json and code, and the hover's Markdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerAt, layerHoverMarkdown, stringLiteralAt, freezePatternMarkdown } from '../../../src/host/layerHover';
import type { LayerStats } from '../../../src/protocol/runFolder';

const LAYERS = ['input_1', 'stem/conv', 'stem/bn', 'block1/relu', 'block2/relu', 'logits'];

test('a watch.layers entry in segscope.json names its layer', () => {
  const text = JSON.stringify({ data: { format: 'voc', root: '.' }, watch: { layers: ['block1/relu', 'nope'] } }, null, 2);
  const at = text.indexOf('block1/relu') + 2;
  const hit = layerAt(text, at, 'segscope', LAYERS);
  assert.deepEqual(hit?.layers, ['block1/relu']);
  assert.equal(text.slice(hit!.offset, hit!.offset + hit!.length), '"block1/relu"');
  assert.equal(layerAt(text, text.indexOf('nope') + 1, 'segscope', LAYERS), undefined);
});

test('a freeze pattern lists the layers it matches', () => {
  const text = JSON.stringify({ train: { freeze: { pattern: '^stem/' } } });
  const hit = layerAt(text, text.indexOf('^stem') + 1, 'segscope', LAYERS);
  assert.deepEqual(hit?.layers, LAYERS.filter((l) => /^stem\//.test(l)));
  assert.equal(hit?.pattern, '^stem/');
  assert.match(freezePatternMarkdown('^stem/', hit!.layers, 'run1'), /freezes 2 layers/);
});

test('other strings in segscope.json are not layers even if they match a name', () => {
  const text = JSON.stringify({ name: 'logits' });
  assert.equal(layerAt(text, text.indexOf('logits') + 1, 'segscope', LAYERS), undefined);
});

test('model.json names and weight names map to layers', () => {
  const text = '{"config": {"layers": [{"class_name": "Conv2D", "config": {"name": "stem/conv"}}]},\n "weightsManifest": [{"weights": [{"name": "stem/bn/gamma"}]}]}';
  assert.deepEqual(layerAt(text, text.indexOf('stem/conv') + 1, 'model', LAYERS)?.layers, ['stem/conv']);
  assert.deepEqual(layerAt(text, text.indexOf('stem/bn/gamma') + 3, 'model', LAYERS)?.layers, ['stem/bn']);
});

test('JS/TS string literals with any quote name layers', () => {
  const code = "const a = model.getLayer('block2/relu');\nconst b = `logits`; const c = \"stem/bn\";";
  assert.deepEqual(layerAt(code, code.indexOf('block2') + 1, 'code', LAYERS)?.layers, ['block2/relu']);
  assert.deepEqual(layerAt(code, code.indexOf('logits') + 1, 'code', LAYERS)?.layers, ['logits']);
  assert.deepEqual(layerAt(code, code.indexOf('stem/bn') + 1, 'code', LAYERS)?.layers, ['stem/bn']);
  assert.equal(layerAt(code, code.indexOf('getLayer') + 1, 'code', LAYERS), undefined);
});

test('stringLiteralAt handles escapes and stays within one line', () => {
  const text = 'x = "a\\"b" + \'c\'';
  assert.equal(stringLiteralAt(text, text.indexOf('a'))?.value, 'a"b');
  assert.equal(stringLiteralAt(text, text.indexOf('c'))?.value, 'c');
  assert.equal(stringLiteralAt(text, 0), undefined);
});

test('the hover shows every statistic of the latest epoch', () => {
  const stats: LayerStats = { mean: 0.25, std: 0.5, min: 0, max: 6, zeros: 0.42, saturated: 0.01, gradNorm: 0.0123, updateRatio: 0.00042 };
  const md = layerHoverMarkdown('block1/relu', { name: 'block1/relu', className: 'ReLU', outputShape: [32, 32, 64], params: 0, trainable: true }, { epoch: 7, stats }, 'run-a');
  for (const part of ['block1/relu', 'ReLU', '32×32×64', 'epoch 7', 'run-a', '0.250', '0.500', '6.000', '42.0 %', '0.012', '4.20e-4']) assert.ok(md.includes(part), `${part} in ${md}`);
  assert.match(layerHoverMarkdown('x', undefined, undefined, 'r'), /No statistics/);
});
