// The run dashboard webview panel: strict-CSP page, ready/state handshake, live updates from the training session, and restore after a window reload.
import * as vscode from 'vscode';
import path from 'node:path';
import { assertNever } from '../protocol/rpc';
import type { HostToWebview, WebviewToHost } from '../protocol/webview';
import { dashboardHtml, makeNonce } from './dashboardHtml';
import { DisposableStore } from './dispose';
import type { TrainingSession } from './trainingSession';

export const DASHBOARD_VIEW_TYPE = 'segscope.dashboard';

/** What the webview keeps in getState/setState that the host reads back on restore. */
interface RestoredState {
  runDir?: string;
}

/** Timings the page reported (epoch arrival → drawn), for the benchmark and the e2e tests. */
export interface RenderTiming {
  epoch: number;
  ms: number;
}

export class DashboardPanel extends DisposableStore {
  private static current: DashboardPanel | undefined;
  static readonly renderTimings: RenderTiming[] = [];
  private runDir: string | undefined;
  private ready = false;
  /** Page errors are shown once per panel (a broken run folder would otherwise repeat them on every repaint). */
  private errorShown = false;
  /** view/* requests (select an epoch or layer) that came while the page was loading or hidden: sent after the state. */
  private readonly pendingView = new Map<string, HostToWebview>();

  static register(context: vscode.ExtensionContext, session: TrainingSession): vscode.Disposable {
    const subscriptions = [
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: RestoredState | undefined) => {
          if (!session.history && state?.runDir) {
            try { await session.openRun(state.runDir); } catch { /* the run folder is gone: show an empty dashboard */ }
          }
          DashboardPanel.current?.dispose();
          DashboardPanel.current = new DashboardPanel(panel, context, session);
        },
      }),
      // A new live run or an opened run is shown in the dashboard if it is open.
      session.onDidChangeRun(() => DashboardPanel.current?.showRun()),
    ];
    return vscode.Disposable.from(...subscriptions, { dispose: () => DashboardPanel.current?.dispose() });
  }

  /** Opens the dashboard (or brings it to the front). */
  static show(context: vscode.ExtensionContext, session: TrainingSession, preserveFocus = false): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal(undefined, preserveFocus);
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'SegScope', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, {
      enableScripts: true,
      localResourceRoots: DashboardPanel.resourceRoots(context, session.history?.runDir),
    });
    DashboardPanel.current = new DashboardPanel(panel, context, session);
    return DashboardPanel.current;
  }

  static get isOpen(): boolean {
    return !!DashboardPanel.current;
  }

  private static resourceRoots(context: vscode.ExtensionContext, runDir: string | undefined): vscode.Uri[] {
    const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')];
    if (runDir) roots.push(vscode.Uri.file(runDir));
    return roots;
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly context: vscode.ExtensionContext, private readonly session: TrainingSession) {
    super();
    this.panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'segscope.svg');
    this.own(panel.onDidDispose(() => this.dispose()));
    this.own(panel.webview.onDidReceiveMessage((m: WebviewToHost) => this.received(m)));
    this.own(panel.onDidChangeViewState((e) => { if (e.webviewPanel.visible && this.ready) this.postState(); }));
    this.own(session.onDashboardMessage((m) => this.post(m)));
    this.showRun();
  }

  /** Loads the page for the session's active run (again if the run folder changed: the resource roots must include it). */
  showRun(): void {
    const runDir = this.session.history?.runDir;
    if (runDir && runDir === this.runDir && this.ready) { this.postState(); return; }
    this.runDir = runDir;
    this.ready = false;
    this.panel.title = this.session.history ? `SegScope: ${this.session.history.info.name}` : 'SegScope';
    this.panel.webview.options = { enableScripts: true, localResourceRoots: DashboardPanel.resourceRoots(this.context, runDir) };
    this.panel.webview.html = this.html();
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...parts)).toString();
    return dashboardHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset('dist', 'webview.js'),
      styleUris: [asset('dist', 'webview.css'), asset('media', 'dashboard.css')],
      boot: { runDir: this.runDir ?? null },
    });
  }

  private postState(): void {
    const history = this.session.history;
    const run = history ? { ...history.toDashboard(this.panel.webview.asWebviewUri(vscode.Uri.file(history.runDir)).toString()), runDir: history.runDir } : null;
    void this.panel.webview.postMessage({ type: 'run/state', run } satisfies HostToWebview);
    for (const message of this.pendingView.values()) void this.panel.webview.postMessage(message);
    this.pendingView.clear();
  }

  private post(message: HostToWebview): void {
    if (!this.ready || !this.panel.visible) {
      if (message.type.startsWith('view/')) this.pendingView.set(message.type, message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  private received(message: WebviewToHost): void {
    switch (message.type) {
      case 'ui/ready':
        this.ready = true;
        this.postState();
        return;
      case 'watch/setImages':
        void vscode.commands.executeCommand('segscope.chooseWatchImages', message.images);
        return;
      case 'watch/addLayer':
        void vscode.commands.executeCommand('segscope.watchLayer', message.layer);
        return;
      case 'layer/reveal':
        void this.revealLayer(message.layer);
        return;
      case 'perf/rendered':
        DashboardPanel.renderTimings.push({ epoch: message.epoch, ms: message.ms });
        if (DashboardPanel.renderTimings.length > 1000) DashboardPanel.renderTimings.shift();
        return;
      case 'ui/error':
        console.warn(`SegScope dashboard: ${message.message}`);
        if (!this.errorShown) {
          this.errorShown = true;
          void vscode.window.showWarningMessage(`SegScope dashboard: ${message.message}`);
        }
        return;
      default:
        assertNever(message, 'webview message');
    }
  }

  /** Opens segscope.json (or the model file) at the first mention of the layer. */
  private async revealLayer(layer: string): Promise<void> {
    const info = this.session.history?.info;
    if (!info) return;
    const candidates = [info.configPath, info.config.model?.path ? path.resolve(path.dirname(info.configPath), info.config.model.path) : undefined];
    for (const file of candidates) {
      if (!file) continue;
      try {
        const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
        const index = document.getText().indexOf(JSON.stringify(layer));
        if (index < 0) continue;
        const range = new vscode.Range(document.positionAt(index), document.positionAt(index + layer.length + 2));
        await vscode.window.showTextDocument(document, { selection: range, viewColumn: vscode.ViewColumn.One });
        return;
      } catch { /* file gone: try the next */ }
    }
    void vscode.window.showInformationMessage(`SegScope: "${layer}" is not named in ${path.basename(info.configPath)}; it comes from the built-in architecture.`);
  }

  override dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    super.dispose();
    this.panel.dispose();
  }
}
