// Config validation: every problem points at the right characters of segscope.json, and the position-keeping parser agrees with JSON.parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findNode, lineAndCharacter, nodeAtOffset, nodeValue, parseJsonWithPositions, validateConfigText } from '../../../src/config/validate';

const VALID = {
  name: 'demo',
  data: { format: 'voc', root: '.', classes: ['background', 'disc', 'square'], inputSize: 128 },
  model: { arch: 'deeplabv3plus', backbone: 'mobilenetv2', outputStride: 16 },
  train: { epochs: 5, batchSize: 4, optimizer: { name: 'adam', learningRate: 0.001 }, freeze: { pattern: '^block_[0-3]_' } },
  loss: { type: 'ce' },
  watch: { images: ['a', 'b'], layers: ['block1/relu'] },
};

function text(config: unknown): string {
  return JSON.stringify(config, null, 2);
}

/** The problem about `path`, and the exact text it covers. */
function problemAt(source: string, path: string) {
  const result = validateConfigText(source);
  const problem = result.problems.find((p) => p.path.join('.') === path);
  assert.ok(problem, `expected a problem at ${path}, got ${JSON.stringify(result.problems.map((p) => p.path.join('.')))}`);
  return { problem, covered: source.slice(problem.offset, problem.offset + problem.length) };
}

test('a valid config has no errors and parses to the same value as JSON.parse', () => {
  const source = text(VALID);
  const result = validateConfigText(source);
  assert.deepEqual(result.problems.filter((p) => p.severity === 'error'), []);
  assert.deepEqual(result.config, JSON.parse(source));
});

test('parser values equal JSON.parse on varied documents', () => {
  const docs = [
    '{"a": [1, -2.5e3, 0.125, true, false, null, "x\\"y\\u00e9\\n"], "b": {"c": {}}, "d": []}',
    '[{"k": "v"}, [], [[]], 12345678901234]',
    '"just a string"',
    ' \n\t{ "spaced" : 1 , "x":{"y":[ 1 ,2 ]}}  ',
  ];
  for (const doc of docs) assert.deepEqual(nodeValue(parseJsonWithPositions(doc)), JSON.parse(doc), doc);
});

test('comments and trailing commas are tolerated like VS Code config files', () => {
  const source = '{\n  // the data\n  "data": {"format": "voc", "root": "."}, /* done */\n}';
  const result = validateConfigText(source);
  assert.deepEqual(result.config, { data: { format: 'voc', root: '.' } });
  assert.equal(result.problems.filter((p) => p.severity === 'error').length, 0);
});

test('a syntax error is reported at the offending character', () => {
  const source = '{\n  "data": {"format": "voc" "root": "."}\n}';
  const result = validateConfigText(source);
  assert.equal(result.config, null);
  assert.equal(result.problems.length, 1);
  const expected = source.indexOf('"root"');
  assert.equal(result.problems[0].offset, expected);
  assert.deepEqual(lineAndCharacter(source, expected), { line: 1, character: source.split('\n')[1].indexOf('"root"') });
});

test('a wrong enum value is reported on the value', () => {
  const source = text({ ...VALID, train: { ...VALID.train, optimizer: { name: 'adamw' } } });
  const { problem, covered } = problemAt(source, 'train.optimizer.name');
  assert.equal(covered, '"adamw"');
  assert.equal(problem.severity, 'error');
  assert.match(problem.message, /adam/);
});

test('a wrong type is reported on the value with both types named', () => {
  const source = text({ ...VALID, train: { ...VALID.train, epochs: '10' } });
  const { problem, covered } = problemAt(source, 'train.epochs');
  assert.equal(covered, '"10"');
  assert.match(problem.message, /integer.*string/);
});

test('numbers out of range and non-integers are errors', () => {
  const source = text({ ...VALID, train: { ...VALID.train, batchSize: 0, epochs: 2.5 } });
  assert.equal(problemAt(source, 'train.batchSize').covered, '0');
  assert.equal(problemAt(source, 'train.epochs').covered, '2.5');
});

