// Extension entry: creates the output channel, the training session, the dashboard, config and health-finding diagnostics, layer hovers, commands, the debugger and the host-stall probe.
import * as vscode from 'vscode';
import path from 'node:path';
import { registerCommands } from './host/commands';
import { ConfigDiagnostics } from './host/configDiagnostics';
import { DashboardPanel } from './host/dashboardPanel';
import { FindingDiagnostics } from './host/findingDiagnostics';
import { LayerHoverProvider } from './host/layerHoverProvider';
import { PausedEpoch } from './host/pausedEpoch';
import { newestRun } from './host/runFinder';
import { HostStallProbe } from './host/stallProbe';
import { TrainingSession } from './host/trainingSession';
import { validateConfigText } from './config/validate';
import { registerDebugging } from './debug/vscode/registerDebugging';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('SegScope', { log: true });
  const stallProbe = new HostStallProbe(10, 50);
  stallProbe.start();
  const session = new TrainingSession(context, output, stallProbe);
  const diagnostics = ConfigDiagnostics.register();
  context.subscriptions.push(
    output,
    { dispose: () => stallProbe.stop() },
    session,
    diagnostics,
    DashboardPanel.register(context, session),
    FindingDiagnostics.register(session),
    PausedEpoch.register(context, session, output),
    LayerHoverProvider.register(session),
    registerCommands({ context, session, diagnostics, output, stallProbe }),
    registerDebugging(context),
  );
  void vscode.commands.executeCommand('setContext', 'segscope.hasRun', false);
  void showNewestRun(session, output);
}

/** Loads the newest run of the workspace's segscope.json (if any) so hovers and the dashboard have data before any training. */
async function showNewestRun(session: TrainingSession, output: vscode.LogOutputChannel): Promise<void> {
  try {
    const configs = await vscode.workspace.findFiles('**/segscope.json', '**/{node_modules,.segscope,.git}/**', 5);
    for (const uri of configs) {
      const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      const config = validateConfigText(text).config;
      const runDir = await newestRun(path.resolve(path.dirname(uri.fsPath), config?.runsDir ?? '.segscope/runs'));
      if (runDir && !session.history) {
        await session.openRun(runDir);
        output.info(`showing the newest run ${runDir}`);
        return;
      }
    }
  } catch (error) {
    output.warn(`could not look for earlier runs: ${(error as Error).message}`);
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the trainer process is killed there).
}
