// Health findings in the Problems panel: a one-epoch run of a demo config seeded with Adadelta at its default learning rate puts optim/adadelta-default-lr on
// the "optimizer" key of that segscope.json; a new run replaces the findings; Open Run… of the first run brings it back from events.jsonl.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRunInfo, runFolders } from '../../support/runFolder';
import { activateExtension, eventually, readJson, scratchFolder } from './workspace';

const RULE = 'optim/adadelta-default-lr';

/**
 * What each step may take on a slow CI machine (on the loaded 2-core build machine the whole test takes about 11 s,
 * each run about 2 s from run/start to run/end). Mocha's timeout is their sum plus room for the steps without a wait of their own, so a
 * stuck step fails with its own message; index.ts says how this fits in the suite's cap.
 */
const WAIT_MS = {
  finding: 45_000, runFolder: 5_000, firstRunEnd: 15_000, fileReloaded: 10_000,
  secondStart: 10_000, secondRunFolder: 10_000, secondRunEnd: 20_000, reopenedFinding: 5_000,
};
const TEST_TIMEOUT_MS = Object.values(WAIT_MS).reduce((sum, ms) => sum + ms, 0) + 20_000;

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

function healthDiagnostic(uri: vscode.Uri): vscode.Diagnostic | undefined {
  return vscode.languages.getDiagnostics(uri).find((d) => d.source === 'segscope health' && d.code === RULE);
}

/** Waits until run.json says the run ended. */
async function runEnded(runDir: string, timeoutMs: number): Promise<void> {
  await eventually(`${path.basename(runDir)} to end`, () => (['finished', 'stopped', 'crashed'].includes(readRunInfo(runDir).status) ? true : undefined), timeoutMs);
}

describe('health findings in the Problems panel', () => {
  before(async () => {
    await activateExtension();
  });

  after(async () => {
    await vscode.commands.executeCommand('segscope.stopTraining');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it(`shows ${RULE} of a run on its segscope.json at train.optimizer`, async function () {
    this.timeout(TEST_TIMEOUT_MS);
    const demo = await vscode.commands.executeCommand<string>('segscope.createDemoProject', vscode.Uri.file(path.join(scratchFolder('findings'), 'demo-data')));
    assert.equal(typeof demo, 'string', 'createDemoProject returns the path of segscope.json');
    const seededPath = seededConfig(demo);
    const uri = vscode.Uri.file(seededPath);
    const started = await vscode.commands.executeCommand<boolean>('segscope.startTraining', uri);
    assert.equal(started, true, 'startTraining accepted the config (Adadelta without a learning rate is a warning, not an error)');

    const finding = await eventually(`a "${RULE}" diagnostic on ${seededPath}`, () => healthDiagnostic(uri), WAIT_MS.finding);
    // The rule names train.optimizer.learningRate; the file has no such key, so the finding sits on "optimizer".
    const lines = fs.readFileSync(seededPath, 'utf8').split('\n');
    const optimizerLine = lines.findIndex((line) => line.trimStart().startsWith('"optimizer"'));
    assert.ok(optimizerLine > 0, 'the seeded file has an "optimizer" key');
    assert.equal(finding.range.start.line, optimizerLine, `the finding is on line ${optimizerLine + 1}: ${lines[optimizerLine]}`);
    assert.equal(finding.range.start.character, lines[optimizerLine].indexOf('"optimizer"'));
    assert.equal(finding.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(finding.message, /Adadelta/);
    assert.match(finding.message, /learningRate/, 'the message carries the fix');

    const runsDir = path.join(path.dirname(seededPath), '.segscope', 'runs');
    const firstRun = await eventually('the run folder', () => runFolders(runsDir)[0], WAIT_MS.runFolder);
    await runEnded(firstRun, WAIT_MS.firstRunEnd);

    // Fixing the learning rate and training again: the new run replaces the findings, and this one no longer fires.
    const fixed = readJson<Record<string, any>>(seededPath);
    fixed.train.optimizer = { name: 'adadelta', learningRate: 1 };
    fs.writeFileSync(seededPath, `${JSON.stringify(fixed, null, 2)}\n`);
    // Start Training reads the open document: wait until VS Code has reloaded it from disk.
    await eventually('the open segscope.json to show the fixed learning rate', () => {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      return !open || open.getText().includes('"learningRate"') ? true : undefined;
    }, WAIT_MS.fileReloaded);
    // The trainer process exits a moment after run.json says finished; until then Start Training refuses (returns false).
    await eventually('Start Training to accept the second run', async () =>
      ((await vscode.commands.executeCommand<boolean>('segscope.startTraining', uri)) ? true : undefined), WAIT_MS.secondStart);
    const secondRun = await eventually('a second run folder', () => runFolders(runsDir).find((dir) => dir !== firstRun), WAIT_MS.secondRunFolder);
    await runEnded(secondRun, WAIT_MS.secondRunEnd);
    assert.equal(healthDiagnostic(uri), undefined, `the new run cleared ${RULE} (it does not fire with learning rate 1)`);

    // Open Run… on the first run reads its findings from events.jsonl; the file now has the key the rule names.
    await vscode.commands.executeCommand('segscope.openRun', vscode.Uri.file(firstRun));
    const reopened = await eventually(`"${RULE}" after Open Run… of the first run`, () => healthDiagnostic(uri), WAIT_MS.reopenedFinding);
    const fixedLines = fs.readFileSync(seededPath, 'utf8').split('\n');
    const learningRateLine = fixedLines.findIndex((line) => line.trimStart().startsWith('"learningRate"'));
    assert.equal(reopened.range.start.line, learningRateLine, `now on the learningRate line ${learningRateLine + 1}: ${fixedLines[learningRateLine]}`);
    assert.equal(vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'segscope health' && d.code === RULE).length, 1, 'one diagnostic per finding id');
  });
});