test('an unknown key is a warning on the key, with the nearest known key suggested', () => {
  const source = text({ ...VALID, train: { ...VALID.train, epoch: 3 } });
  const { problem, covered } = problemAt(source, 'train.epoch');
  assert.equal(covered, '"epoch"');
  assert.equal(problem.severity, 'warning');
  assert.match(problem.message, /did you mean "epochs"/);
});

test('a missing required section is reported on the enclosing object', () => {
  const source = '{ "name": "x" }';
  const result = validateConfigText(source);
  const missing = result.problems.find((p) => /missing "data"/.test(p.message));
  assert.ok(missing);
  assert.equal(missing.offset, 0);
  assert.equal(missing.length, source.length);
});

test('an invalid freeze pattern is an error on the pattern string', () => {
  const source = text({ ...VALID, train: { ...VALID.train, freeze: { pattern: 'block_(' } } });
  const { problem, covered } = problemAt(source, 'train.freeze.pattern');
  assert.equal(covered, '"block_("');
  assert.match(problem.message, /regular expression/);
});

test('classWeights must have one weight per class', () => {
  const source = text({ ...VALID, loss: { type: 'weighted-ce', classWeights: [1, 2] } });
  const { problem, covered } = problemAt(source, 'loss.classWeights');
  assert.equal(covered.replace(/\s/g, ''), '[1,2]');
  assert.match(problem.message, /2 weights but there are 3 classes/);
});

test('classWeights accepts "inverse-frequency" and rejects other strings', () => {
  assert.equal(validateConfigText(text({ ...VALID, loss: { classWeights: 'inverse-frequency' } })).problems.filter((p) => p.severity === 'error').length, 0);
  assert.equal(problemAt(text({ ...VALID, loss: { classWeights: 'inverse' } }), 'loss.classWeights').covered, '"inverse"');
});

test('known traps are warnings at the key that sets them', () => {
  const source = text({
    ...VALID,
    model: { ...VALID.model, finalSoftmax: true },
    data: { ...VALID.data, maskResize: 'bilinear' },
    train: { ...VALID.train, frozenBatchNorm: 'train', optimizer: { name: 'adadelta' } },
  });
  for (const [path, covered] of [['model.finalSoftmax', 'true'], ['data.maskResize', '"bilinear"'], ['train.frozenBatchNorm', '"train"'], ['train.optimizer.name', '"adadelta"']]) {
    const hit = problemAt(source, path);
    assert.equal(hit.covered, covered, path);
    assert.equal(hit.problem.severity, 'warning', path);
  }
});

test('an ignore label that is a class index is an error', () => {
  const source = text({ ...VALID, data: { ...VALID.data, ignoreLabel: 1 } });
  assert.equal(problemAt(source, 'data.ignoreLabel').covered, '1');
});

test('duplicate keys are flagged on the second key', () => {
  const source = '{"data": {"format": "voc", "root": "."}, "name": "a", "name": "b"}';
  const problem = validateConfigText(source).problems.find((p) => /Duplicate/.test(p.message));
  assert.ok(problem);
  assert.equal(problem.offset, source.lastIndexOf('"name"'));
});

test('findNode and nodeAtOffset agree on paths', () => {
  const source = text(VALID);
  const root = parseJsonWithPositions(source);
  const node = findNode(root, ['watch', 'layers', 0]);
  assert.ok(node && node.kind === 'string');
  assert.equal(source.slice(node.offset, node.offset + node.length), '"block1/relu"');
  const hit = nodeAtOffset(root, node.offset + 3);
  assert.deepEqual(hit?.path, ['watch', 'layers', 0]);
  assert.equal(hit?.onKey, false);
  const keyHit = nodeAtOffset(root, source.indexOf('"freeze"') + 2);
  assert.deepEqual(keyHit?.path, ['train', 'freeze']);
  assert.equal(keyHit?.onKey, true);
});
