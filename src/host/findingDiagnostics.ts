// Shows the health findings of the active run (live, opened with Open Run…, or paused under the debugger) in the Problems panel, on that run's segscope.json at the key each finding names.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Finding, Severity } from '../protocol/runEvents';
import { lineAndCharacter } from '../config/validate';
import { DisposableStore } from './dispose';
import { findingSpan } from './findingLocation';
import type { RunHistory } from './runHistory';
import type { TrainingSession } from './trainingSession';

export const FINDING_SOURCE = 'segscope health';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export class FindingDiagnostics extends DisposableStore {
  private readonly collection = this.own(vscode.languages.createDiagnosticCollection('segscope-health'));
  private configUri: vscode.Uri | undefined;
  /** One finding per id (a run reports each id once; a repeat only adds evidence), in arrival order. */
  private readonly findings = new Map<string, Finding>();
  /** Bumped by every change of run, so a slow file read of an earlier run cannot overwrite a newer one. */
  private generation = 0;

  static register(session: TrainingSession): FindingDiagnostics {
    const diagnostics = new FindingDiagnostics();
    diagnostics.own(session.onDidChangeRun((history) => diagnostics.showRun(history)));
    // Live findings reach the dashboard's message stream only while it shows the live run, which is the run shown here.
    diagnostics.own(session.onDashboardMessage((message) => {
      if (message.type === 'finding/added') diagnostics.add(message.finding);
    }));
    // Keep the ranges on their keys while the file is edited.
    diagnostics.own(vscode.workspace.onDidChangeTextDocument((e) => {
      if (diagnostics.configUri && e.document.uri.toString() === diagnostics.configUri.toString()) void diagnostics.publish();
    }));
    if (session.history) diagnostics.showRun(session.history);
    return diagnostics;
  }

  /** Replaces the shown findings with those of a run (none: clears them). */
  showRun(history: RunHistory | undefined): void {
    this.generation++;
    this.collection.clear();
    this.findings.clear();
    this.configUri = history ? vscode.Uri.file(path.resolve(history.runDir, history.info.configPath)) : undefined;
    for (const finding of history?.findings ?? []) this.findings.set(finding.id, finding);
    void this.publish();
  }

  private add(finding: Finding): void {
    this.findings.set(finding.id, finding);
    void this.publish();
  }

  private async publish(): Promise<void> {
    const uri = this.configUri;
    if (!uri) return;
    const generation = this.generation;
    const text = await configText(uri);
    if (generation !== this.generation || this.isDisposed) return;
    const position = (offset: number) => {
      const { line, character } = lineAndCharacter(text, offset);
      return new vscode.Position(line, character);
    };
    this.collection.set(uri, [...this.findings.values()].map((finding) => {
      const span = findingSpan(text, finding.location);
      const diagnostic = new vscode.Diagnostic(new vscode.Range(position(span.offset), position(span.offset + span.length)),
        `${finding.cause} ${finding.fix}`, SEVERITY[finding.severity]);
      diagnostic.source = FINDING_SOURCE;
      diagnostic.code = finding.id;
      return diagnostic;
    }));
  }
}

/** The open editor's text (it may be unsaved), else the file's; '' when the file is gone (another machine's run). */
async function configText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return await readFile(uri.fsPath, 'utf8');
  } catch {
    return '';
  }
}

