// Fills in `segscope` debug configurations: F5 with a segscope.json open (no launch.json) trains it under the debugger.
import * as vscode from 'vscode';
import path from 'node:path';

const isSegScopeConfig = (document: vscode.TextDocument | undefined) =>
  document !== undefined && document.uri.scheme === 'file' && path.basename(document.uri.fsPath) === 'segscope.json';

export class SegScopeConfigurationProvider implements vscode.DebugConfigurationProvider {
  static register(): vscode.Disposable {
    const provider = new SegScopeConfigurationProvider();
    return vscode.Disposable.from(
      vscode.debug.registerDebugConfigurationProvider('segscope', provider),
      vscode.debug.registerDebugConfigurationProvider('segscope', provider, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    );
  }

  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    const config = folder ? '${workspaceFolder}/segscope.json' : '${file}';
    return [{ type: 'segscope', request: 'launch', name: 'Train segscope.json', config, stopOnStart: false }];
  }

  async resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const active = vscode.window.activeTextEditor?.document;
    if (!config.type && !config.request && !config.name) {
      // F5 without launch.json: only when a segscope.json is the active editor.
      if (!isSegScopeConfig(active)) return config;
      return { type: 'segscope', request: 'launch', name: 'Train segscope.json', config: active!.uri.fsPath };
    }
    if (!config.config) {
      const found = isSegScopeConfig(active) ? active!.uri
        : (await vscode.workspace.findFiles('**/segscope.json', '**/{node_modules,.segscope,.git}/**', 1))[0];
      if (!found) {
        await vscode.window.showInformationMessage('SegScope: no segscope.json to train. Open one or set "config" in launch.json.');
        return undefined;
      }
      config.config = found.fsPath;
    }
    return config;
  }

  resolveDebugConfigurationWithSubstitutedVariables(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    // User loss/metric modules run only in trusted workspaces.
    config.trust = vscode.workspace.isTrusted;
    return config;
  }
}
