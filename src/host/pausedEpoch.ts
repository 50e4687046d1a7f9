// When a SegScope debug session stops, the dashboard shows that run (read again from its folder) at the paused epoch.
import * as vscode from 'vscode';
import path from 'node:path';
import { CUSTOM_EVENTS } from '../debug/adapter';
import { DashboardPanel } from './dashboardPanel';
import type { TrainingSession } from './trainingSession';

/** Body of the adapter's `segscope.stopped` event (see docs/debugging.md). */
interface StoppedBody {
  runDir: string;
  configPath: string;
  epoch: number;
  batch: number;
  step: number;
  reason: string;
}

export class PausedEpoch {
  static register(context: vscode.ExtensionContext, session: TrainingSession, output: vscode.LogOutputChannel): vscode.Disposable {
    return vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
      if (event.session.type !== 'segscope' || event.event !== CUSTOM_EVENTS.stopped) return;
      void PausedEpoch.show(context, session, event.body as StoppedBody).catch((error: Error) =>
        output.warn(`could not show the paused epoch in the dashboard: ${error.message}`));
    });
  }

  /**
   * The debugged run is not the session's live run, so its folder is read again at each stop (new epochs, new findings).
   * The stop lands at a batch boundary; before the first epoch ends there is no epoch to select.
   */
  private static async show(context: vscode.ExtensionContext, session: TrainingSession, stop: StoppedBody): Promise<void> {
    const live = session.history?.live && path.resolve(session.history.runDir) === path.resolve(stop.runDir);
    const history = live ? session.history! : await session.openRun(stop.runDir);
    DashboardPanel.show(context, session, true);
    const shown = [...history.epochs].reverse().find((e) => e.epoch <= stop.epoch);
    if (shown) session.postToDashboard({ type: 'view/selectEpoch', epoch: shown.epoch });
  }
}
