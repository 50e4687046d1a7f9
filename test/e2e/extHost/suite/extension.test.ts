// The extension loads in a real extension host and registers every command its package.json contributes.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension } from './workspace';

describe('SegScope in a real extension host', () => {
  it('activates', async () => {
    const extension = await activateExtension();
    assert.equal(extension.isActive, true);
    console.log(`    VS Code ${vscode.version}, ${vscode.env.appName}, remote ${vscode.env.remoteName ?? 'none'}`);
  });

  it('registers every contributed command', async () => {
    const extension = await activateExtension();
    const contributed: { command: string }[] = extension.packageJSON.contributes?.commands ?? [];
    assert.ok(contributed.length > 0, 'package.json contributes commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], 'contributed commands without a registration');
  });
});
