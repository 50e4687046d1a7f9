// Shows segscope.json problems in the Problems panel at the exact key or value, updated as the user types.
import * as vscode from 'vscode';
import path from 'node:path';
import { validateConfigText, type ConfigProblem, type ValidationResult } from '../config/validate';
import { DisposableStore } from './dispose';

const SEVERITY: Record<ConfigProblem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function isSegScopeConfig(uri: vscode.Uri): boolean {
  return path.basename(uri.fsPath) === 'segscope.json';
}

export class ConfigDiagnostics extends DisposableStore {
  private readonly collection = this.own(vscode.languages.createDiagnosticCollection('segscope'));
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  static register(): ConfigDiagnostics {
    const diagnostics = new ConfigDiagnostics();
    diagnostics.own(vscode.workspace.onDidOpenTextDocument((d) => diagnostics.schedule(d, 0)));
    diagnostics.own(vscode.workspace.onDidChangeTextDocument((e) => diagnostics.schedule(e.document, 200)));
    diagnostics.own(vscode.workspace.onDidCloseTextDocument((d) => { if (isSegScopeConfig(d.uri)) diagnostics.collection.delete(d.uri); }));
    for (const d of vscode.workspace.textDocuments) diagnostics.schedule(d, 0);
    return diagnostics;
  }

  private schedule(document: vscode.TextDocument, delayMs: number): void {
    if (!isSegScopeConfig(document.uri)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); this.check(document); }, delayMs));
  }

  /** Validates a document now, publishes its diagnostics and returns the result (used by Start Training). */
  check(document: vscode.TextDocument): ValidationResult {
    const result = validateConfigText(document.getText());
    this.collection.set(document.uri, result.problems.map((p) => {
      const range = new vscode.Range(document.positionAt(p.offset), document.positionAt(p.offset + p.length));
      const diagnostic = new vscode.Diagnostic(range, p.message, SEVERITY[p.severity]);
      diagnostic.source = 'segscope';
      if (p.path.length) diagnostic.code = p.path.join('.');
      return diagnostic;
    }));
    return result;
  }

  override dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    super.dispose();
  }
}
