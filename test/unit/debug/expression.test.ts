// Table-driven tests of the breakpoint-condition language: tokenizer, parser, evaluator, name checks, and their error messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, ExpressionError } from '../../../src/debug/expr/lexer';
import { parseExpression } from '../../../src/debug/expr/parser';
import { checkNames, evaluate, isTruthy, Unavailable, type Value, type ValueTree } from '../../../src/debug/expr/evaluate';
import { scopeShape } from '../../../src/debug/pausedState';

const scope: ValueTree = {
  epoch: 4, batch: 7, step: 31, loss: 0.75, mIoU: 0.28, lr: 0.001,
  IoU: { background: 0.9, cat: 0, dog: null },
  train: { loss: 0.5, mIoU: 0.4, IoU: { background: 0.95, cat: 0.1, dog: 0.2 } },
  val: { loss: 0.8, mIoU: 0.28 },
  layers: { 'stem/conv': { mean: 0.5, std: 2 }, logits: { mean: -1, std: 3 } },
  finding: new Unavailable('this stop is not a health finding'),
  name: 'demo',
};

describe('expression evaluator', () => {
  const cases: [string, Value][] = [
    ['1 + 2 * 3', 1 + 2 * 3],
    ['(1 + 2) * 3', (1 + 2) * 3],
    ['10 - 4 - 3', 10 - 4 - 3],
    ['2 * 3 % 4', (2 * 3) % 4],
    ['-2 * 3', -2 * 3],
    ['1e-3 * 2', 1e-3 * 2],
    ['.5 + 1', 0.5 + 1],
    ['miou < 0.3 && epoch >= 3', 0.28 < 0.3 && 4 >= 3],
    ['mIoU < 0.3 and epoch >= 5', false],
    ['iou.cat == 0', true],
    ['iou["cat"] == 0', true],
    ['iou[1] == iou.cat', true],
    ['val.loss > train.loss * 1.5', 0.8 > 0.5 * 1.5],
    ['val.loss / train.loss', 0.8 / 0.5],
    ['layers["stem/conv"].std + layers.logits.std', 2 + 3],
    ['iou.dog > 0.5', false],
    ['iou.dog < 0.5', false],
    ['iou.dog == null', true],
    ['iou.dog + 1', null],
    ['isnan(iou.dog)', true],
    ['!(epoch == 4) || batch == 7', true],
    ['not epoch == 4', false],
    ['max(epoch, batch, 2) - min(1, lr)', 7 - 0.001],
    ['abs(-3) + sqrt(16)', 7],
    ['name == "demo"', true],
    ["name != 'demo'", false],
    ['epoch === 4', true],
    ['true && !false', true],
    ['1 / 0', Infinity],
  ];
  for (const [source, expected] of cases) {
    it(`${source} → ${String(expected)}`, () => {
      const value = evaluate(parseExpression(source), scope);
      if (typeof expected === 'number' && typeof value === 'number' && Number.isFinite(expected)) assert.ok(Math.abs(value - expected) < 1e-12, `${value} vs ${expected}`);
      else assert.equal(value, expected);
    });
  }

  it('treats NaN, 0, null and empty text as false', () => {
    assert.deepEqual([NaN, 0, null, '', false, 1, 'x', {}].map((v) => isTruthy(v as Value)), [false, false, false, false, false, true, true, true]);
  });
});

describe('expression errors', () => {
  const errors: [string, RegExp][] = [
    ['', /empty/],
    ['epoch =  3', /use "=="/],
    ['epoch & 1', /&&/],
    ['(1 + 2', /Expected "\)"/],
    ['1 +', /ends too early/],
    ['1 2', /Unexpected "2"/],
    ['"open', /no closing/],
    ['3abc', /after the number/],
    ['#', /Unexpected character "#"/],
    ['max(1,', /ends too early/],
  ];
  for (const [source, message] of errors) {
    it(`rejects ${JSON.stringify(source)}`, () => {
      assert.throws(() => parseExpression(source), (error: unknown) => error instanceof ExpressionError && message.test(error.message));
    });
  }

  const runtimeErrors: [string, RegExp][] = [
    ['mio < 0.3', /Unknown name "mio"; known names: epoch/],
    ['iou.kat == 0', /iou has no "kat"; it has background, cat, dog/],
    ['epoch.x', /epoch is a number, it has no "x"/],
    ['finding.id', /finding has no value yet: this stop is not a health finding/],
    ['layers["nope"].mean', /layers has no "nope"/],
    ['iou[7]', /out of range \(0..2\)/],
    ['frob(1)', /Unknown function "frob"/],
    ['abs(1, 2)', /abs\(\) takes 1 argument/],
    ['name * 2', /needs numbers, not text/],
    ['train + 1', /needs numbers, not a group/],
  ];
  for (const [source, message] of runtimeErrors) {
    it(`reports ${JSON.stringify(source)}`, () => {
      assert.throws(() => evaluate(parseExpression(source), scope), (error: unknown) => error instanceof ExpressionError && message.test(error.message), source);
    });
  }
});

describe('tokenizer', () => {
  it('keeps positions and reads operators longest first', () => {
    const tokens = tokenize('a<=1 && b!==2');
    assert.deepEqual(tokens.map((t) => [t.kind, t.text, t.pos]), [
      ['name', 'a', 0], ['op', '<=', 1], ['number', '1', 3], ['op', '&&', 5], ['name', 'b', 8], ['op', '!=', 9], ['number', '2', 12], ['end', '', 13],
    ]);
  });
});

describe('name checks before the run', () => {
  const shape = scopeShape(['background', 'cat', 'dog'], { name: 'adam' });
  const ok = ['miou < 0.3 && epoch >= 3', 'iou.cat == 0', 'val.loss > train.loss * 1.5', 'layers["anything"].mean > 1', 'watch.img1.miou < 0.2',
    'optimizer.updateRatio.conv1 > 0.1', 'finding.id == "num/nan"', 'train.IoU.dog > 0', 'lr > 0.1', 'optimizer.name == "adam"'];
  for (const source of ok) it(`accepts ${source}`, () => checkNames(parseExpression(source), shape));

  const bad: [string, RegExp][] = [
    ['mIoUU < 1', /Unknown name "mIoUU"/],
    ['iou.kat == 0', /iou has no "kat"/],
    ['val.miuo', /val has no "miuo"/],
    ['sin(1)', /Unknown function "sin"/],
  ];
  for (const [source, message] of bad) {
    it(`rejects ${source}`, () => assert.throws(() => checkNames(parseExpression(source), shape), message));
  }
});
