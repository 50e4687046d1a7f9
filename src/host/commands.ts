// The palette commands: start/stop/pause/resume training, open a run, choose watch images, create the demo project, show the dashboard, and the debug probes used by the tests.
import * as vscode from 'vscode';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SegScopeConfig } from '../protocol/config';
import { listSplit } from '../engine/data/layout';
import { applyEdit, setJsonValue } from './configEdit';
import { ConfigDiagnostics } from './configDiagnostics';
import { DashboardPanel } from './dashboardPanel';
import { SHOW_LAYER_COMMAND } from './layerHoverProvider';
import type { HostStallProbe } from './stallProbe';
import type { TrainingSession } from './trainingSession';
import { validateConfigText } from '../config/validate';

const CONFIG_GLOB = '**/segscope.json';
const CONFIG_EXCLUDE = '**/{node_modules,.segscope,.git}/**';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  session: TrainingSession;
  diagnostics: ConfigDiagnostics;
  output: vscode.LogOutputChannel;
  stallProbe: HostStallProbe;
}

/** The segscope.json to use: the argument, the active editor, the only one in the workspace, or the user's pick. */
export async function findConfig(uri?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (uri instanceof vscode.Uri) return uri;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && path.basename(active.fsPath) === 'segscope.json') return active;
  const found = await vscode.workspace.findFiles(CONFIG_GLOB, CONFIG_EXCLUDE, 50);
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    const create = 'Create Demo Project';
    const choice = await vscode.window.showWarningMessage('SegScope: no segscope.json in this workspace.', create);
    if (choice === create) await vscode.commands.executeCommand('segscope.createDemoProject');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })), { title: 'SegScope: which segscope.json?' });
  return picked?.uri;
}

async function readConfig(uri: vscode.Uri): Promise<{ document: vscode.TextDocument; config: SegScopeConfig | null }> {
  const document = await vscode.workspace.openTextDocument(uri);
  return { document, config: validateConfigText(document.getText()).config };
}

async function writeConfigValue(uri: vscode.Uri, keyPath: string[], value: unknown): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const text = document.getText();
  const edit = setJsonValue(text, keyPath, value);
  const workspaceEdit = new vscode.WorkspaceEdit();
  workspaceEdit.replace(uri, new vscode.Range(document.positionAt(edit.offset), document.positionAt(edit.offset + edit.length)), edit.newText);
  if (!(await vscode.workspace.applyEdit(workspaceEdit))) throw new Error(`could not edit ${uri.fsPath}`);
  // Sanity check: the edit must give the value back.
  if (validateConfigText(applyEdit(text, edit)).config === null) throw new Error('the edit broke segscope.json');
  await document.save();
}

