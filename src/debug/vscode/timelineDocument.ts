// The read-only "SegScope Timeline" document (segscope-timeline: URIs): one line per epoch, rewritten as the debugged run goes.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { resolveConfig } from '../../config/resolve';
import { validateConfigText } from '../../config/validate';
import { TIMELINE_SCHEME } from '../breakpoints';
import { CUSTOM_EVENTS } from '../adapter';
import { timelineText, timelineUri } from '../timeline';

export class TimelineDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly texts = new Map<string, string>();

  static register(): vscode.Disposable {
    const provider = new TimelineDocumentProvider();
    return vscode.Disposable.from(
      provider.changed,
      vscode.workspace.registerTextDocumentContentProvider(TIMELINE_SCHEME, provider),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
        if (event.session.type !== 'segscope' || event.event !== CUSTOM_EVENTS.timeline) return;
        const body = event.body as { uri: string; text: string };
        provider.update(vscode.Uri.parse(body.uri), body.text);
      }),
      vscode.commands.registerCommand('segscope.openTimeline', (target?: vscode.Uri) => provider.open(target)),
    );
  }

  update(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const known = this.texts.get(uri.toString());
    if (known !== undefined) return known;
    // Before any run: one pending line per epoch of the config named in the query, so breakpoints can be set ahead.
    try {
      const configPath = decodeURIComponent(uri.query);
      const { config } = validateConfigText(readFileSync(configPath, 'utf8'));
      if (config) return timelineText(resolveConfig(config).train.epochs, new Map());
    } catch {
      // Fall through to the note below.
    }
    return 'Start a SegScope debug session (F5 on segscope.json) to fill in this timeline.\n';
  }

  /** Opens the timeline of a segscope.json (the argument, or the active editor's). */
  private async open(target?: vscode.Uri): Promise<void> {
    const uri = target ?? vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== 'file' || !uri.fsPath.endsWith('segscope.json')) {
      await vscode.window.showInformationMessage('SegScope: open a segscope.json first.');
      return;
    }
    const { config } = validateConfigText(readFileSync(uri.fsPath, 'utf8'));
    const name = config ? resolveConfig(config).name : 'run';
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(timelineUri(name, uri.fsPath)));
    await vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  }
}
