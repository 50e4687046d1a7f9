// The bug zoo: `segscope doctor` on each seeded mistake reports its rule (and no unrelated error), nothing on healthy setups.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { run as doctorCli } from '../../../src/cli/commands/doctor';
import type { SegScopeConfig } from '../../../src/protocol/config';
import type { Finding } from '../../../src/protocol/runEvents';
import { makeDemoData } from '../../../src/engine/data/demo';
import { overfitPassed, runDoctor } from '../../../src/engine/health/doctor';

const ZOO = path.resolve(__dirname, '../../fixtures/bugzoo');

interface Expectation {
  mistake: string;
  expect: string[];
  allowErrors: string[];
  steps: number;
}

const cases = readdirSync(ZOO, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

function readCase(name: string): { configPath: string; config: SegScopeConfig; expectation: Expectation } {
  const configPath = path.join(ZOO, name, 'segscope.json');
  return {
    configPath,
    config: JSON.parse(readFileSync(configPath, 'utf8')) as SegScopeConfig,
    expectation: JSON.parse(readFileSync(path.join(ZOO, name, 'expect.json'), 'utf8')) as Expectation,
  };
}

const summary = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.id}: ${f.cause}`).join('\n');

describe('bug zoo', () => {
  let dataDir = '';
  let demoConfigPath = '';

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'segscope-bugzoo-'));
    const demo = await makeDemoData(dataDir, { count: 24, size: 64, seed: 3 });
    demoConfigPath = demo.configPath;
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('has a case for every rule that can be seeded, each with an expectation', () => {
    assert.ok(cases.length >= 18, `only ${cases.length} cases`);
    for (const name of cases) {
      const { expectation } = readCase(name);
      assert.ok(Array.isArray(expectation.expect) && expectation.mistake.length > 10, name);
    }
  });

  it('the healthy demo config (as make-demo-data writes it) gives zero findings', async () => {
    const report = await runDoctor({ configPath: demoConfigPath, steps: 20 });
    assert.equal(report.steps, 20);
    assert.deepEqual(report.findings, [], summary(report.findings));
    // The probes ran and saw a healthy pipeline, rather than nothing at all.
    const seen = report.observed.static!;
    assert.ok(seen.voidPerturbation!.voidPixels > 0);
    assert.equal(seen.voidPerturbation!.lossBefore, seen.voidPerturbation!.lossAfter);
    assert.equal(seen.metric!.perfectExceptVoid, 1);
    assert.ok(report.losses[19] < report.losses[0]);
  });

  for (const name of cases) {
    it(name, async () => {
      const { configPath, config, expectation } = readCase(name);
      config.data.root = dataDir;
      const report = await runDoctor({ configPath, config, steps: expectation.steps, trust: true });
      const ids = report.findings.map((f) => f.id);
      for (const id of expectation.expect) assert.ok(ids.includes(id), `${name}: expected ${id}, got:\n${summary(report.findings)}`);
      const allowed = new Set([...expectation.expect, ...expectation.allowErrors]);
      const unrelated = report.findings.filter((f) => f.severity === 'error' && !allowed.has(f.id));
      assert.deepEqual(unrelated, [], `${name}: unrelated errors:\n${summary(unrelated)}`);
      if (expectation.expect.length === 0) assert.deepEqual(report.findings, [], summary(report.findings));
      for (const f of report.findings) {
        assert.ok(f.cause.length > 20 && f.fix.length > 20);
        assert.ok(f.location?.configKey, `${f.id} names a segscope.json key`);
      }
    });
  }

  it('leaves no tensors behind (second and third run of a case)', async () => {
    const { configPath, config } = readCase('seed-combination');
    config.data.root = dataDir;
    await runDoctor({ configPath, config, steps: 2, trust: true });
    const before = tf.memory().numTensors;
    await runDoctor({ configPath, config, steps: 2, trust: true });
    assert.equal(tf.memory().numTensors, before);
  });

  it('overfit one batch fails on the seed combination and names the rules that fired', async () => {
    const { configPath, config } = readCase('seed-combination');
    config.data.root = dataDir;
    const report = await runDoctor({ configPath, config, steps: 20, trust: true, overfit: true });
    assert.ok(report.overfit);
    assert.equal(report.overfit.passed, false);
    assert.equal(report.overfit.steps, 20);
    assert.ok(report.overfit.lossDrop < 0.9, `loss drop ${report.overfit.lossDrop}`);
    const ids = report.findings.map((f) => f.id);
    for (const id of ['model/double-softmax', 'labels/ignore-in-onehot', 'optim/adadelta-default-lr']) assert.ok(ids.includes(id));
  });

  it('overfit pass criterion: loss down ≥ 90 % and batch mIoU ≥ 0.9', () => {
    assert.equal(overfitPassed([2, 1, 0.19], 0.95), true);
    assert.equal(overfitPassed([2, 1, 0.21], 0.95), false);
    assert.equal(overfitPassed([2, 1, 0.1], 0.89), false);
    assert.equal(overfitPassed([2], 1), false);
  });

  it('loads user modules only with --trust', async () => {
    const { configPath, config } = readCase('loss-ignore-not-excluded');
    config.data.root = dataDir;
    await assert.rejects(runDoctor({ configPath, config, steps: 0 }), /--trust/);
  });

  it('the CLI prints a JSON array of findings and exits 1 on an error finding', async () => {
    const { config } = readCase('model-double-softmax');
    config.data.root = dataDir;
    const file = path.join(dataDir, 'double-softmax.json');
    writeFileSync(file, JSON.stringify(config));
    const printed: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => { printed.push(args.join(' ')); };
    let code: number;
    try {
      code = await doctorCli([file, '--steps', '1', '--json']);
    } finally {
      console.log = original;
    }
    assert.equal(code, 1);
    const findings = JSON.parse(printed.join('\n')) as Finding[];
    assert.ok(Array.isArray(findings));
    assert.ok(findings.some((f) => f.id === 'model/double-softmax' && f.location?.configKey === 'model.finalSoftmax'));
  });
});
