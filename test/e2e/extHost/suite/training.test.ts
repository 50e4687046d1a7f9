// Create Demo Project and a one-epoch Start Training through executeCommand: the run folder fills in on disk, the dashboard draws the epoch, and the host stall is logged.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runPaths } from '../../../../src/protocol/runFolder';
import { readRunInfo, runFolders } from '../../support/runFolder';
import { activateExtension, eventually, readJson, scratchFolder } from './workspace';

/**
 * A quick copy of the demo config (one epoch of one small batch, 4 images per split) in a sub-folder of the demo
 * project: a new file, so no open editor of the original has to be edited and saved.
 */
function quickConfig(demoConfigPath: string): string {
  const config = readJson<Record<string, any>>(demoConfigPath);
  const folder = path.join(path.dirname(demoConfigPath), 'quick');
  fs.mkdirSync(folder, { recursive: true });
  config.name = 'quick';
  config.data = { ...config.data, root: path.relative(folder, path.resolve(path.dirname(demoConfigPath), config.data.root)), limit: 4 };
  config.train = { ...config.train, epochs: 1, stepsPerEpoch: 1, batchSize: 2 };
  const quickPath = path.join(folder, 'segscope.json');
  fs.writeFileSync(quickPath, `${JSON.stringify(config, null, 2)}\n`);
  return quickPath;
}

/**
 * What each step of the one-epoch run may take on a slow CI machine (on the loaded 2-core build machine: the run folder
 * a few seconds after Start Training, run.json finished about 2 s later). Mocha's timeout is their sum plus room for the
 * steps without a wait of their own, so a stuck step fails with its own message; index.ts says how this fits in the
 * suite's cap.
 */
const WAIT_MS = { runFolder: 25_000, finished: 30_000, dashboardEpoch: 20_000 };
const TEST_TIMEOUT_MS = Object.values(WAIT_MS).reduce((sum, ms) => sum + ms, 0) + 15_000;

describe('Create Demo Project and Start Training', () => {
  let configPath: string;

  before(async () => {
    await activateExtension();
  });

  after(async () => {
    await vscode.commands.executeCommand('segscope.stopTraining');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('writes a demo dataset and a valid segscope.json', async () => {
    const target = path.join(scratchFolder('demo'), 'demo-data');
    const result = await vscode.commands.executeCommand<string>('segscope.createDemoProject', vscode.Uri.file(target));
    assert.equal(typeof result, 'string', 'createDemoProject returns the path of segscope.json');
    configPath = result;
    assert.equal(path.basename(configPath), 'segscope.json');
    const config = readJson<{ data: { root: string } }>(configPath);
    assert.ok(fs.existsSync(path.resolve(path.dirname(configPath), config.data.root)), 'data.root exists');
    const problems = vscode.languages.getDiagnostics(vscode.Uri.file(configPath))
      .filter((d) => d.source === 'segscope' && d.severity === vscode.DiagnosticSeverity.Error);
    assert.deepEqual(problems.map((d) => d.message), [], 'the demo config has no errors');
  });

  it('trains one epoch and writes its maps for every watch image', async function () {
    this.timeout(TEST_TIMEOUT_MS);
    assert.ok(configPath, 'the demo project exists (previous test)');
    const quickPath = quickConfig(configPath);
    await vscode.commands.executeCommand('segscope.debug.hostStall', { reset: true });
    const started = await vscode.commands.executeCommand<boolean>('segscope.startTraining', vscode.Uri.file(quickPath));
    assert.equal(started, true, 'startTraining accepted the config');
    const runsDir = path.join(path.dirname(quickPath), '.segscope', 'runs');
    const runDir = await eventually('a run folder with run.json', () => runFolders(runsDir)[0], WAIT_MS.runFolder);
    const info = await eventually('run.json to say finished', () => {
      const current = readRunInfo(runDir);
      if (current.status === 'crashed' || current.status === 'stopped') throw new Error(`run ended ${current.status}`);
      return current.status === 'finished' ? current : undefined;
    }, WAIT_MS.finished);
    assert.equal(info.epochsDone, 1);
    assert.ok(info.watch.images.length > 0, 'the run watches some images');
    for (const image of info.watch.images) {
      for (const file of [runPaths.argmax(1, image.id), runPaths.confidence(1, image.id), runPaths.error(1, image.id)]) {
        assert.ok(fs.existsSync(path.join(runDir, file)), `${file} exists`);
      }
    }
    // The dashboard opened on start (segscope.openDashboardOnStart) and its page reported drawing epoch 1:
    // its script loaded under the CSP and read the run folder.
    await eventually('the dashboard page to report drawing epoch 1 (segscope.debug.dashboardTimings)', async () => {
      const timings = await vscode.commands.executeCommand<{ epoch: number; ms: number }[]>('segscope.debug.dashboardTimings');
      return timings?.find((t) => t.epoch === 1);
    }, WAIT_MS.dashboardEpoch);
    const stall = await vscode.commands.executeCommand<{ longestStallMs: number; samples: number }>('segscope.debug.hostStall');
    console.log(`    longest extension-host stall during the run: ${stall?.longestStallMs} ms over ${stall?.samples} samples`);
  });
});