export function registerCommands(deps: CommandDeps): vscode.Disposable {
  const { context, session, diagnostics, output, stallProbe } = deps;
  const register = (id: string, run: (...args: any[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try { return await run(...args); } catch (error) {
        output.error(`${id}: ${(error as Error).stack ?? error}`);
        void vscode.window.showErrorMessage(`SegScope: ${(error as Error).message}`);
        return undefined;
      }
    });

  const startTraining = async (uri?: vscode.Uri, options?: { resumeRunDir?: string; pauseOnStart?: boolean }) => {
    if (session.controller.busy) {
      void vscode.window.showWarningMessage('SegScope: a training run is already in progress.');
      return false;
    }
    const configUri = await findConfig(uri);
    if (!configUri) return false;
    const document = await vscode.workspace.openTextDocument(configUri);
    if (document.isDirty) await document.save();
    const result = diagnostics.check(document);
    const errors = result.problems.filter((p) => p.severity === 'error');
    if (!result.config || errors.length) {
      const first = errors[0];
      const editor = await vscode.window.showTextDocument(document);
      if (first) {
        const range = new vscode.Range(document.positionAt(first.offset), document.positionAt(first.offset + first.length));
        editor.selection = new vscode.Selection(range.start, range.end);
        editor.revealRange(range);
      }
      void vscode.window.showErrorMessage(`SegScope: segscope.json has ${errors.length} error${errors.length === 1 ? '' : 's'}: ${first?.message ?? 'not valid'}`, 'Show Problems')
        .then((c) => { if (c) void vscode.commands.executeCommand('workbench.actions.view.problems'); });
      return false;
    }
    session.start({ configPath: configUri.fsPath, config: result.config, trust: vscode.workspace.isTrusted, ...options });
    if (vscode.workspace.getConfiguration('segscope').get<boolean>('openDashboardOnStart', true)) DashboardPanel.show(context, session, true);
    return true;
  };

  return vscode.Disposable.from(
    register('segscope.startTraining', startTraining),
    register('segscope.stopTraining', () => session.controller.stop()),
    register('segscope.pauseTraining', () => session.controller.pause()),
    register('segscope.resumeTraining', () => session.controller.resume()),
    register('segscope.showDashboard', () => { DashboardPanel.show(context, session); }),

    register('segscope.openRun', async (uri?: vscode.Uri) => {
      let runDir = uri instanceof vscode.Uri ? uri.fsPath : typeof uri === 'string' ? uri : undefined;
      if (!runDir) {
        const folders = vscode.workspace.workspaceFolders;
        const defaultUri = folders?.length ? vscode.Uri.joinPath(folders[0].uri, '.segscope', 'runs') : undefined;
        const picked = await vscode.window.showOpenDialog({
          canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Open Run',
          title: 'SegScope: choose a run folder (it holds run.json)', defaultUri: defaultUri && existsSync(defaultUri.fsPath) ? defaultUri : undefined,
        });
        runDir = picked?.[0]?.fsPath;
      }
      if (!runDir) return;
      if (path.basename(runDir) === 'run.json') runDir = path.dirname(runDir);
      await session.openRun(runDir);
      DashboardPanel.show(context, session);
    }),

    register('segscope.chooseWatchImages', async (images?: string[]) => {
      const configUri = await findConfig();
      if (!configUri) return;
      const { config } = await readConfig(configUri);
      if (!config?.data) throw new Error('segscope.json has no valid "data" section');
      let chosen = Array.isArray(images) ? images : undefined;
      if (!chosen) {
        const root = path.resolve(path.dirname(configUri.fsPath), config.data.root ?? '.');
        const listing = listSplit({ format: config.data.format ?? 'voc', imagesDir: config.data.imagesDir ?? 'images', masksDir: config.data.masksDir ?? 'masks' },
          root, config.data.valSplit ?? 'val');
        const current = new Set(config.watch?.images ?? []);
        const picks = await vscode.window.showQuickPick(listing.samples.map((s) => ({
          label: s.id, description: current.has(s.id) ? 'watched' : undefined, picked: current.has(s.id), iconPath: vscode.Uri.file(s.image),
        })), { canPickMany: true, title: `SegScope: images to watch after each epoch (${listing.samples.length} in ${config.data.valSplit ?? 'val'})`, matchOnDescription: true });
        if (!picks) return;
        chosen = picks.map((p) => p.label);
      }
      await writeConfigValue(configUri, ['watch', 'images'], chosen);
      void vscode.window.showInformationMessage(`SegScope: watching ${chosen.length} image${chosen.length === 1 ? '' : 's'} from the next run on.`);
    }),

    register('segscope.watchLayer', async (layer: string) => {
      const configUri = await findConfig();
      if (!configUri || typeof layer !== 'string') return;
      const { config } = await readConfig(configUri);
      const layers = new Set(config?.watch?.layers ?? []);
      layers.add(layer);
      await writeConfigValue(configUri, ['watch', 'layers'], [...layers]);
    }),

    register('segscope.createDemoProject', async (target?: vscode.Uri | string) => {
      let folder = target instanceof vscode.Uri ? target.fsPath : typeof target === 'string' ? target : undefined;
      if (!folder) {
        const base = vscode.workspace.workspaceFolders?.[0]?.uri;
        if (base) folder = path.join(base.fsPath, 'demo-data');
        else {
          const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Create Demo Project Here' });
          if (!picked?.[0]) return;
          folder = path.join(picked[0].fsPath, 'demo-data');
        }
      }
      const configPath = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'SegScope: writing the demo dataset…' },
        () => makeDemoProject(context, folder!, output));
      const document = await vscode.workspace.openTextDocument(configPath);
      await vscode.window.showTextDocument(document);
      return configPath;
    }),

    register(SHOW_LAYER_COMMAND, (layer: string) => {
      DashboardPanel.show(context, session);
      session.postToDashboard({ type: 'view/selectLayer', layer });
    }),

    register('segscope.debug.hostStall', (options?: { reset?: boolean }) => {
      const report = stallProbe.snapshot();
      output.info(`host stall probe: longest stall ${report.longestStallMs} ms (${report.longestBusyStallMs} ms of it computing) over ${report.samples} samples (${report.overThreshold} over ${report.thresholdMs} ms)`);
      if (options?.reset) stallProbe.reset();
      return report;
    }),

    register('segscope.debug.dashboardTimings', () => [...DashboardPanel.renderTimings]),
  );
}

/** Writes the demo dataset with the CLI bundle in a child process (keeps the host thread free); returns the segscope.json path. */
function makeDemoProject(context: vscode.ExtensionContext, folder: string, output: vscode.LogOutputChannel): Promise<string> {
  const cli = path.join(context.extensionUri.fsPath, 'dist', 'cli.js');
  if (!existsSync(cli)) return Promise.reject(new Error(`the CLI bundle ${cli} is missing (run the build)`));
  return new Promise((resolve, reject) => {
    const child = fork(cli, ['make-demo-data', folder], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (t: string) => output.info(`[demo] ${t.trimEnd()}`));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => { stderr += t; output.warn(`[demo] ${t.trimEnd()}`); });
    child.on('error', reject);
    child.on('exit', (code) => {
      const configPath = path.join(folder, 'segscope.json');
      if (code === 0 && existsSync(configPath)) resolve(configPath);
      else reject(new Error(`make-demo-data failed (exit ${code}): ${stderr.trim().split('\n').slice(-2).join(' ')}`));
    });
  });
}
