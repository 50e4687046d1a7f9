// Runs the SegScope debug adapter inside the extension host (DebugAdapterInlineImplementation); the trainer it drives is a child process.
import * as vscode from 'vscode';
import path from 'node:path';
import { SegScopeDebugSession } from '../adapter';
import { forkTrainer } from '../trainerChannel';

export class SegScopeAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  static register(context: vscode.ExtensionContext): vscode.Disposable {
    return vscode.debug.registerDebugAdapterDescriptorFactory('segscope', new SegScopeAdapterFactory(context));
  }

  constructor(private readonly context: vscode.ExtensionContext) {}

  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const root = this.context.extensionUri.fsPath;
    const session = new SegScopeDebugSession(forkTrainer(trainerScript(root), { cwd: root }));
    // The debugadapter package's session speaks the same message interface as vscode.DebugAdapter.
    return new vscode.DebugAdapterInlineImplementation(session as unknown as vscode.DebugAdapter);
  }
}

/** dist/trainer.js, unless a test points elsewhere (SEGSCOPE_TRAINER or the segscope.trainerPath setting), as for palette runs. */
function trainerScript(root: string): string {
  const configured = process.env.SEGSCOPE_TRAINER || vscode.workspace.getConfiguration('segscope').get<string>('trainerPath') || '';
  return configured ? path.resolve(root, configured) : path.join(root, 'dist', 'trainer.js');
}
