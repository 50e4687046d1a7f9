// The extension's one training session: owns the trainer controller and the active run's history, and shows them in the status bar, a progress notification, context keys and error notifications.
import * as vscode from 'vscode';
import path from 'node:path';
import type { SegScopeConfig } from '../protocol/config';
import type { RunEvent } from '../protocol/runEvents';
import type { HostToWebview } from '../protocol/webview';
import { DisposableStore } from './dispose';
import { RunHistory } from './runHistory';
import { statusView, progressLine } from './statusText';
import { TrainerController, type StartRequest, type TrainingState } from './trainerController';
import type { TrainerExit } from './trainerExit';
import { forkLauncher } from '../trainer/launcher';
import type { HostStallProbe } from './stallProbe';

export const RESUME_ACTION = 'Resume from last checkpoint';

export class TrainingSession extends DisposableStore {
  readonly controller: TrainerController;
  /** The run the dashboard and hovers show: the live run, or one opened from disk. */
  history: RunHistory | undefined;
  /** The run the trainer is writing (it goes on even while the dashboard shows another run). */
  private liveRun: RunHistory | undefined;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly runChanged = this.own(new vscode.EventEmitter<RunHistory | undefined>());
  private readonly dashboardMessage = this.own(new vscode.EventEmitter<HostToWebview>());
  /** Fired when the active run changes (a new run started, or one was opened). */
  readonly onDidChangeRun = this.runChanged.event;
  /** Messages for the dashboard about the active run. */
  readonly onDashboardMessage = this.dashboardMessage.event;
  private pendingEvents: RunEvent[] | undefined;
  private progressDone: (() => void) | undefined;
  private progressReport: ((line: string, increment?: number) => void) | undefined;
  private totalEpochs: number | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly output: vscode.LogOutputChannel, private readonly stallProbe: HostStallProbe) {
    super();
    this.controller = new TrainerController((events) => {
      const { script, cwd } = this.trainerScript();
      this.output.info(`starting trainer ${script}`);
      return forkLauncher(script, { cwd })(events);
    });
    this.statusItem = this.own(vscode.window.createStatusBarItem('segscope.status', vscode.StatusBarAlignment.Left, 20));
    this.statusItem.name = 'SegScope';
    this.statusItem.command = 'segscope.showDashboard';
    this.own(this.controller.listen({
      onState: (state) => this.stateChanged(state),
      onEvent: (event) => this.runEvent(event),
      onExit: (exit, runDir, request) => void this.trainerExited(exit, runDir, request),
      onLog: (line) => this.output.info(`[trainer] ${line}`),
    }));
    this.own({ dispose: () => this.controller.dispose() });
    this.stateChanged('idle');
    this.statusItem.show();
  }

  /** dist/trainer.js, unless a test points elsewhere (SEGSCOPE_TRAINER or the segscope.trainerPath setting). */
  private trainerScript(): { script: string; cwd: string } {
    const root = this.context.extensionUri.fsPath;
    const configured = process.env.SEGSCOPE_TRAINER || vscode.workspace.getConfiguration('segscope').get<string>('trainerPath') || '';
    const script = configured ? path.resolve(root, configured) : path.join(root, 'dist', 'trainer.js');
    return { script, cwd: root };
  }

  /** Starts a run; the config is already validated. */
  start(request: StartRequest): void {
    this.totalEpochs = request.config.train?.epochs ?? 10;
    this.stallProbe.reset();
    this.controller.start(request);
    this.showProgress(request.config);
  }

  /** Shows a run folder from disk (finished, crashed, or from another machine). */
  async openRun(runDir: string): Promise<RunHistory> {
    if (this.liveRun && path.resolve(this.liveRun.runDir) === path.resolve(runDir)) {
      this.setHistory(this.liveRun);
      return this.liveRun;
    }
    const history = await RunHistory.load(runDir, false);
    this.setHistory(history);
    return history;
  }

  /** Posts a message to the dashboard (used for view/selectLayer and view/selectEpoch). */
  postToDashboard(message: HostToWebview): void {
    this.dashboardMessage.fire(message);
  }

  private setHistory(history: RunHistory | undefined): void {
    this.history = history;
    void vscode.commands.executeCommand('setContext', 'segscope.hasRun', !!history);
    this.runChanged.fire(history);
  }

  private stateChanged(state: TrainingState): void {
    void vscode.commands.executeCommand('setContext', 'segscope.trainingState', state);
    void vscode.commands.executeCommand('setContext', 'segscope.training', state !== 'idle');
    if (this.liveRun?.live) {
      const status = state === 'paused' ? 'paused' : state === 'running' ? 'running' : undefined;
      if (status) this.fireForLive(this.liveRun.setStatus(status));
    }
    this.updateStatus();
  }

  /** Dashboard messages about the live run reach the dashboard only while it shows that run. */
  private fireForLive(messages: HostToWebview[]): void {
    if (this.history !== this.liveRun) return;
    for (const m of messages) this.dashboardMessage.fire(m);
  }

  private updateStatus(): void {
    const view = statusView(this.controller.state, this.liveRun?.live ? this.liveRun.progress : undefined, this.totalEpochs, (this.liveRun ?? this.history)?.info.name);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
  }

  private runEvent(event: RunEvent): void {
    if (event.type === 'run/start') {
      this.pendingEvents = [event];
      this.totalEpochs = event.epochs;
      this.output.info(`run started in ${event.runDir} on ${event.backend.name} (${event.backend.reason})`);
      RunHistory.load(event.runDir, true).then((history) => {
        const queued = this.pendingEvents ?? [];
        this.pendingEvents = undefined;
        for (const e of queued) history.apply(e);
        this.liveRun = history;
        this.setHistory(history);
      }, (error: Error) => {
        this.pendingEvents = undefined;
        this.output.error(`cannot read the new run folder: ${error.message}`);
      });
      return;
    }
    if (this.pendingEvents) { this.pendingEvents.push(event); return; }
    const live = this.liveRun;
    if (!live) return;
    this.fireForLive(live.apply(event));
    switch (event.type) {
      case 'batch/end':
        this.updateStatus();
        this.progressReport?.(progressLine(live.progress, this.totalEpochs));
        return;
      case 'epoch/end': {
        const m = event.metrics;
        this.output.info(`epoch ${m.epoch}: train loss ${m.train.loss.toFixed(4)}, val loss ${m.val.loss.toFixed(4)}, val mIoU ${(m.val.miou * 100).toFixed(1)} %, ${m.durationMs} ms`);
        this.progressReport?.(`epoch ${m.epoch} done · val mIoU ${(m.val.miou * 100).toFixed(1)} %`, this.totalEpochs ? 100 / this.totalEpochs : undefined);
        const stall = this.stallProbe.snapshot();
        this.output.info(`host stall probe: longest stall ${stall.longestStallMs} ms (${stall.longestBusyStallMs} ms of it computing) over ${stall.samples} samples (${stall.overThreshold} over ${stall.thresholdMs} ms)`);
        return;
      }
      case 'finding':
        this.output.warn(`finding ${event.finding.id}: ${event.finding.cause} ${event.finding.fix}`);
        return;
      case 'warning':
        this.output.warn(event.message);
        return;
      case 'data/skipped':
        this.output.warn(`skipped ${event.file}: ${event.why}`);
        return;
      default:
        return;
    }
  }

  private showProgress(config: SegScopeConfig): void {
    void vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification, cancellable: true, title: `SegScope: training ${config.name ?? ''}`.trim(),
    }, (progress, token) => new Promise<void>((resolve) => {
      token.onCancellationRequested(() => this.controller.stop());
      this.progressReport = (message, increment) => progress.report({ message, increment });
      this.progressDone = resolve;
    }));
  }

  private async trainerExited(exit: TrainerExit, runDir: string | undefined, request: StartRequest): Promise<void> {
    this.progressDone?.();
    this.progressDone = undefined;
    this.progressReport = undefined;
    const stall = this.stallProbe.snapshot();
    this.output.info(`trainer exited (${exit.kind}, code ${exit.code}, signal ${exit.signal}); longest host stall during the run: ${stall.longestStallMs} ms (${stall.longestBusyStallMs} ms of it computing)`);
    if (this.liveRun?.live) {
      const status = exit.kind === 'finished' ? 'finished' : exit.kind === 'stopped' ? 'stopped' : 'crashed';
      this.fireForLive(this.liveRun.setStatus(status));
    }
    this.updateStatus();
    if (exit.kind === 'finished' || exit.kind === 'stopped') {
      void vscode.window.showInformationMessage(`SegScope: ${exit.summary}`);
      return;
    }
    this.output.error(`${exit.summary}\n--- last lines of the trainer's stderr ---\n${exit.stderrTail.join('\n')}`);
    const tail = exit.stderrTail.filter((l) => l.trim()).slice(-3).join(' ⏎ ');
    const actions = runDir ? [RESUME_ACTION, 'Show Output'] : ['Show Output'];
    const choice = await vscode.window.showErrorMessage(`SegScope: ${exit.summary}${tail ? ` — ${tail}` : ''}`, ...actions);
    if (choice === 'Show Output') this.output.show(true);
    if (choice === RESUME_ACTION && runDir) this.start({ ...request, resumeRunDir: runDir });
  }
}
