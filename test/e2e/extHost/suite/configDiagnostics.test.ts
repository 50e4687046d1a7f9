// A broken segscope.json shows its problem in the Problems panel at the broken value; Start Training refuses it; fixing it clears it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runFolders } from '../../support/runFolder';
import { activateExtension, eventually, scratchFolder } from './workspace';

const BROKEN_VALUE = '"three"';

function brokenConfig(): string {
  return `{
  "name": "broken",
  "data": { "format": "folders", "root": "data" },
  "train": { "epochs": ${BROKEN_VALUE}, "batchSize": 2 }
}
`;
}

function segscopeDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'segscope');
}

describe('segscope.json diagnostics', () => {
  let uri: vscode.Uri;
  let text: string;

  before(async () => {
    await activateExtension();
    const folder = scratchFolder('broken-config');
    const file = path.join(folder, 'segscope.json');
    text = brokenConfig();
    fs.writeFileSync(file, text);
    uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('puts an error on the value of train.epochs', async () => {
    const errors = await eventually('a segscope error diagnostic on segscope.json', () => {
      const found = segscopeDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
      return found.length ? found : undefined;
    });
    const document = await vscode.workspace.openTextDocument(uri);
    const expectedStart = document.positionAt(text.indexOf(BROKEN_VALUE));
    const onValue = errors.find((d) => d.range.start.isEqual(expectedStart));
    assert.ok(onValue, `an error starting at line ${expectedStart.line + 1}, column ${expectedStart.character + 1}; got ${
      errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join(' | ')}`);
    assert.equal(document.getText(onValue.range), BROKEN_VALUE);
  });

  it('VS Code\'s JSON language service flags the same value through the contributed schema (jsonValidation)', async () => {
    const document = await vscode.workspace.openTextDocument(uri);
    const expectedStart = document.positionAt(text.indexOf(BROKEN_VALUE));
    const fromSchema = await eventually('a diagnostic of the JSON language service on train.epochs', () =>
      vscode.languages.getDiagnostics(uri).find((d) => d.source !== 'segscope' && d.range.start.isEqual(expectedStart)), 60_000);
    console.log(`    JSON language service: ${fromSchema.message}`);
  });

  it('Start Training refuses the broken config and starts no run', async () => {
    const started = await vscode.commands.executeCommand('segscope.startTraining', uri);
    assert.equal(started, false);
    assert.deepEqual(runFolders(path.join(path.dirname(uri.fsPath), '.segscope', 'runs')), []);
  });

  it('clears the error once the value is fixed', async () => {
    const document = await vscode.workspace.openTextDocument(uri);
    const start = document.positionAt(text.indexOf(BROKEN_VALUE));
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(start, start.translate(0, BROKEN_VALUE.length)), '3');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    await eventually('the error on train.epochs to go away', () =>
      segscopeDiagnostics(uri).some((d) => d.severity === vscode.DiagnosticSeverity.Error && d.range.start.isEqual(start)) ? undefined : true);
  });
});
