// Launcher (a) of the extension-host suite: @vscode/test-electron's runTests(). On a developer laptop it downloads
// VS Code; offline, SEGSCOPE_VSCODE_EXECUTABLE points it at codeShim.sh, which runs the same suite in the VS Code server.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { CACHE, EXT_HOST_SUITE, REPO } from '../support/paths';

async function main(): Promise<void> {
  mkdirSync(path.join(CACHE, 'tmp'), { recursive: true });
  const scratch = mkdtempSync(path.join(CACHE, 'tmp', 'test-electron-'));
  const workspace = path.join(scratch, 'workspace');
  mkdirSync(workspace);
  writeFileSync(path.join(workspace, 'README.md'), 'Workspace of the SegScope extension-host tests.\n');
  await runTests({
    vscodeExecutablePath: process.env.SEGSCOPE_VSCODE_EXECUTABLE || undefined,
    version: '1.100.3', // the VS Code inside code-server 4.100.3, used by the offline route
    cachePath: path.join(CACHE, 'vscode-test'),
    extensionDevelopmentPath: REPO,
    extensionTestsPath: EXT_HOST_SUITE,
    launchArgs: [workspace, `--user-data-dir=${path.join(scratch, 'user-data')}`, `--extensions-dir=${path.join(scratch, 'extensions')}`],
  });
}

main().catch((error: unknown) => {
  console.error('runTestElectron: the extension-host suite failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
