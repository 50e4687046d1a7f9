// Launcher (b) of the extension-host suite, offline: runs the bundled mocha suite in the extension host of the
// VS Code server that run.sh started (E2E_URL), through the workbench's `payload` URL parameter.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runExtensionTests } from '../support/extensionTests';
import { EXT_HOST_SUITE, REPO } from '../support/paths';
import { e2eEnvironment } from '../support/environment';

test('the extension-host suite passes in the VS Code server (payload route)', { timeout: 360_000 }, async () => {
  const { serverUrl, workspacesDir } = e2eEnvironment();
  mkdirSync(workspacesDir, { recursive: true });
  const workspace = mkdtempSync(path.join(workspacesDir, 'exthost-'));
  writeFileSync(path.join(workspace, 'README.md'), 'Workspace of the SegScope extension-host tests.\n');
  const exitCode = await runExtensionTests({
    baseUrl: serverUrl, developmentPaths: [REPO], testsPath: EXT_HOST_SUITE, folder: workspace, timeoutMs: 330_000,
  });
  assert.equal(exitCode, 0, 'exit code of the mocha suite in the extension host (its output is above)');
});
