// Health findings in the Problems panel: a one-epoch run of a demo config seeded with Adadelta at its default learning rate puts optim/adadelta-default-lr on the "optimizer" key of that segscope.json.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRunInfo, runFolders } from '../../support/runFolder';
import { activateExtension, eventually, readJson, scratchFolder } from './workspace';

const RULE = 'optim/adadelta-default-lr';

/** The demo config with Adadelta and no learning rate (so tfjs' default 0.001 applies), one epoch of one small batch. */
function seededConfig(demoConfigPath: string): string {
  const config = readJson<Record<string, any>>(demoConfigPath);
  const folder = path.join(path.dirname(demoConfigPath), 'adadelta');
  fs.mkdirSync(folder, { recursive: true });
  config.name = 'adadelta-default-lr';
  config.data = { ...config.data, root: path.relative(folder, path.resolve(path.dirname(demoConfigPath), config.data.root)), limit: 4 };
  config.train = { ...config.train, epochs: 1, stepsPerEpoch: 1, batchSize: 2, optimizer: { name: 'adadelta' } };
  const seededPath = path.join(folder, 'segscope.json');
  fs.writeFileSync(seededPath, `${JSON.stringify(config, null, 2)}\n`);
  return seededPath;
}

describe('health findings in the Problems panel', () => {
  before(async () => {
    await activateExtension();
  });

  after(async () => {
    await vscode.commands.executeCommand('segscope.stopTraining');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it(`shows ${RULE} of a run on its segscope.json at train.optimizer`, async () => {
    const demo = await vscode.commands.executeCommand<string>('segscope.createDemoProject', vscode.Uri.file(path.join(scratchFolder('findings'), 'demo-data')));
    assert.equal(typeof demo, 'string', 'createDemoProject returns the path of segscope.json');
    const seededPath = seededConfig(demo);
    const uri = vscode.Uri.file(seededPath);
    const started = await vscode.commands.executeCommand<boolean>('segscope.startTraining', uri);
    assert.equal(started, true, 'startTraining accepted the config (Adadelta without a learning rate is a warning, not an error)');

    const finding = await eventually(`a "${RULE}" diagnostic on ${seededPath}`, () =>
      vscode.languages.getDiagnostics(uri).find((d) => d.source === 'segscope health' && d.code === RULE), 180_000);
    // The rule names train.optimizer.learningRate; the file has no such key, so the finding sits on "optimizer".
    const lines = fs.readFileSync(seededPath, 'utf8').split('\n');
    const optimizerLine = lines.findIndex((line) => line.trimStart().startsWith('"optimizer"'));
    assert.ok(optimizerLine > 0, 'the seeded file has an "optimizer" key');
    assert.equal(finding.range.start.line, optimizerLine, `the finding is on line ${optimizerLine + 1}: ${lines[optimizerLine]}`);
    assert.equal(finding.range.start.character, lines[optimizerLine].indexOf('"optimizer"'));
    assert.equal(finding.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(finding.message, /Adadelta/);
    assert.match(finding.message, /learningRate/, 'the message carries the fix');

    // The same finding comes from the run folder (events.jsonl) when the finished run is opened again.
    const runDir = await eventually('the run folder', () => runFolders(path.join(path.dirname(seededPath), '.segscope', 'runs'))[0], 30_000);
    await eventually('the run to end', () => (['finished', 'stopped', 'crashed'].includes(readRunInfo(runDir).status) ? true : undefined), 240_000);
    await vscode.commands.executeCommand('segscope.openRun', vscode.Uri.file(runDir));
    const reopened = await eventually(`"${RULE}" after Open Run…`, () =>
      vscode.languages.getDiagnostics(uri).find((d) => d.source === 'segscope health' && d.code === RULE), 30_000);
    assert.equal(reopened.range.start.line, optimizerLine);
    assert.equal(vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'segscope health' && d.code === RULE).length, 1, 'one diagnostic per finding id');
  });
});
